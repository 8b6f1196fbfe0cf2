// Leader failover in the middle of an operation: two `kova controller` processes on one Lease; the
// leader is killed (-9) while a resize runs, then while a live migration runs. The standby takes over
// and each operation ends once: one outcome, one instance action, one migration record.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { ControlPlane } from '../../src/controlplane/controlplane.ts';
import { freePort } from '../../src/controlplane/controlplane.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { LEASES } from '../../src/kube/types.ts';
import { ensureNamespace } from '../../src/sim/seed.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { ensureFlavor, project, uniq } from '../support/fixtures.ts';
import { grant } from '../support/people.ts';
import { spawnController } from '../support/processes.ts';
import { eventually } from '../support/waiting.ts';
import { startOwnControlPlane } from './cluster.ts';

describe('leader failover in the middle of an operation', () => {
  let cp: ControlPlane;
  let kova: Kova;
  let api: Api;
  let ns: string;
  let admin: string;
  let imageId: string;
  const leaseNs = uniq('kova-system');
  const procs: ChildProcess[] = [];

  const spawn = async (): Promise<ChildProcess> => {
    const c = spawnController({ leaderElect: true, metricsPort: await freePort(), env: { KOVA_NAMESPACE: leaseNs, KOVA_LEASE_DURATION_MS: '3000', KOVA_RENEW_DEADLINE_MS: '2000', KOVA_RETRY_PERIOD_MS: '500' } });
    c.stderr?.resume();
    procs.push(c);
    return c;
  };
  const leader = async (): Promise<ChildProcess> => {
    const id = await eventually('a leader', async () => (await kova.client.find<{ metadata: object; spec?: { holderIdentity?: string } }>(LEASES, 'kova-controller', leaseNs))?.spec?.holderIdentity || undefined, 30_000);
    const p = procs.find((c) => c.exitCode === null && c.signalCode === null && id.endsWith(`_${c.pid}`));
    assert.ok(p, `the Lease holder ${id} is a live process`);
    return p;
  };
  /** Kills the leader, starts a new standby, and waits until another process holds the Lease. */
  const failover = async (): Promise<void> => {
    const old = await leader();
    old.kill('SIGKILL');
    await spawn();
    await eventually('another leader', async () => ((await leader()) !== old ? true : undefined), 30_000);
  };

  before(async () => {
    cp = await startOwnControlPlane();
    kova = await startKova({ controller: false });
    ({ namespace: ns } = await project(kova.client, { nodes: [{ name: uniq('node') }, { name: uniq('node') }] }));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureFlavor(kova.client, { id: '2', name: 'm1.small', vcpus: 1, ramMiB: 2048, diskGiB: 2 });
    await ensureNamespace(kova.client, leaseNs);
    await spawn();
    await spawn();
    api = await startApi(kova);
    await grant(kova.client, 'root', 'kova-admin');
    await eventually('project in the cache', async () => api.facade.caches.projectByIdOrName(ns));
    admin = api.token('root', ns);
    imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
  });
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await api?.stop();
    await kova?.stop();
    await cp?.stop();
  });

  const show = async (id: string) => (await api.call('GET', `/v2.1/servers/${id}`, { token: admin, version: '2.90' })).body.server;
  const settled = (id: string, want: string) => eventually(`server ${want}`, async () => {
    const s = await show(id);
    return s.status === want && s['OS-EXT-STS:task_state'] === null ? s : undefined;
  }, 120_000);
  const serverObject = (id: string): Server => api.facade.caches.servers.byIndex('uid', id)[0]!;

  test('a resize and a live migration, each with the leader killed mid-way: one outcome, one action, one record', async () => {
    const r = await api.call('POST', '/v2.1/servers', { token: admin, version: '2.90', body: { server: { name: 'failover', flavorRef: '1', imageRef: imageId, networks: 'auto' } } });
    assert.equal(r.status, 202);
    const id = r.body.server.id as string;
    await settled(id, 'ACTIVE');

    assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: admin, version: '2.90', body: { resize: { flavorRef: '2' } } })).status, 202);
    await eventually('resize under way', async () => serverObject(id).status?.operation?.kind === 'resize' || undefined);
    await failover();
    await settled(id, 'VERIFY_RESIZE');
    assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: admin, version: '2.90', body: { confirmResize: null } })).status, 204);
    const resized = await settled(id, 'ACTIVE');
    assert.equal(resized.flavor.original_name, 'm1.small');

    const from = resized['OS-EXT-SRV-ATTR:host'];
    assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: admin, version: '2.90', body: { 'os-migrateLive': { host: null, block_migration: 'auto' } } })).status, 202);
    await eventually('migration under way', async () => serverObject(id).status?.operation?.kind === 'liveMigrate' || undefined);
    await failover();
    const moved = await settled(id, 'ACTIVE');
    assert.notEqual(moved['OS-EXT-SRV-ATTR:host'], from, 'on another host');

    const actions = (await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: admin, version: '2.90' })).body.instanceActions.map((a: { action: string }) => a.action);
    assert.deepEqual(actions, ['live-migration', 'confirmResize', 'resize', 'create']);
    const migrations = (await api.call('GET', `/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, version: '2.90' })).body.migrations;
    assert.deepEqual(migrations.map((m: { migration_type: string; status: string }) => `${m.migration_type}:${m.status}`).sort(), ['live-migration:completed', 'resize:confirmed']);
    const server = await kova.client.get<Server>(SERVERS, serverObject(id).metadata.name ?? '', ns);
    assert.equal(server.status?.operation, undefined, 'no operation left over');
  });
});
