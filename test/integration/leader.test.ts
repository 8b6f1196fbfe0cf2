// Leader election on a Lease with two real `kova controller` processes: one leads, the leader is
// killed and the other takes over within the lease duration, a graceful stop releases the Lease at
// once, and nothing is made twice. Each process serves /metrics, /healthz and /readyz.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/controlplane/controlplane.ts';
import { VIRTUAL_MACHINES, type VirtualMachine } from '../../src/kubevirt/types.ts';
import { LEASES } from '../../src/kube/types.ts';
import { ensureNamespace } from '../../src/sim/seed.ts';
import { startKova, type Kova } from '../support/cluster.ts';
import { spawnController } from '../support/processes.ts';
import { eventually, serverStatusIs } from '../support/waiting.ts';
import { createServer, ensureFlavor, project, uniq } from '../support/fixtures.ts';

const LEASE_MS = 3000;

describe('leader election', () => {
  let kova: Kova;
  let ns: string;
  let zone: string;
  const leaseNs = uniq('kova-system');
  const procs: { child: ChildProcess; port: number; exited: Promise<number | null> }[] = [];

  before(async () => {
    kova = await startKova({ controller: false });
    ({ namespace: ns, zone } = await project(kova.client));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureNamespace(kova.client, leaseNs);
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const child = spawnController({
        leaderElect: true,
        metricsPort: port,
        env: { KOVA_NAMESPACE: leaseNs, KOVA_LEASE_DURATION_MS: String(LEASE_MS), KOVA_RENEW_DEADLINE_MS: '2000', KOVA_RETRY_PERIOD_MS: '500' },
      });
      procs.push({ child, port, exited: new Promise((r) => child.once('exit', (code) => r(code))) });
    }
  });
  after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await kova.stop();
  });

  const holder = async (): Promise<string> =>
    ((await kova.client.find<{ metadata: object; spec?: { holderIdentity?: string } }>(LEASES, 'kova-controller', leaseNs))?.spec?.holderIdentity ?? '');
  const procOf = (identity: string) => procs.find((p) => identity.endsWith(`_${p.child.pid}`));
  const metrics = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

  test('one leads, the other stands by; both are healthy', async () => {
    const id = await eventually('a leader', async () => (await holder()) || undefined, 20_000);
    const leader = procOf(id);
    assert.ok(leader, `the holder ${id} is one of the two processes`);
    // The standby may still be starting, and the leader syncing its caches, when the Lease is taken.
    for (const p of procs) {
      await eventually(`process ${p.child.pid} healthy`, async () => (await fetch(`http://127.0.0.1:${p.port}/healthz`)).status === 200);
      await eventually(`process ${p.child.pid} ready`, async () => (await fetch(`http://127.0.0.1:${p.port}/readyz`)).status === 200);
    }
    await eventually('leader gauge', async () => /^kova_leader 1$/m.test(await metrics(leader.port)));
    const standby = procs.find((p) => p !== leader)!;
    assert.match(await metrics(standby.port), /^kova_leader 0$/m);
    await createServer(kova.client, ns, 'one', { availabilityZone: zone });
    await serverStatusIs(kova.client, ns, 'one', 'ACTIVE');
    const text = await metrics(leader.port);
    assert.match(text, /^kova_reconcile_duration_seconds_count\{controller="server"\} [1-9]/m);
    assert.match(text, /^kova_servers\{status="ACTIVE"\} [1-9]/m);
    assert.match(text, /^kova_workqueue_depth\{controller="server"\} \d+/m);
  });

  test('the leader killed → the standby takes over within the lease duration; nothing is made twice', async () => {
    const id = await holder();
    const leader = procOf(id)!;
    const standby = procs.find((p) => p !== leader)!;
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await leader.exited;
    const next = await eventually('a new leader', async () => {
      const h = await holder();
      return h && h !== id ? h : undefined;
    }, 20_000);
    const tookMs = Date.now() - killedAt;
    assert.equal(procOf(next), standby);
    assert.ok(tookMs < LEASE_MS + 2500, `took over in ${tookMs} ms (lease ${LEASE_MS} ms)`);
    await createServer(kova.client, ns, 'two', { availabilityZone: zone });
    await serverStatusIs(kova.client, ns, 'two', 'ACTIVE');
    const vms = (await kova.client.list<VirtualMachine>(VIRTUAL_MACHINES, { namespace: ns })).items;
    assert.deepEqual(vms.map((v) => v.metadata.name).sort(), ['one', 'two']);
  });

  test('SIGTERM releases the Lease at once and the process exits cleanly', async () => {
    const leader = procOf(await holder())!;
    leader.child.kill('SIGTERM');
    assert.equal(await leader.exited, 0);
    assert.equal(await holder(), '', 'the Lease was released, not left to expire');
  });
});
