// Nova's instance actions from the requests the Compute API made of a server. Pure.
import { REQUEST_ANNOTATION, REQUEST_STAMP_PREFIX } from '../api/labels.ts';
import type { ServerStatus } from '../api/server.ts';

export type InstanceAction = NonNullable<ServerStatus['instanceActions']>[number];

export interface RequestStamp {
  requestId: string;
  action: string;
  userId: string;
  projectId: string;
  at: string;
  /** Milliseconds since the epoch: the order of two requests made within a second. */
  seq?: number;
}

/** Actions the compute side carries out, and the event Nova records for each. */
const COMPUTE_EVENTS: Record<string, string> = {
  create: 'compute__do_build_and_run_instance',
  stop: 'compute_stop_instance',
  start: 'compute_start_instance',
  reboot: 'compute_reboot_instance',
  pause: 'compute_pause_instance',
  unpause: 'compute_unpause_instance',
  suspend: 'compute_suspend_instance',
  resume: 'compute_resume_instance',
  changePassword: 'compute_set_admin_password',
};

export const MAX_INSTANCE_ACTIONS = 50;

export function parseStamp(text: string | undefined): RequestStamp | undefined {
  if (!text) return undefined;
  try {
    const s = JSON.parse(text) as Partial<RequestStamp>;
    return s.requestId && s.action && s.at ? { requestId: s.requestId, action: s.action, userId: s.userId ?? '', projectId: s.projectId ?? '', at: s.at, ...(typeof s.seq === 'number' ? { seq: s.seq } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an annotation key holds a request stamp (one per request, or the single one of old). */
export const isStampKey = (key: string): boolean => key === REQUEST_ANNOTATION || key.startsWith(REQUEST_STAMP_PREFIX);

/**
 * Every request the Compute API stamped on a server, oldest first. Each request has its own
 * annotation, so two requests made before the controller looks are both recorded.
 */
export function stampsOf(annotations: Record<string, string> | undefined): RequestStamp[] {
  const out: RequestStamp[] = [];
  for (const [k, v] of Object.entries(annotations ?? {})) {
    const s = isStampKey(k) ? parseStamp(v) : undefined;
    if (s) out.push(s);
  }
  return out.sort((a, b) => a.at.localeCompare(b.at) || (a.seq ?? 0) - (b.seq ?? 0));
}

/**
 * The stamps not yet recorded as instance actions, oldest first. (Once the bounded list is full, a
 * stamp older than its oldest entry was recorded and has since dropped off: not new.)
 */
export function unrecordedStamps(stamps: RequestStamp[], recorded: InstanceAction[] | undefined): RequestStamp[] {
  const ids = new Set((recorded ?? []).map((a) => a.requestId));
  const floor = (recorded?.length ?? 0) >= MAX_INSTANCE_ACTIONS ? recorded?.at(-1)?.startTime ?? '' : '';
  return stamps.filter((s) => !ids.has(s.requestId) && s.at >= floor);
}

/**
 * The instance-action list after this reconcile: a new request becomes an action (with its compute
 * event, when it has one); the open event of the newest action is finished once the server is where
 * that action takes it — Success — or went to ERROR — Error.
 */
export function nextInstanceActions(
  prev: InstanceAction[] | undefined,
  stamp: RequestStamp | undefined,
  now: { time: string; reached: (action: string) => boolean; error: boolean | ((requestId: string) => boolean); host?: string },
): InstanceAction[] {
  let list = [...(prev ?? [])];
  if (stamp && !list.some((a) => a.requestId === stamp.requestId)) {
    const event = COMPUTE_EVENTS[stamp.action];
    list.unshift({
      action: stamp.action,
      requestId: stamp.requestId,
      userId: stamp.userId,
      projectId: stamp.projectId,
      startTime: stamp.at,
      updatedAt: stamp.at,
      events: event ? [{ event, startTime: stamp.at }] : [],
    });
  }
  const top = list[0];
  const open = top?.events?.find((e) => !e.finishTime);
  const error = top ? (typeof now.error === 'function' ? now.error(top.requestId) : now.error) : false;
  if (open && top && (error || now.reached(top.action))) {
    list[0] = {
      ...top,
      updatedAt: now.time,
      events: top.events?.map((e) => (e === open ? { ...e, finishTime: now.time, result: error ? 'Error' : 'Success', ...(now.host ? { host: now.host } : {}) } : e)),
    };
  }
  if (list.length > MAX_INSTANCE_ACTIONS) list = list.slice(0, MAX_INSTANCE_ACTIONS);
  return list;
}
