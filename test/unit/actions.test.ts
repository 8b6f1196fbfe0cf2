// Nova's allowed-states table (reference §c), as src/nova/actions.ts applies it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACTION_RULES, checkAction, type ServerState, type VmState } from '../../src/nova/actions.ts';
import { NovaError } from '../../src/nova/faults.ts';

const ALL_VM_STATES: VmState[] = ['active', 'building', 'paused', 'suspended', 'stopped', 'rescued', 'resized', 'soft-delete', 'deleted', 'error', 'shelved', 'shelved_offloaded'];
const server = (vmState: VmState, o: Partial<ServerState> = {}): ServerState => ({ id: 'uuid-1', vmState, taskState: null, launched: true, locked: false, ...o });
const allowedIn = (action: string): VmState[] => ALL_VM_STATES.filter((v) => {
  try {
    checkAction(action, server(v), { admin: false });
    return true;
  } catch {
    return false;
  }
});

describe('allowed vm_states per action (Nova\'s table)', () => {
  const table: [string, VmState[]][] = [
    ['os-stop', ['active', 'error']],
    ['os-start', ['stopped']],
    ['reboot:SOFT', ['active']],
    ['reboot:HARD', ['active', 'paused', 'suspended', 'stopped', 'error']],
    ['rebuild', ['active', 'stopped', 'error']],
    ['resize', ['active', 'stopped']],
    ['confirmResize', ['resized']],
    ['revertResize', ['resized']],
    ['createImage', ['active', 'paused', 'suspended', 'stopped']],
    ['pause', ['active']],
    ['unpause', ['paused']],
    ['suspend', ['active']],
    ['resume', ['suspended']],
    ['rescue', ['active', 'stopped', 'error']],
    ['unrescue', ['rescued']],
    ['shelve', ['active', 'paused', 'suspended', 'stopped']],
    ['shelveOffload', ['shelved']],
    ['unshelve', ['shelved', 'shelved_offloaded']],
    ['changePassword', ['active']],
    ['trigger_crash_dump', ['active', 'paused', 'rescued', 'resized', 'error']],
    ['os-migrateLive', ['active', 'paused']],
    ['evacuate', ['active', 'stopped', 'error']],
    ['restore', ['soft-delete']],
    ['update metadata', ['active', 'paused', 'suspended', 'stopped']],
    ['delete', ALL_VM_STATES],
    ['lock', ALL_VM_STATES],
    ['os-resetState', ALL_VM_STATES],
    ['injectNetworkInfo', ALL_VM_STATES],
  ];
  for (const [action, states] of table) {
    test(action, () => assert.deepEqual(allowedIn(action).sort(), [...states].sort()));
  }
  test('every rule in the module is in this table', () => {
    assert.deepEqual(Object.keys(ACTION_RULES).filter((a) => !table.some(([t]) => t === a)).sort(), ['forceDelete', 'migrate', 'unlock', 'createBackup'].sort());
  });
});

describe('task states, launch and lock', () => {
  test('a task in progress refuses most actions, with Nova\'s message', () => {
    assert.throws(() => checkAction('os-stop', server('active', { taskState: 'rebooting' }), { admin: false }), (e: NovaError) => e.code === 409 && e.message === "Cannot 'os-stop' instance uuid-1 while it is in task_state rebooting");
  });
  test('a hard reboot is allowed over some tasks, not others', () => {
    for (const t of ['rebooting', 'reboot_pending', 'reboot_started', 'resuming', 'rebooting_hard', 'unpausing', 'pausing', 'suspending']) {
      assert.equal(checkAction('reboot:HARD', server('active', { taskState: t }), { admin: false }), 'rebooting_hard');
    }
    assert.throws(() => checkAction('reboot:HARD', server('active', { taskState: 'migrating' }), { admin: false }), /task_state migrating/);
  });
  test('delete and evacuate accept any task; delete also a server never launched', () => {
    assert.equal(checkAction('delete', server('building', { taskState: 'spawning', launched: false }), { admin: false }), 'deleting');
    assert.equal(checkAction('evacuate', server('error', { taskState: 'migrating' }), { admin: false }), 'rebuilding');
  });
  test('actions need a launched server, with the vm_state message', () => {
    assert.throws(() => checkAction('os-stop', server('active', { launched: false }), { admin: false }), /Cannot 'os-stop' instance uuid-1 while it is in vm_state active/);
  });
  test('a locked server refuses non-admins, admins pass, lock/unlock are not lock-checked', () => {
    const locked = server('active', { locked: true });
    assert.throws(() => checkAction('os-stop', locked, { admin: false }), (e: NovaError) => e.code === 409 && e.message === 'Instance uuid-1 is locked');
    assert.equal(checkAction('os-stop', locked, { admin: true }), 'powering-off');
    assert.equal(checkAction('unlock', locked, { admin: false }), undefined);
  });
  test('the task_state Nova sets is returned; unknown actions are 400', () => {
    assert.equal(checkAction('os-start', server('stopped'), { admin: false }), 'powering-on');
    assert.equal(checkAction('shelve', server('paused'), { admin: false }), 'shelving');
    assert.throws(() => checkAction('frobnicate', server('active'), { admin: false }), (e: NovaError) => e.code === 400 && e.message === 'There is no such action: frobnicate');
  });
});
