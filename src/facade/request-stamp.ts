// The request stamps a write through the API puts on a Server: who asked for which action, under
// which request id — one annotation per request (REQUEST_STAMP_PREFIX + request id), so two
// requests made before the controller looks are both recorded. The controller turns each into an
// instance action; the next write removes the stamps already recorded (docs/adr/009).
import type { FastifyRequest } from 'fastify';
import { REQUEST_STAMP_PREFIX } from '../api/labels.ts';
import type { Server } from '../api/server.ts';
import { isStampKey, parseStamp } from '../nova/instance-actions.ts';

/**
 * The annotations (a merge patch) that stamp this request with `action`, an instance-action name
 * (nova/actions.ts `instanceActionOf`), and drop the stamps `current` already has recorded.
 */
export function stampAnnotations(req: FastifyRequest, action: string, current?: Server): Record<string, string | null> {
  const recorded = new Set((current?.status?.instanceActions ?? []).map((a) => a.requestId));
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(current?.metadata.annotations ?? {})) {
    if (isStampKey(k) && recorded.has(parseStamp(v)?.requestId ?? '')) out[k] = null;
  }
  const at = Date.now();
  out[`${REQUEST_STAMP_PREFIX}${req.requestId}`] = JSON.stringify({
    requestId: req.requestId, action, userId: req.nova.caller.user, projectId: req.nova.project?.id ?? '',
    at: new Date(at).toISOString().replace(/\.\d+Z$/, 'Z'), seq: at,
  });
  return out;
}
