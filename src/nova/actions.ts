// Nova's server actions in one catalog: the state rules (nova/compute/api.py @check_instance_state
// and @check_instance_lock; reference §c), the task each sets, the spec change or operation it
// asks for, its instance-action name and where that ends, its admin policy. Pure: the façade and the
// controller read the same rows.
import type { Operation, POWER_REQUESTS } from '../api/server.ts';
import { NovaError } from './faults.ts';

export type VmState =
  | 'active' | 'building' | 'paused' | 'suspended' | 'stopped' | 'rescued' | 'resized' | 'soft-delete' | 'deleted' | 'error' | 'shelved' | 'shelved_offloaded';

/** `null` = no task in progress. */
export type TaskState = string | null;

type PowerRequest = (typeof POWER_REQUESTS)[number];

/** One server action: Nova's state rule for it, and what it asks of the Server and records. */
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
  /** The instance-action name Nova records (default: the action's own name). */
  instanceAction?: string;
  /** The desired power state (spec.powerState) the action asks for, if that is all it asks. */
  powerState?: PowerRequest;
  /** The long-running operation it starts (status.operation.kind). */
  operation?: Operation['kind'];
  /** Nova statuses at which its instance action is over ('*': as soon as it is taken). */
  ends?: readonly string[];
  /** Only admins may take it (Nova's default policy), by its policy rule; checked before the state. */
  adminPolicy?: string;
}

const HARD_REBOOT_TASKS = [null, 'rebooting', 'reboot_pending', 'reboot_started', 'resuming', 'rebooting_hard', 'unpausing', 'pausing', 'suspending'] as const;
const SETTLED = ['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED'] as const;

/**
 * The action catalog, one row per action (names as in Nova's API; reboot by type). The façade's
 * checks and spec changes and the controller's refusals and instance actions are all read from it.
 */
export const ACTION_RULES: Record<string, Rule> = {
  delete: { taskStates: 'any', mustHaveLaunched: false, sets: 'deleting', powerState: 'SoftDeleted', ends: ['SOFT_DELETED'] },
  forceDelete: { taskStates: 'any', mustHaveLaunched: false },
  restore: { vmStates: ['soft-delete'], sets: 'restoring', powerState: 'Running', ends: ['ACTIVE'] },
  'os-stop': { vmStates: ['active', 'error'], sets: 'powering-off', instanceAction: 'stop', powerState: 'Shutoff', ends: ['SHUTOFF'] },
  'os-start': { vmStates: ['stopped'], sets: 'powering-on', instanceAction: 'start', powerState: 'Running', ends: ['ACTIVE'] },
  'reboot:SOFT': { vmStates: ['active'], sets: 'rebooting', instanceAction: 'reboot', ends: ['ACTIVE'] },
  'reboot:HARD': { vmStates: ['active', 'stopped', 'paused', 'suspended', 'error'], taskStates: HARD_REBOOT_TASKS, sets: 'rebooting_hard', instanceAction: 'reboot', ends: ['ACTIVE'] },
  rebuild: { vmStates: ['active', 'stopped', 'error'], sets: 'rebuilding', operation: 'rebuild', ends: ['ACTIVE', 'SHUTOFF'] },
  resize: { vmStates: ['active', 'stopped'], sets: 'resize_prep', operation: 'resize', ends: ['VERIFY_RESIZE'] },
  migrate: { vmStates: ['active', 'stopped'], sets: 'resize_prep', operation: 'migrate', ends: ['VERIFY_RESIZE'], adminPolicy: 'os_compute_api:os-migrate-server:migrate' },
  confirmResize: { vmStates: ['resized'], ends: ['ACTIVE', 'SHUTOFF'] },
  revertResize: { vmStates: ['resized'], sets: 'resize_reverting', ends: ['ACTIVE', 'SHUTOFF'] },
  createImage: { vmStates: ['active', 'stopped', 'paused', 'suspended'], sets: 'image_snapshot_pending', operation: 'createImage', ends: SETTLED },
  createBackup: { vmStates: ['active', 'stopped', 'paused', 'suspended'], sets: 'image_backup', ends: SETTLED },
  pause: { vmStates: ['active'], sets: 'pausing', powerState: 'Paused', ends: ['PAUSED'] },
  unpause: { vmStates: ['paused'], sets: 'unpausing', powerState: 'Running', ends: ['ACTIVE'] },
  suspend: { vmStates: ['active'], sets: 'suspending', powerState: 'Suspended', ends: ['SUSPENDED'] },
  resume: { vmStates: ['suspended'], sets: 'resuming', powerState: 'Running', ends: ['ACTIVE'] },
  rescue: { vmStates: ['active', 'stopped', 'error'], sets: 'rescuing', operation: 'rescue', ends: ['RESCUE'] },
  unrescue: { vmStates: ['rescued'], sets: 'unrescuing', operation: 'unrescue', ends: ['ACTIVE'] },
  shelve: { vmStates: ['active', 'stopped', 'paused', 'suspended'], sets: 'shelving', powerState: 'Shelved', ends: ['SHELVED', 'SHELVED_OFFLOADED'] },
  shelveOffload: { vmStates: ['shelved'], sets: 'shelving_offloading', powerState: 'ShelvedOffloaded', ends: ['SHELVED_OFFLOADED'], adminPolicy: 'os_compute_api:os-shelve:shelve_offload' },
  unshelve: { vmStates: ['shelved', 'shelved_offloaded'], sets: 'unshelving', ends: ['ACTIVE'] },
  changePassword: { vmStates: ['active'], sets: 'updating_password', ends: ['ACTIVE'] },
  trigger_crash_dump: { vmStates: ['active', 'paused', 'rescued', 'resized', 'error'] },
  'os-migrateLive': { vmStates: ['active', 'paused'], sets: 'migrating', instanceAction: 'live-migration', operation: 'liveMigrate', ends: ['ACTIVE', 'PAUSED'], adminPolicy: 'os_compute_api:os-migrate-server:migrate_live' },
  evacuate: { vmStates: ['active', 'stopped', 'error'], taskStates: 'any', sets: 'rebuilding', operation: 'evacuate', ends: ['ACTIVE', 'SHUTOFF'], adminPolicy: 'os_compute_api:os-evacuate' },
  // Admins' network info injection: Nova casts it to the compute host, whose virt driver (here,
  // like libvirt's) does nothing with it; no state or task check.
  injectNetworkInfo: { taskStates: 'any', mustHaveLaunched: false, adminPolicy: 'os_compute_api:os-admin-actions:inject_network_info' },
  // Admins' state resets: no state, task or lock check.
  'os-resetState': { taskStates: 'any', mustHaveLaunched: false, lockChecked: false, ends: ['ACTIVE', 'ERROR'], adminPolicy: 'os_compute_api:os-admin-actions:reset_state' },
  // No state check, and no lock check: lock/unlock have their own ownership rules.
  lock: { taskStates: 'any', mustHaveLaunched: false, lockChecked: false, ends: ['*'] },
  unlock: { taskStates: 'any', mustHaveLaunched: false, lockChecked: false, ends: ['*'] },
  'update metadata': { vmStates: ['active', 'paused', 'suspended', 'stopped'], taskStates: 'any', mustHaveLaunched: false },
};

