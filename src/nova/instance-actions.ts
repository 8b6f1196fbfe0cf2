// Nova's instance actions from the requests the Compute API made of a server. Pure.
import type { ServerStatus } from '../api/server.ts';

export type InstanceAction = NonNullable<ServerStatus['instanceActions']>[number];

export interface RequestStamp {
  requestId: string;
  action: string;
  userId: string;
  projectId: string;
  at: string;
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
    return s.requestId && s.action && s.at ? { requestId: s.requestId, action: s.action, userId: s.userId ?? '', projectId: s.projectId ?? '', at: s.at } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The instance-action list after this reconcile: a new request becomes an action (with its compute
 * event, when it has one); the open event of the newest action is finished once the server is where
 * that action takes it — Success — or went to ERROR — Error.
 */
export function nextInstanceActions(
  prev: InstanceAction[] | undefined,
  stamp: RequestStamp | undefined,
  now: { time: string; reached: (action: string) => boolean; error: boolean; host?: string },
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
  const open = list[0]?.events?.find((e) => !e.finishTime);
  if (open && list[0] && (now.error || now.reached(list[0].action))) {
    list[0] = {
      ...list[0],
      updatedAt: now.time,
      events: list[0].events?.map((e) => (e === open ? { ...e, finishTime: now.time, result: now.error ? 'Error' : 'Success', ...(now.host ? { host: now.host } : {}) } : e)),
    };
  }
  if (list.length > MAX_INSTANCE_ACTIONS) list = list.slice(0, MAX_INSTANCE_ACTIONS);
  return list;
}
