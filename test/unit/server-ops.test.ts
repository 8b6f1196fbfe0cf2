import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type Operation, type Server } from '../../src/api/server.ts';
import { type DataVolume, type VirtualMachine, type VirtualMachineInstance, type VirtualMachineInstanceMigration } from '../../src/kubevirt/types.ts';
import { advance, migrationIds, migrationStatus, operationState, rebuildVolumeName, updateMigrations, vmOverrides, type Observed, type ShownState } from '../../src/controllers/server/operations.ts';
import { novaStateOf } from '../../src/nova/status.ts';

const vm = (printableStatus: string): VirtualMachine => ({ apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', metadata: { name: 'web' }, spec: { template: { spec: { domain: { devices: {} } } } }, status: { printableStatus: printableStatus as never } });
const vmi = (uid: string, phase = 'Running'): VirtualMachineInstance => ({ metadata: { name: 'web', uid }, spec: { domain: { devices: {} } }, status: { phase: phase as never } });
const dv = (name: string, phase: string): DataVolume => ({ metadata: { name }, spec: {}, status: { phase: phase as never } } as DataVolume);
const obs = (o: Partial<Observed>): Observed => ({ dataVolumes: [], wantRunning: true, ...o });
const flavor = (id: string) => ({ id, name: `f${id}`, vcpus: 1, ramMiB: 512, diskGiB: 1 });
const active: ShownState = { status: 'ACTIVE', vmState: 'active', powerState: 'Running', progress: 0 };

describe('operations move as KubeVirt shows the work done', () => {
  const resize: Operation = { kind: 'resize', requestId: 'req-1', phase: 'migrating', fromVMI: 'old', fromHost: 'n1', fromFlavor: flavor('1'), toFlavor: flavor('2') };

  test('a resize waits for a new VMI that runs (and a VM that says so), then waits in verify', () => {
    assert.equal(advance(resize, obs({ vm: vm('Running'), vmi: vmi('old') })).op?.phase, 'migrating');
    assert.equal(advance(resize, obs({ vm: vm('Starting'), vmi: vmi('new') })).op?.phase, 'migrating', 'the VM still says Starting');
    assert.equal(advance(resize, obs({ vm: vm('Running'), vmi: vmi('new') })).op?.phase, 'verify');
    assert.equal(advance({ ...resize, phase: 'verify' }, obs({ vm: vm('Running'), vmi: vmi('new') })).op?.phase, 'verify', 'verify waits for a decision');
    assert.equal(advance({ ...resize, fromVMI: undefined }, obs({ wantRunning: false })).op?.phase, 'verify', 'a stopped server goes straight to verify');
    assert.equal(advance({ ...resize, phase: 'reverting', fromVMI: 'new' }, obs({ vm: vm('Running'), vmi: vmi('newer') })).outcome, 'done');
  });

  test('Nova\'s statuses and task states along a resize', () => {
    assert.deepEqual(operationState(resize, active, obs({ vmi: vmi('old') })), { status: 'RESIZE', vmState: 'active', taskState: 'resize_migrating', powerState: 'Running', progress: 0 });
    assert.equal(operationState(resize, active, obs({})).taskState, 'resize_migrated');
    assert.equal(operationState(resize, active, obs({ vmi: vmi('new', 'Scheduling') })).taskState, 'resize_finish');
    assert.deepEqual(operationState({ ...resize, phase: 'verify' }, active, obs({ vmi: vmi('new') })), { status: 'VERIFY_RESIZE', vmState: 'resized', powerState: 'Running', progress: 100 });
    assert.equal(operationState({ ...resize, phase: 'reverting' }, active, obs({})).status, 'REVERT_RESIZE');
    const err: ShownState = { status: 'ERROR', vmState: 'error', powerState: 'NOSTATE', progress: 0 };
    assert.equal(operationState(resize, err, obs({})).status, 'ERROR', 'an error shows through');
  });

  test('a rebuild waits for its new root disk and a new VMI; a failed import fails it', () => {
    const op: Operation = { kind: 'rebuild', requestId: 'r', phase: 'rebuilding', rootVolume: rebuildVolumeName('web', 'r'), image: 'fedora', fromVMI: 'old' };
    const importing = obs({ vm: vm('Provisioning'), dataVolumes: [dv(op.rootVolume!, 'ImportInProgress')] });
    assert.equal(advance(op, importing).op?.kind, 'rebuild');
    assert.equal(operationState(op, active, importing).taskState, 'rebuild_block_device_mapping');
    const half = obs({ dataVolumes: [{ ...dv(op.rootVolume!, 'ImportInProgress'), status: { phase: 'ImportInProgress', progress: '50.0%' } } as DataVolume] });
    assert.equal(operationState(op, active, half).progress, 50, 'progress follows the import');
    assert.equal(operationState(op, active, obs({ vmi: vmi('old') })).taskState, 'rebuilding');
    assert.equal(advance(op, obs({ vm: vm('Running'), vmi: vmi('new'), dataVolumes: [dv(op.rootVolume!, 'Succeeded')] })).outcome, 'done');
    assert.equal(advance(op, obs({ wantRunning: false, dataVolumes: [dv(op.rootVolume!, 'Succeeded')] })).outcome, 'done', 'a stopped server stays stopped');
    assert.equal(advance(op, obs({ dataVolumes: [dv(op.rootVolume!, 'Failed')] })).outcome, 'failed');
  });

  test('a live migration follows its VirtualMachineInstanceMigration; deleting it cancels', () => {
    const op: Operation = { kind: 'liveMigrate', requestId: 'm', phase: 'queued', migrationName: 'web-1' };
    const m = (phase?: string): VirtualMachineInstanceMigration => ({ metadata: { name: 'web-1' }, spec: { vmiName: 'web' }, status: phase ? { phase } : undefined });
    assert.equal(advance(op, obs({})).op?.phase, 'queued', 'not made yet');
    assert.equal(advance(op, obs({ migration: m('Scheduling') })).op?.phase, 'accepted');
    assert.equal(migrationStatus({ ...op, phase: 'accepted' }), 'queued');
    assert.equal(advance(op, obs({ migration: m('PreparingTarget') })).op?.phase, 'preparing');
    assert.equal(migrationStatus({ ...op, phase: 'preparing' }), 'preparing');
    assert.equal(advance(op, obs({ migration: m('Running') })).op?.phase, 'migrating');
    assert.equal(migrationStatus({ ...op, phase: 'migrating' }), 'running');
    assert.equal(advance({ ...op, phase: 'migrating' }, obs({})).outcome, 'cancelled');
    assert.equal(advance({ ...op, phase: 'accepted' }, obs({})).outcome, 'cancelled', 'deleted before it ran: cancelled too');
    assert.equal(advance(op, obs({ migration: m('Succeeded') })).outcome, 'done');
    assert.equal(advance(op, obs({ migration: { ...m('Failed'), status: { phase: 'Failed', migrationState: { failureReason: 'no target' } } } })).message, 'no target');
    assert.deepEqual(operationState(op, active, obs({})), { status: 'MIGRATING', vmState: 'active', taskState: 'migrating', powerState: 'Running', progress: 0 });
  });

  test('createImage shows Nova\'s image tasks and ends when the copy is done', () => {
    const op: Operation = { kind: 'createImage', requestId: 'i', phase: 'snapshot', imageId: 'x' };
    assert.equal(operationState(op, active, obs({})).taskState, 'image_snapshot');
    assert.equal(advance(op, obs({ imagePhase: 'CloneInProgress' })).op?.phase, 'uploading');
    assert.equal(operationState({ ...op, phase: 'uploading' }, active, obs({})).taskState, 'image_uploading');
    assert.equal(operationState({ ...op, requestId: 'backup:i' }, active, obs({})).taskState, 'image_backup');
    assert.equal(advance(op, obs({ imagePhase: 'Succeeded' })).outcome, 'done');
  });
});

describe('what the VM looks like while an operation runs', () => {
  const server = (status: Server['status'], spec: Partial<Server['spec']> = {}): Server => ({ metadata: { name: 'web' }, spec: { name: 'web', flavor: 'f2', image: 'cirros', ...spec }, status } as Server);

  test('resize and migrate: the target flavor and placement; revert: back', () => {
    const op: Operation = { kind: 'migrate', requestId: 'm', phase: 'migrating', fromHost: 'n1', fromFlavor: flavor('1'), toFlavor: flavor('1') };
    assert.deepEqual(vmOverrides(server({ operation: op })).placement, { excludeHost: 'n1' });
    assert.deepEqual(vmOverrides(server({ operation: { ...op, toHost: 'n3' } })).placement, { host: 'n3' });
    assert.deepEqual(vmOverrides(server({ operation: { ...op, phase: 'reverting' } })).placement, { host: 'n1' });
    const resize: Operation = { ...op, kind: 'resize', toFlavor: flavor('2') };
    assert.equal(vmOverrides(server({ operation: resize })).flavor?.id, '2');
    assert.equal(vmOverrides(server({ operation: { ...resize, phase: 'reverting' } })).flavor?.id, '1');
  });

  test('rebuild: the new root disk and image; rescue: the rescue disk while spec asks for it', () => {
    const op: Operation = { kind: 'rebuild', requestId: 'r', phase: 'rebuilding', rootVolume: 'web-root-1', image: 'fedora' };
    assert.deepEqual({ ...vmOverrides(server({ operation: op, rootVolume: 'web-root', image: { name: 'cirros' } })) }, { rootVolume: 'web-root-1', image: 'fedora' });
    assert.deepEqual(vmOverrides(server({ rescueVolume: 'web-rescue-1', image: { name: 'cirros' } }, { rescue: { requestId: 'x' } })).rescue, { volume: 'web-rescue-1', image: 'cirros' });
    assert.equal(vmOverrides(server({ rescueVolume: 'web-rescue-1' })).rescue, undefined, 'unrescue: spec no longer asks');
  });
});

describe('migration records', () => {
  test('ids are stable per request; statuses follow Nova\'s per migration type; the list is newest first and bounded', () => {
    assert.deepEqual(migrationIds('u', 'r'), migrationIds('u', 'r'));
    assert.notEqual(migrationIds('u', 'r').id, migrationIds('u', 'r2').id);
    assert.match(migrationIds('u', 'r').uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    const op: Operation = { kind: 'resize', requestId: 'r', phase: 'migrating', fromHost: 'n1', fromFlavor: flavor('1'), toFlavor: flavor('2') };
    let list = updateMigrations(undefined, 'u', op, undefined, { userId: 'alice', projectId: 'p' }, '2026-01-01T00:00:00Z');
    assert.deepEqual(list?.map((m) => [m.type, m.status, m.oldFlavorId, m.newFlavorId, m.userId]), [['resize', 'migrating', '1', '2', 'alice']]);
    list = updateMigrations(list, 'u', { ...op, phase: 'verify' }, undefined, {}, '2026-01-01T00:01:00Z', 'n2');
    assert.deepEqual(list?.map((m) => [m.status, m.destHost, m.userId, m.createdAt]), [['finished', 'n2', 'alice', '2026-01-01T00:00:00Z']]);
    list = updateMigrations(list, 'u', { ...op, phase: 'verify' }, 'done', {}, '2026-01-01T00:02:00Z');
    assert.equal(list?.[0]?.status, 'confirmed');
    const live: Operation = { kind: 'liveMigrate', requestId: 'l', phase: 'migrating' };
    list = updateMigrations(list, 'u', live, undefined, {}, '2026-01-01T00:03:00Z');
    assert.deepEqual(list?.map((m) => `${m.type}:${m.status}`), ['live-migration:running', 'resize:confirmed']);
    assert.equal(updateMigrations(list, 'u', { kind: 'rebuild', requestId: 'x', phase: 'rebuilding' }, undefined, {}, 'now'), list, 'a rebuild is no migration');
    for (let i = 0; i < 30; i++) list = updateMigrations(list, 'u', { ...live, requestId: `l${i}` }, undefined, {}, 'now');
    assert.equal(list?.length, 20);
  });
});

describe('shelve and soft delete in the Nova view', () => {
  const base = { deleting: false, launched: true, vm: vm('Stopped') } as const;
  test('a halted VM reads as the desired state asks', () => {
    assert.equal(novaStateOf({ ...base, desiredPower: 'Shelved' }).status, 'SHELVED');
    assert.equal(novaStateOf({ ...base, desiredPower: 'Shelved', offloaded: true }).status, 'SHELVED_OFFLOADED');
    assert.equal(novaStateOf({ ...base, desiredPower: 'ShelvedOffloaded' }).vmState, 'shelved_offloaded');
    assert.deepEqual(novaStateOf({ ...base, desiredPower: 'SoftDeleted' }).status, 'SOFT_DELETED');
    assert.equal(novaStateOf({ ...base, desiredPower: 'Shelved', vm: vm('Running') }).taskState, 'shelving');
    assert.equal(novaStateOf({ ...base, desiredPower: 'SoftDeleted', vm: vm('Stopping') }).taskState, 'soft-deleting');
  });
  test('on the way back, the old status stays with Nova\'s task', () => {
    const u = novaStateOf({ ...base, desiredPower: 'Running', vm: vm('Starting'), previous: { status: 'SHELVED_OFFLOADED', vmState: 'shelved_offloaded' } });
    assert.deepEqual([u.status, u.taskState], ['SHELVED_OFFLOADED', 'unshelving']);
    const r = novaStateOf({ ...base, desiredPower: 'Running', previous: { status: 'SOFT_DELETED', vmState: 'soft-delete' } });
    assert.deepEqual([r.status, r.taskState], ['SOFT_DELETED', 'restoring']);
  });
});

describe('a new request replaces the last one whole', () => {
  test('fields the new request lacks are removed by the merge patch', async () => {
    const { replacing } = await import('../../src/facade/routes/server-actions.ts');
    assert.deepEqual(replacing({ requestId: 'a', host: 'n1' }, { requestId: 'b' }), { requestId: 'b', host: null });
    assert.deepEqual(replacing({ requestId: 'a', metadata: { x: '1' } }, { requestId: 'b', metadata: { y: '2' } }), { requestId: 'b', metadata: { x: null, y: '2' } });
    assert.deepEqual(replacing(undefined, { requestId: 'b' }), { requestId: 'b' });
    assert.equal(replacing({ requestId: 'a' }, null), null);
  });
});
