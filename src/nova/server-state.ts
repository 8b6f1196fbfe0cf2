// A Server as Nova's state rules see it (vm_state, task_state, launched, locked), for the façade's
// synchronous checks and the controller's refusals alike. Pure.
import type { Server } from '../api/server.ts';
import { ruleOf, ruleOfInstanceAction, type ServerState, type VmState } from './actions.ts';
import { stampsOf, unrecordedStamps } from './instance-actions.ts';

/** Task states that show as a status of their own (Nova's state map). */
const TASK_STATUS: Record<string, string> = {
  rebooting: 'REBOOT', rebooting_hard: 'HARD_REBOOT', rebuilding: 'REBUILD', resize_prep: 'RESIZE', migrating: 'MIGRATING', resize_reverting: 'REVERT_RESIZE', updating_password: 'PASSWORD',
};

/**
 * Nova sets task_state in the API before it answers, so a client polling with `--wait` never sees
 * the old state as "done". Kova's controller sets it a moment later; until it has seen the request
 * (observedGeneration behind generation), the status shows the task the request's action sets.
 */
export function withPendingTask(s: Server): NonNullable<Server['status']> {
  const st = s.status ?? {};
  if (st.observedGeneration === undefined || st.observedGeneration === s.metadata.generation) return st;
  // The newest request not yet recorded whose action sets a task.
  const task = unrecordedStamps(stampsOf(s.metadata.annotations), st.instanceActions).reverse()
    .map((stamp) => ruleOf(ruleOfInstanceAction(stamp.action, s.spec.reboot?.type) ?? '')?.sets)
    .find((t) => !!t);
  if (!task || task === 'deleting') return st;
  return { ...st, taskState: task, status: (TASK_STATUS[task] as typeof st.status) ?? st.status };
}

/**
 * The state the rules check. The API sees a request's task as soon as it is made (`pending`); the
 * controller sees the status it wrote, or the error a reset forces (`resetToError`).
 */
export function serverState(s: Server, o: { pending?: boolean; resetToError?: boolean } = {}): ServerState {
  const st = o.pending ? withPendingTask(s) : s.status ?? {};
  return {
    id: s.metadata.uid ?? '',
    vmState: o.resetToError ? 'error' : ((st.vmState ?? 'building') as VmState),
    taskState: o.resetToError ? null : st.taskState ?? null,
    launched: !!st.launchedAt,
    locked: s.spec.locked === true,
  };
}
