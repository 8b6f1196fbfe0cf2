// Nova's state rules for server actions (nova/compute/api.py @check_instance_state and
// @check_instance_lock; reference §c). Pure: the façade and the controller ask the same questions.
import { NovaError } from './faults.ts';

export type VmState =
  | 'active' | 'building' | 'paused' | 'suspended' | 'stopped' | 'rescued' | 'resized' | 'soft-delete' | 'deleted' | 'error' | 'shelved' | 'shelved_offloaded';

/** `null` = no task in progress. */
export type TaskState = string | null;

interface Rule {
  /** Allowed vm_states; undefined = any. */
  vmStates?: readonly VmState[];
  /** Allowed task_states; undefined = any; default [null]. */
  taskStates?: readonly TaskState[] | 'any';
  /** The server must have been launched (launched_at set). Default true. */
  mustHaveLaunched?: boolean;
  /** Refused on a locked server unless the caller is admin. Default true. */
  lockChecked?: boolean;
  /** The task_state Nova sets when the action starts. */
  sets?: string;
}

const HARD_REBOOT_TASKS = [null, 'rebooting', 'reboot_pending', 'reboot_started', 'resuming', 'rebooting_hard', 'unpausing', 'pausing', 'suspending'] as const;

/** The allowed-states table, one row per action (names as in Nova's API). */
export const ACTION_RULES: Record<string, Rule> = {
  delete: { taskStates: 'any', mustHaveLaunched: false, sets: 'deleting' },
  forceDelete: { taskStates: 'any', mustHaveLaunched: false },
  restore: { vmStates: ['soft-delete'], sets: 'restoring' },
  'os-stop': { vmStates: ['active', 'error'], sets: 'powering-off' },
  'os-start': { vmStates: ['stopped'], sets: 'powering-on' },
  'reboot:SOFT': { vmStates: ['active'], sets: 'rebooting' },
  'reboot:HARD': { vmStates: ['active', 'stopped', 'paused', 'suspended', 'error'], taskStates: HARD_REBOOT_TASKS, sets: 'rebooting_hard' },
  rebuild: { vmStates: ['active', 'stopped', 'error'], sets: 'rebuilding' },
  resize: { vmStates: ['active', 'stopped'], sets: 'resize_prep' },
  migrate: { vmStates: ['active', 'stopped'], sets: 'resize_prep' },
  confirmResize: { vmStates: ['resized'] },
  revertResize: { vmStates: ['resized'], sets: 'resize_reverting' },
  createImage: { vmStates: ['active', 'stopped', 'paused', 'suspended'], sets: 'image_snapshot_pending' },
  createBackup: { vmStates: ['active', 'stopped', 'paused', 'suspended'], sets: 'image_backup' },
  pause: { vmStates: ['active'], sets: 'pausing' },
  unpause: { vmStates: ['paused'], sets: 'unpausing' },
  suspend: { vmStates: ['active'], sets: 'suspending' },
  resume: { vmStates: ['suspended'], sets: 'resuming' },
  rescue: { vmStates: ['active', 'stopped', 'error'], sets: 'rescuing' },
  unrescue: { vmStates: ['rescued'], sets: 'unrescuing' },
  shelve: { vmStates: ['active', 'stopped', 'paused', 'suspended'], sets: 'shelving' },
  shelveOffload: { vmStates: ['shelved'], sets: 'shelving_offloading' },
  unshelve: { vmStates: ['shelved', 'shelved_offloaded'], sets: 'unshelving' },
  changePassword: { vmStates: ['active'], sets: 'updating_password' },
  trigger_crash_dump: { vmStates: ['active', 'paused', 'rescued', 'resized', 'error'] },
  'os-migrateLive': { vmStates: ['active', 'paused'], sets: 'migrating' },
  evacuate: { vmStates: ['active', 'stopped', 'error'], taskStates: 'any', sets: 'rebuilding' },
  // Admins' state resets: no state, task or lock check.
  'os-resetState': { taskStates: 'any', mustHaveLaunched: false, lockChecked: false },
  // No state check, and no lock check: lock/unlock have their own ownership rules.
  lock: { taskStates: 'any', mustHaveLaunched: false, lockChecked: false },
  unlock: { taskStates: 'any', mustHaveLaunched: false, lockChecked: false },
  'update metadata': { vmStates: ['active', 'paused', 'suspended', 'stopped'], taskStates: 'any', mustHaveLaunched: false },
};

export interface ServerState {
  id: string;
  vmState: VmState;
  taskState: TaskState;
  launched: boolean;
  locked: boolean;
}

/** Nova's name for an action in its 409 message ("Cannot 'reboot' instance …"). */
const messageName = (action: string): string => action.split(':')[0] ?? action;

/**
 * Throws Nova's 409 when `action` is not allowed for `s` (or when the server is locked and the
 * caller is no admin); returns the task_state Nova would set, if any.
 */
export function checkAction(action: string, s: ServerState, o: { admin: boolean }): string | undefined {
  const rule = ACTION_RULES[action];
  if (!rule) throw new NovaError(400, `There is no such action: ${messageName(action)}`);
  if ((rule.lockChecked ?? true) && s.locked && !o.admin) throw new NovaError(409, `Instance ${s.id} is locked`);
  if ((rule.mustHaveLaunched ?? true) && !s.launched) {
    throw new NovaError(409, `Cannot '${messageName(action)}' instance ${s.id} while it is in vm_state ${s.vmState}`);
  }
  if (rule.vmStates && !rule.vmStates.includes(s.vmState)) {
    throw new NovaError(409, `Cannot '${messageName(action)}' instance ${s.id} while it is in vm_state ${s.vmState}`);
  }
  const tasks = rule.taskStates ?? [null];
  if (tasks !== 'any' && !tasks.includes(s.taskState)) {
    throw new NovaError(409, `Cannot '${messageName(action)}' instance ${s.id} while it is in task_state ${s.taskState}`);
  }
  return rule.sets;
}