/** The instance action a server's create is recorded as, and where it ends. */
export const CREATE_ACTION = { instanceAction: 'create', ends: SETTLED } as const;

/** The catalog row of an action; only the catalog's own rows (never Object.prototype's names). */
export const ruleOf = (action: string): Rule | undefined => (Object.hasOwn(ACTION_RULES, action) ? ACTION_RULES[action] : undefined);

/** The instance-action name Nova records for an action (its catalog row's, else the action's own). */
export const instanceActionOf = (action: string): string => ruleOf(action)?.instanceAction ?? action.split(':')[0] ?? action;

/** The catalog row behind an instance-action name (reboot by its type). */
export function ruleOfInstanceAction(name: string, rebootType: 'SOFT' | 'HARD' = 'HARD'): string | undefined {
  if (name === 'reboot') return `reboot:${rebootType}`;
  if (ruleOf(name) && !ruleOf(name)?.instanceAction) return name;
  return Object.keys(ACTION_RULES).find((k) => ACTION_RULES[k]?.instanceAction === name);
}

/** Whether the instance action `name` is over once the server shows `status`. */
export function actionEndsAt(name: string, status: string): boolean {
  const ends = name === CREATE_ACTION.instanceAction ? CREATE_ACTION.ends : ruleOf(ruleOfInstanceAction(name) ?? '')?.ends;
  return !!ends && (ends.includes('*') || ends.includes(status));
}

/** The instance action an operation is recorded as (a createImage made for a backup is a createBackup). */
export function instanceActionOfOperation(op: Pick<Operation, 'kind' | 'requestId'>): string {
  if (op.kind === 'createImage' && op.requestId.startsWith('backup:')) return 'createBackup';
  const action = Object.keys(ACTION_RULES).find((k) => ACTION_RULES[k]?.operation === op.kind);
  return action ? instanceActionOf(action) : op.kind;
}

/** The instance action a change of spec.powerState stands for (by what it was before). */
export function instanceActionOfPowerChange(from: string, to: string): string {
  if (to === 'SoftDeleted') return 'delete';
  if (from === 'SoftDeleted') return 'restore';
  if (to === 'Shelved') return 'shelve';
  if (to === 'ShelvedOffloaded') return from === 'Shelved' ? 'shelveOffload' : 'shelve';
  if (from === 'Shelved' || from === 'ShelvedOffloaded') return 'unshelve';
  if (to === 'Shutoff') return 'stop';
  if (to === 'Paused') return 'pause';
  if (to === 'Suspended') return 'suspend';
  if (from === 'Paused') return 'unpause';
  if (from === 'Suspended') return 'resume';
  return 'start';
}

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
  const rule = ruleOf(action);
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
