/** GET /status (the node's view of the cluster) and GET /health (liveness). */
import type { IRouter } from 'express';
import type { DatabaseService } from './service';
import { reply } from './reply';

export function statusRoutes(router: IRouter, service: DatabaseService): void {
  router.get('/status', (_request, response) => {
    reply(response, 200, service.status());
  });
  router.get('/health', (_request, response) => {
    const status = service.status();
    reply(response, 200, { ok: true, id: status.id, role: status.role, term: status.term });
  });
}
