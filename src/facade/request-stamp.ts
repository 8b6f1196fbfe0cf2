// The request stamp (REQUEST_ANNOTATION) a write through the API puts on a Server: who asked for
// which action, under which request id. The controller turns it into an instance action.
import type { FastifyRequest } from 'fastify';

/** The stamp for `action`, an instance-action name (nova/actions.ts `instanceActionOf`). */
export function requestStamp(req: FastifyRequest, action: string): string {
  return JSON.stringify({ requestId: req.requestId, action, userId: req.nova.caller.user, projectId: req.nova.project?.id ?? '', at: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
}
