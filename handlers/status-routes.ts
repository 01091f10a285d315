/** GET /status (the node's view of the cluster) and GET /health (liveness). */
import type { IRouter } from 'express';
import type { DatabaseService } from './service';

export function statusRoutes(router: IRouter, service: DatabaseService): void {
  router.get('/status', (_request, response) => {
    response.status(200).json(service.status());
  });
  router.get('/health', (_request, response) => {
    const status = service.status();
    response.status(200).json({ ok: true, id: status.id, role: status.role, term: status.term });
  });
}
