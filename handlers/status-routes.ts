/**
 * GET /status (the node's view of the cluster), GET /health (liveness: the
 * process answers) and GET /ready (readiness: it serves the cluster's data).
 */
import type { IRouter } from 'express';
import { DdbError } from '../utils/errors';
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
  router.get('/ready', (_request, response) => {
    const status = service.status();
    const readiness = service.readiness();
    const facts = { id: status.id, role: status.role, master_id: status.master_id, applied_index: status.applied_index };
    if (!readiness.ready) throw new DdbError('NOT_READY', readiness.reason, facts);
    reply(response, 200, { ready: true, ...facts });
  });
}
