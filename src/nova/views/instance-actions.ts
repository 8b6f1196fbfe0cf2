// Nova's os-instance-actions views per microversion. Pure.
import type { InstanceAction } from '../instance-actions.ts';
import { naiveTime, pageBody, type Page, type ViewContext } from './links.ts';
import { createHash } from 'node:crypto';

export function instanceActionSummary(c: ViewContext, serverId: string, a: InstanceAction): Record<string, unknown> {
  return {
    action: a.action,
    instance_uuid: serverId,
    request_id: a.requestId,
    user_id: a.userId ?? '',
    project_id: a.projectId ?? '',
    start_time: naiveTime(a.startTime),
    ...(c.version.atLeast('2.58') ? { updated_at: naiveTime(a.updatedAt ?? a.startTime) } : {}),
    message: a.message ?? null,
  };
}

export function instanceActionDetail(c: ViewContext, serverId: string, a: InstanceAction): Record<string, unknown> {
  const v = c.version;
  return {
    ...instanceActionSummary(c, serverId, a),
    // Events are shown to everyone from 2.51 (without traceback), to admins before.
    ...(c.admin || v.atLeast('2.51')
      ? {
          events: (a.events ?? []).map((e) => ({
            event: e.event,
            start_time: naiveTime(e.startTime),
            finish_time: naiveTime(e.finishTime),
            result: e.result ?? null,
            ...(c.admin ? { traceback: null } : {}),
            ...(v.atLeast('2.62') ? { ...(c.admin ? { host: e.host ?? '' } : {}), hostId: e.host ? createHash('sha224').update(a.projectId + e.host).digest('hex') : '' } : {}),
            ...(v.atLeast('2.84') ? { details: null } : {}),
          })),
        }
      : {}),
  };
}

/** GET /servers/{id}/os-instance-actions: newest first; from 2.58 a page, with `links` when full. */
export const instanceActionList = (c: ViewContext, serverId: string, p: Page<InstanceAction>, query: Record<string, unknown>): Record<string, unknown> =>
  pageBody(c, 'instanceActions', p, (a) => instanceActionSummary(c, serverId, a), { path: `servers/${serverId}/os-instance-actions`, query, idOf: (a) => a.requestId }, 'links');

export const instanceActionShown = (c: ViewContext, serverId: string, a: InstanceAction) => ({ instanceAction: instanceActionDetail(c, serverId, a) });
