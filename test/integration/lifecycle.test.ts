// The server lifecycle through the Compute API and through kubectl-style spec changes: every action
// carried out on the simulated KubeVirt (status, task and power state asserted along the way), Nova's
// state rules refusing what a state forbids, migrations, and a controller killed mid-operation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { ACTION_RULES, checkAction } from '../../src/nova/actions.ts';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { DATA_SOURCES, DATA_VOLUMES, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, VIRTUAL_MACHINE_INSTANCES, type DataVolume, type VirtualMachineInstance, type VirtualMachineInstanceMigration } from '../../src/kubevirt/types.ts';
import { NODES } from '../../src/kube/types.ts';
import { SOFT_REBOOTS_ANNOTATION } from '../../src/sim/virt-handler-server.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { spawnController } from '../support/processes.ts';
import { grant } from '../support/people.ts';
import { eventually, wentThrough } from '../support/waiting.ts';
import { EVENTS, type KubeEvent } from '../support/events.ts';
import { ensureFlavor, mebibytes, project, uniq } from '../support/fixtures.ts';
import { serverState } from '../../src/nova/server-state.ts';

describe('server lifecycle', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let zone: string;
  let admin: string;
  let member: string;
  let imageId: string;
  let otherImageId: string;

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client, { nodes: [{ name: uniq('node') }, { name: uniq('node') }, { name: uniq('node') }] }));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureFlavor(kova.client, { id: '2', name: 'm1.small', vcpus: 1, ramMiB: 2048, diskGiB: 2 });
    await ensureImage(kova.client, 'kova-images', 'cirros', 'cirros-0.6.3');
    await ensureImage(kova.client, 'kova-images', 'fedora', 'fedora-43');
    api = await startApi(kova, { passwords: new PasswordUsers() });
    await grant(kova.client, 'root', 'kova-admin');
    await grant(kova.client, 'alice', 'kova-member', ns);
    await eventually('façade caches', async () => !!api.facade.caches.projectByIdOrName(ns));
    admin = api.token('root', ns);
    member = api.token('alice', ns);
    imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
    otherImageId = (await eventually('image', async () => api.facade.caches.image('fedora')?.metadata.uid))!;
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  const create = async (name: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const r = await api.call('POST', '/v2.1/servers', { token: member, version: '2.37', body: { server: { name, flavorRef: '1', imageRef: imageId, networks: 'auto', availability_zone: zone, ...extra } } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.server.id as string;
    await settled(id, 'ACTIVE');
    return id;
  };
  const show = async (id: string, token = admin) => (await api.call('GET', `/v2.1/servers/${id}`, { token, version: '2.84' })).body.server;
  /** Waits for a status with no task. */
  const settled = (id: string, want: string, timeoutMs = 30_000) => eventually(`server ${want}`, async () => {
    const s = await show(id);
    return s.status === want && s['OS-EXT-STS:task_state'] === null ? s : undefined;
  }, timeoutMs);
  const act = (id: string, body: unknown, token = member, version = '2.84') => api.call('POST', `/v2.1/servers/${id}/action`, { token, version, body });
  const server = (id: string): Server => api.facade.caches.servers.byIndex('uid', id)[0]!;
  const vmi = (id: string) => kova.client.get<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, server(id).metadata.name ?? '', ns);

  test('resize → VERIFY_RESIZE on the new flavor (a new VMI) → confirm → ACTIVE; resize → revert restores the old flavor', async () => {
    const id = await create('resize-me');
    const before = await vmi(id);
    assert.equal((await act(id, { resize: { flavorRef: 'nope' } })).body.badRequest.message, 'Unable to locate requested flavor.');
    assert.equal((await act(id, { confirmResize: null })).status, 409, 'nothing to confirm');
    assert.equal((await act(id, { resize: { flavorRef: '2' } })).status, 202);
    const verify = await settled(id, 'VERIFY_RESIZE');
    await wentThrough(kova.client, ns, server(id).metadata.name ?? '', /^RESIZE\/resize_/);
    assert.equal(verify['OS-EXT-STS:vm_state'], 'resized');
    assert.equal(verify.flavor.original_name, 'm1.small');
    const after = await vmi(id);
    assert.notEqual(after.metadata.uid, before.metadata.uid, 'the guest restarted on the new instancetype');
    assert.equal(mebibytes(after.spec.domain.memory?.guest), 2048);
    assert.equal((await act(id, { resize: { flavorRef: '1' } })).status, 409, 'no resize while one waits to be confirmed');
    assert.equal((await act(id, { confirmResize: null })).status, 204);
    const confirmed = await settled(id, 'ACTIVE');
    assert.equal(confirmed.flavor.original_name, 'm1.small');
    assert.equal((await vmi(id)).metadata.uid, after.metadata.uid, 'confirming restarts nothing');

    assert.equal((await act(id, { resize: { flavorRef: '1' } })).status, 202);
    await settled(id, 'VERIFY_RESIZE');
    assert.equal((await act(id, { revertResize: null })).status, 202);
    const reverted = await settled(id, 'ACTIVE');
    assert.equal(reverted.flavor.original_name, 'm1.small', 'revert restores the flavor before the resize');
    assert.equal(mebibytes((await vmi(id)).spec.domain.memory?.guest), 2048);
    assert.equal(server(id).spec.flavor, 'm1.small', 'spec says so too');

    const migrations = await api.call('GET', `/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, version: '2.80' });
    assert.equal(migrations.status, 200);
    assert.deepEqual(migrations.body.migrations.map((m: { status: string; migration_type: string }) => `${m.migration_type}:${m.status}`), ['resize:reverted', 'resize:confirmed']);
    const m = migrations.body.migrations[1];
    assert.equal(m.instance_uuid, id);
    assert.equal(m.user_id, 'alice');
    assert.equal((await api.call('GET', '/v2.1/os-migrations', { token: member })).status, 403);
    const actions = (await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: member })).body.instanceActions.map((a: { action: string }) => a.action);
    assert.deepEqual(actions.slice(0, 4), ['revertResize', 'resize', 'confirmResize', 'resize']);
  });

  test('cold migrate (admin) → VERIFY_RESIZE on another host → confirm; live migrate → MIGRATING → ACTIVE on another host', async () => {
    const id = await create('move-me');
    const from = (await show(id))['OS-EXT-SRV-ATTR:host'];
    assert.equal((await act(id, { migrate: null })).status, 403, 'admins only');
    assert.equal((await act(id, { migrate: null }, admin)).status, 202);
    const verify = await settled(id, 'VERIFY_RESIZE');
    assert.notEqual(verify['OS-EXT-SRV-ATTR:host'], from);
    assert.equal((await act(id, { confirmResize: null }, admin)).status, 204);
    const moved = await settled(id, 'ACTIVE');

    const host = moved['OS-EXT-SRV-ATTR:host'];
    assert.equal((await act(id, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, admin)).status, 202);
    const live = await settled(id, 'ACTIVE');
    await wentThrough(kova.client, ns, server(id).metadata.name ?? '', /^MIGRATING\/migrating$/);
    assert.notEqual(live['OS-EXT-SRV-ATTR:host'], host);
    assert.equal((await vmi(id)).status?.nodeName, live['OS-EXT-SRV-ATTR:host'], 'the same VMI, now on the target node');
    const all = await api.call('GET', `/v2.1/os-migrations?instance_uuid=${id}&migration_type=live-migration`, { token: admin, version: '2.59' });
    assert.equal(all.body.migrations[0].status, 'completed');
    assert.ok(all.body.migrations[0].uuid);
  });

  test('os-hosts maintenance mode cordons the host and live-migrates its servers away', async () => {
    const id = await create('drain-me');
    const host = (await show(id))['OS-EXT-SRV-ATTR:host'];
    const r = await api.call('PUT', `/v2.1/os-hosts/${host}`, { token: admin, version: '2.42', body: { maintenance_mode: 'enable' } });
    assert.deepEqual(r.body, { host, maintenance_mode: 'on_maintenance' });
    try {
      const moved = await eventually('moved off the host', async () => {
        const s = await show(id);
        return s.status === 'ACTIVE' && !s['OS-EXT-STS:task_state'] && s['OS-EXT-SRV-ATTR:host'] !== host ? s : undefined;
      });
      assert.ok(moved['OS-EXT-SRV-ATTR:host']);
      const actions = (await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: admin })).body.instanceActions;
      assert.equal(actions[0].action, 'live-migration');
    } finally {
      await api.call('PUT', `/v2.1/os-hosts/${host}`, { token: admin, version: '2.42', body: { maintenance_mode: 'disable' } });
    }
  });

  test('an in-progress live migration is listed under the server and can be aborted', async () => {
    const id = await create('abort-me', { metadata: {} });
    await kova.client.mergePatch(SERVERS, server(id).metadata.name ?? '', ns, { metadata: { annotations: { 'sim.kova.io/hold': 'migrating' } } });
    assert.equal((await act(id, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, admin)).status, 202);
    const running = await eventually('migration listed', async () => {
      const l = (await api.call('GET', `/v2.1/servers/${id}/migrations`, { token: admin, version: '2.80' })).body.migrations;
      return l?.[0]?.status === 'running' ? l[0] : undefined;
    });
    assert.equal(running.server_uuid, id);
    assert.equal((await api.call('GET', `/v2.1/servers/${id}/migrations/${running.id}`, { token: admin, version: '2.80' })).body.migration.id, running.id);
    assert.equal((await api.call('POST', `/v2.1/servers/${id}/migrations/${running.id}/action`, { token: admin, version: '2.22', body: { force_complete: null } })).status, 202);
    // Running in KubeVirt too (handed over to the handlers, started): an abort then goes through them.
    const vmiName = server(id).metadata.name ?? '';
    await eventually('migration running in KubeVirt', async () => {
      const m = (await kova.client.list<VirtualMachineInstanceMigration>(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, { namespace: ns })).items.find((x) => x.spec.vmiName === vmiName);
      return m?.status?.phase === 'Running' && (await vmi(id)).status?.migrationState?.startTimestamp ? m : undefined;
    });
    assert.equal((await api.call('DELETE', `/v2.1/servers/${id}/migrations/${running.id}`, { token: admin, version: '2.24' })).status, 202);
    const back = await settled(id, 'ACTIVE');
    assert.equal(back['OS-EXT-SRV-ATTR:host'], running.source_compute, 'aborted: still on the source host');
    // The abort went the way KubeVirt's goes: real virt-controller asked in the VMI's status (only it
    // sets abortRequested) and the source handler reported the migration aborted.
    const ms = (await vmi(id)).status?.migrationState;
    assert.equal(ms?.abortRequested, true, `virt-controller signalled the abort: ${JSON.stringify(ms)}`);
    assert.equal(ms?.abortStatus, 'Succeeded');
    assert.equal(ms?.failed, true);
    const recs = (await api.call('GET', `/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, version: '2.23' })).body.migrations;
    assert.equal(recs[0].status, 'cancelled');
    assert.equal((await api.call('GET', `/v2.1/servers/${id}/migrations`, { token: admin, version: '2.23' })).body.migrations.length, 0);
  });

  test('a live migration still queued or preparing: no abort before 2.65 (Nova\'s InvalidMigrationState); from 2.65 it is cancelled', async () => {
    const id = await create('abort-early', { metadata: {} });
    // The target's launcher pod is held in ContainerCreating by the simulated kubelet: the migration
    // is created but never handed to the handlers.
    await kova.client.mergePatch(SERVERS, server(id).metadata.name ?? '', ns, { metadata: { annotations: { 'sim.kova.io/hold': 'starting' } } });
    assert.equal((await act(id, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, admin)).status, 202);
    const early = await eventually('migration queued or preparing', async () => {
      const l = (await api.call('GET', `/v2.1/servers/${id}/migrations`, { token: admin, version: '2.80' })).body.migrations;
      return ['queued', 'preparing'].includes(l?.[0]?.status) ? l[0] : undefined;
    });
    const refused = await api.call('DELETE', `/v2.1/servers/${id}/migrations/${early.id}`, { token: admin, version: '2.64' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.badRequest.message, new RegExp(`^Migration ${early.id} state of instance ${id} is (queued|preparing)\\. Cannot abort live migration while the migration is in this state\\.$`));
    assert.equal((await api.call('DELETE', `/v2.1/servers/${id}/migrations/${early.id}`, { token: admin, version: '2.65' })).status, 202);
    const back = await settled(id, 'ACTIVE');
    assert.equal(back['OS-EXT-SRV-ATTR:host'], early.source_compute, 'cancelled: still on the source host');
    const recs = (await api.call('GET', `/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, version: '2.23' })).body.migrations;
    assert.equal(recs[0].status, 'cancelled');
  });

  test('rebuild → REBUILD → ACTIVE on a new root disk from the new image; the old disk is deleted', async () => {
    const id = await create('rebuild-me');
    const name = server(id).metadata.name ?? '';
    assert.equal((await act(id, { rebuild: { imageRef: 'nope' } })).body.badRequest.message, 'Invalid imageRef provided.');
    const r = await act(id, { rebuild: { imageRef: otherImageId, name: 'rebuilt' } });
    assert.equal(r.status, 202);
    assert.equal(r.body.server.id, id);
    assert.equal(r.body.server.name, 'rebuilt');
    const done = await settled(id, 'ACTIVE');
    await wentThrough(kova.client, ns, name, /^REBUILD\//);
    assert.equal(done.image.id, otherImageId);
    const dvs = await eventually('old root disk gone', async () => {
      const l = (await kova.client.list<DataVolume>(DATA_VOLUMES, { namespace: ns, labelSelector: `compute.kova.io/server=${name}` })).items.filter((d) => !d.metadata.deletionTimestamp);
      return l.length === 1 ? l : undefined;
    });
    assert.notEqual(dvs[0]!.metadata.name, `${name}-root`);
    // KubeVirt creates the DataVolume with the DataSource resolved into the image's PVC.
    assert.equal(dvs[0]!.spec.source?.pvc?.name ?? dvs[0]!.spec.sourceRef?.name, 'fedora');
  });

  test('shelve → SHELVED_OFFLOADED (no host) → unshelve → ACTIVE', async () => {
    const id = await create('shelve-me');
    assert.equal((await act(id, { shelve: null })).status, 202);
    const shelved = await settled(id, 'SHELVED_OFFLOADED');
    await wentThrough(kova.client, ns, server(id).metadata.name ?? '', /^ACTIVE\/shelving$/);
    assert.equal(shelved['OS-EXT-STS:power_state'], 4);
    assert.equal(shelved['OS-EXT-SRV-ATTR:host'], null);
    assert.equal((await act(id, { 'os-start': null })).status, 409);
    assert.equal((await act(id, { unshelve: { availability_zone: zone } }, member, '2.77')).status, 202);
    const back = await settled(id, 'ACTIVE');
    assert.ok(back['OS-EXT-SRV-ATTR:host']);
  });

  test('createImage and createBackup copy the root disk into a new image (2.45 body); backups rotate', async () => {
    const id = await create('snap-me');
    const r = await act(id, { createImage: { name: 'snap-1', metadata: { purpose: 'test' } } }, member, '2.45');
    assert.equal(r.status, 202);
    const newId = r.body.image_id as string;
    assert.match(newId, /^[0-9a-f-]{36}$/);
    assert.equal((await act(id, { createImage: { name: 'snap-2' } }, member, '2.45')).status, 409, 'one snapshot at a time');
    await settled(id, 'ACTIVE');
    const old = await act(id, { createImage: { name: 'snap-old' } }, member, '2.1');
    assert.match(old.headers.get('location') ?? '', /\/images\/[0-9a-f-]{36}$/);
    await settled(id, 'ACTIVE');
    const img = await eventually('image listed', async () => {
      const l = (await api.call('GET', '/image/v2/images', { token: member })).body.images as { id: string; name: string }[];
      return l.find((x) => x.id === newId);
    });
    assert.equal(img.name, 'snap-1');
    for (const n of [1, 2, 3]) {
      assert.equal((await act(id, { createBackup: { name: `backup-${n}`, backup_type: 'daily', rotation: 2 } }, member, '2.45')).status, 202);
      await settled(id, 'ACTIVE');
    }
    const backups = await eventually('rotation keeps two', async () => {
      const l = (await kova.client.list(DATA_SOURCES, { namespace: 'kova-images', labelSelector: `compute.kova.io/backup-type=daily,compute.kova.io/source-server=${id}` })).items.filter((d) => !d.metadata.deletionTimestamp);
      return l.length === 2 ? l : undefined;
    });
    assert.equal(backups.length, 2);
  });

  test('rescue → RESCUE (booted from the rescue disk) → unrescue → ACTIVE; soft reboot keeps the VMI', async () => {
    const id = await create('rescue-me');
    const r = await act(id, { rescue: null });
    assert.equal(r.status, 200);
    await settled(id, 'RESCUE');
    const rescued = await vmi(id);
    assert.equal(rescued.spec.domain.devices.disks?.[0]?.name, 'rescue');
    assert.equal((await act(id, { unrescue: null })).status, 202);
    await settled(id, 'ACTIVE');
    assert.equal((await vmi(id)).spec.domain.devices.disks?.[0]?.name, 'root');

    // changePassword is carried out through the guest agent (test/integration/admin-password.test.ts).
    assert.equal((await act(id, { changePassword: { adminPass: 'x' } })).status, 202);
    await settled(id, 'ACTIVE');
    const dump = await act(id, { trigger_crash_dump: null }, member, '2.17');
    assert.deepEqual([dump.status, dump.body.badRequest?.message], [400, 'Triggering crash dump is not supported'], 'KubeVirt has no NMI: Nova\'s answer when the compute cannot');
    assert.equal((await act(id, { trigger_crash_dump: null }, member, '2.16')).body.badRequest?.message, 'There is no such action: trigger_crash_dump');
    const before = await vmi(id);
    assert.equal((await act(id, { reboot: { type: 'SOFT' } })).status, 202);
    await eventually('soft reboot through the subresource', async () => (await vmi(id)).metadata.annotations?.[SOFT_REBOOTS_ANNOTATION] === '1');
    await settled(id, 'ACTIVE');
    assert.equal((await vmi(id)).metadata.uid, before.metadata.uid, 'a soft reboot keeps the VMI');
  });

  test('os-resetState (admin) forces ERROR and back; evacuate needs the host down and rebuilds elsewhere', async () => {
    const id = await create('reset-me');
    assert.equal((await act(id, { 'os-resetState': { state: 'error' } })).status, 403);
    assert.equal((await act(id, { 'os-resetState': { state: 'error' } }, admin)).status, 202);
    await settled(id, 'ERROR');
    assert.equal((await act(id, { pause: null })).status, 409, 'ERROR forbids pause');
    assert.equal((await act(id, { 'os-resetState': { state: 'active' } }, admin)).status, 202);
    await settled(id, 'ACTIVE');

    const host = (await show(id))['OS-EXT-SRV-ATTR:host'];
    const ev = await act(id, { evacuate: {} }, admin, '2.68');
    assert.equal(ev.status, 400);
    assert.equal(ev.body.badRequest.message, `Compute service of ${host} is still in use.`);
    await kova.client.mergePatch(NODES, host, undefined, { spec: { taints: [{ key: 'compute.kova.io/forced-down', value: 'true', effect: 'NoSchedule' }] } });
    try {
      await eventually('façade sees the host down', async () => api.facade.caches.nodes.get(host)?.spec?.taints?.length);
      const r = await act(id, { evacuate: {} }, admin, '2.68');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, {});
      const moved = await settled(id, 'ACTIVE');
      assert.notEqual(moved['OS-EXT-SRV-ATTR:host'], host);
    } finally {
      await kova.client.mergePatch(NODES, host, undefined, { spec: { taints: null } });
    }
  });

  test('with a reclaim interval, delete soft-deletes; restore brings it back; forceDelete and the interval delete it', async () => {
    kova.cfg.reclaimInstanceIntervalSeconds = 2;
    try {
      const id = await create('soft-me');
      assert.equal((await api.call('DELETE', `/v2.1/servers/${id}`, { token: member })).status, 204);
      await settled(id, 'SOFT_DELETED');
      assert.equal((await act(id, { restore: null })).status, 202);
      await settled(id, 'ACTIVE');
      assert.equal((await api.call('DELETE', `/v2.1/servers/${id}`, { token: member })).status, 204);
      await settled(id, 'SOFT_DELETED');
      await eventually('reclaimed after the interval', async () => (await api.call('GET', `/v2.1/servers/${id}`, { token: member })).status === 404, 15_000);
      const id2 = await create('force-me');
      assert.equal((await api.call('DELETE', `/v2.1/servers/${id2}`, { token: member })).status, 204);
      await settled(id2, 'SOFT_DELETED');
      assert.equal((await act(id2, { forceDelete: null })).status, 202);
      await eventually('force-deleted', async () => (await api.call('GET', `/v2.1/servers/${id2}`, { token: member })).status === 404);
    } finally {
      kova.cfg.reclaimInstanceIntervalSeconds = 0;
    }
  });

  test('every action a state forbids is refused with 409 and Nova\'s message, and nothing changes', async () => {
    // One server per vm_state the table names and Kova can reach.
    const states: Record<string, string> = {};
    states.active = await create('st-active');
    states.stopped = await create('st-stopped');
    assert.equal((await act(states.stopped, { 'os-stop': null })).status, 202);
    await settled(states.stopped, 'SHUTOFF');
    states.paused = await create('st-paused');
    await act(states.paused, { pause: null });
    await settled(states.paused, 'PAUSED');
    states.suspended = await create('st-suspended');
    await act(states.suspended, { suspend: null });
    await settled(states.suspended, 'SUSPENDED');
    states.shelved_offloaded = await create('st-shelved');
    await act(states.shelved_offloaded, { shelve: null });
    await settled(states.shelved_offloaded, 'SHELVED_OFFLOADED');
    states.resized = await create('st-resized');
    await act(states.resized, { resize: { flavorRef: '2' } });
    await settled(states.resized, 'VERIFY_RESIZE');
    states.rescued = await create('st-rescued');
    await act(states.rescued, { rescue: null });
    await settled(states.rescued, 'RESCUE');
    states.error = await create('st-error');
    await act(states.error, { 'os-resetState': { state: 'error' } }, admin);
    await settled(states.error, 'ERROR');

    const bodies: Record<string, unknown> = {
      'os-stop': null, 'os-start': null, pause: null, unpause: null, suspend: null, resume: null, shelve: null, shelveOffload: null, unshelve: null,
      rescue: null, unrescue: null, confirmResize: null, revertResize: null, resize: { flavorRef: '1' }, migrate: null, createImage: { name: 'x' },
      createBackup: { name: 'x', backup_type: 'daily', rotation: 1 }, rebuild: { imageRef: imageId }, 'os-migrateLive': { host: null, block_migration: 'auto' },
      restore: null, trigger_crash_dump: null,
    };
    let refused = 0;
    for (const [vmState, id] of Object.entries(states)) {
      const s = server(id);
      for (const [action, body] of Object.entries(bodies)) {
        let allowed = true;
        try {
          checkAction(action, { ...serverState(s, { pending: true }), vmState: vmState as never }, { admin: true });
        } catch {
          allowed = false;
        }
        if (allowed) continue;
        const rv = server(id).metadata.resourceVersion;
        const r = await act(id, { [action]: body }, admin);
        assert.equal(r.status, 409, `${action} in ${vmState}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.conflictingRequest.message, `Cannot '${action}' instance ${id} while it is in vm_state ${vmState}`);
        assert.equal(server(id).metadata.resourceVersion, rv, `${action} in ${vmState} changed nothing`);
        refused++;
      }
    }
    assert.ok(refused > 60, `${refused} refusals checked`);
    assert.ok(Object.keys(bodies).every((a) => ACTION_RULES[a]), 'every action has a rule');
  });

  test('the same lifecycle driven only by spec changes (kubectl apply); a change the state forbids is refused in a condition and an Event', async () => {
    const id = await create('gitops');
    const name = server(id).metadata.name ?? '';
    // kubectl apply, then wait until the controller has seen that generation (GitOps' observedGeneration).
    const apply = async (spec: Record<string, unknown>) => {
      const applied = await kova.client.apply<Server>(SERVERS, { apiVersion: 'compute.kova.io/v1alpha1', kind: 'Server', metadata: { name, namespace: ns }, spec: spec as Server['spec'] }, { fieldManager: 'gitops', force: true });
      await eventually('generation observed', async () => (server(id).status?.observedGeneration ?? 0) >= (applied.metadata.generation ?? 0));
    };
    const base = { name: 'gitops', flavor: 'm1.tiny', image: 'cirros', availabilityZone: zone };
    await apply({ ...base, flavor: 'm1.small' });
    await settled(id, 'VERIFY_RESIZE');
    await apply({ ...base, flavor: 'm1.small', confirmResize: { requestId: 'confirm-1' } });
    await settled(id, 'ACTIVE');
    await apply({ ...base, flavor: 'm1.small', image: 'fedora' });
    const rebuilt = await settled(id, 'ACTIVE');
    assert.equal(rebuilt.image.id, otherImageId);
    await apply({ ...base, flavor: 'm1.small', image: 'fedora', powerState: 'Shelved' });
    await settled(id, 'SHELVED_OFFLOADED');
    // Nova forbids a resize of a shelved server: refused, reported, nothing done.
    await apply({ ...base, flavor: 'm1.tiny', image: 'fedora', powerState: 'Shelved' });
    const refused = await eventually('refusal reported', async () => server(id).status?.conditions?.find((c) => c.type === 'Accepted' && c.status === 'False'));
    assert.match(refused.message ?? '', /Cannot 'resize' instance .* while it is in vm_state shelved_offloaded/);
    const events = await eventually('RequestRefused event', async () => {
      const l = await kova.client.list<KubeEvent>(EVENTS, { namespace: ns });
      return l.items.find((e) => e.reason === 'RequestRefused' && e.regarding?.name === name);
    });
    assert.ok(events);
    assert.equal((await show(id)).status, 'SHELVED_OFFLOADED');
    await apply({ ...base, flavor: 'm1.small', image: 'fedora', powerState: 'Running' });
    const back = await settled(id, 'ACTIVE');
    assert.equal(back.flavor.original_name, 'm1.small');
    // What was asked through the spec is in the server's instance actions too (no Nova user).
    const actions = (await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: member, version: '2.58' })).body.instanceActions as { action: string; user_id: string | null; request_id: string }[];
    assert.deepEqual(actions.map((a) => a.action), ['unshelve', 'shelve', 'rebuild', 'confirmResize', 'resize', 'create']);
    assert.match(actions[0]!.request_id, /^req-[0-9a-f-]{36}$/);
  });

  test('the controller killed during a resize and a rebuild: restarted, it finishes each once', async () => {
    await kova.stopController();
    const child = spawnController();
    let second: ReturnType<typeof spawnController> | undefined;
    try {
      const id = await create('killed');
      const name = server(id).metadata.name ?? '';
      const uids = new Set<string>();
      const watchUids = setInterval(() => {
        void kova.client.find<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, name, ns).then((v) => v?.metadata.uid && uids.add(v.metadata.uid), () => undefined);
      }, 20);
      try {
        uids.add((await vmi(id)).metadata.uid ?? '');
        assert.equal((await act(id, { resize: { flavorRef: '2' } })).status, 202);
        await eventually('resize under way', async () => server(id).status?.operation?.kind === 'resize');
        child.kill('SIGKILL');
        second = spawnController();
        await settled(id, 'VERIFY_RESIZE');
        await act(id, { confirmResize: null });
        await settled(id, 'ACTIVE');
        assert.equal(uids.size, 2, `one VMI replaced once (saw ${uids.size})`);
        assert.equal((await act(id, { rebuild: { imageRef: otherImageId } })).status, 202);
        await eventually('rebuild under way', async () => server(id).status?.operation?.kind === 'rebuild');
        second.kill('SIGKILL');
        second = spawnController();
        const done = await settled(id, 'ACTIVE');
        assert.equal(done.image.id, otherImageId);
        assert.equal(uids.size, 3, `rebuilt once (saw ${uids.size} VMIs)`);
        const dvs = (await kova.client.list<DataVolume>(DATA_VOLUMES, { namespace: ns, labelSelector: `compute.kova.io/server=${name}` })).items.filter((d) => !d.metadata.deletionTimestamp);
        assert.equal(dvs.filter((d) => d.metadata.name?.startsWith(`${name}-root-`)).length, 1, 'one new root disk');
      } finally {
        clearInterval(watchUids);
      }
    } finally {
      // Both spawned controllers are gone before the in-process one comes back: never two at once.
      const exited = (p: ReturnType<typeof spawnController> | undefined) => (p && p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : Promise.resolve());
      const gone = Promise.all([exited(child), exited(second)]);
      child.kill('SIGKILL');
      second?.kill('SIGTERM');
      await gone;
      await kova.startController();
    }
  });
});
