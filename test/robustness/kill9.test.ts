// kill -9 of the controller, three times, during a burst of servers created with kubectl: once it is
// back each time, every server is built exactly once — as many VMs, root disks and VMIs as servers,
// none orphaned, every server ACTIVE, no action recorded twice.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVERS, type Server } from '../../src/api/server.ts';
import type { ControlPlane } from '../../src/controlplane/controlplane.ts';
import { freePort } from '../../src/controlplane/controlplane.ts';
import { DATA_VOLUMES, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES } from '../../src/kubevirt/types.ts';
import { startKova, type Kova } from '../support/cluster.ts';
import { ensureFlavor, project } from '../support/fixtures.ts';
import { spawnController } from '../support/processes.ts';
import { eventually } from '../support/waiting.ts';
import { pool } from '../support/pool.ts';
import { startOwnControlPlane } from './cluster.ts';

const N = Number(process.env.KOVA_ROBUSTNESS_SERVERS ?? 500);

describe('kill -9 of the controller during a burst', () => {
  let cp: ControlPlane;
  let kova: Kova;
  let ns: string;
  let controller: ChildProcess | undefined;

  before(async () => {
    cp = await startOwnControlPlane();
    kova = await startKova({ controller: false });
    const nodes = Array.from({ length: Math.ceil(N / 200) + 1 }, (_, i) => ({ name: `burst-node-${i}`, cpu: '512', memory: '4Ti', pods: '250' }));
    ({ namespace: ns } = await project(kova.client, { nodes }));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
  });
  after(async () => {
    controller?.kill('SIGKILL');
    await kova?.stop();
    await cp?.stop();
  });

  const start = async (): Promise<ChildProcess> => {
    const c = spawnController({ metricsPort: await freePort() });
    c.stderr?.resume();
    return c;
  };

  test(`${N} servers, the controller killed three times: exactly ${N} VMs, no orphan, no duplicate, all ACTIVE`, async () => {
    controller = await start();
    const burst = pool(N, 25, (i) => kova.client.create(SERVERS, { metadata: { name: `b-${i}`, namespace: ns }, spec: { name: `b-${i}`, flavor: 'm1.tiny', image: 'cirros' } }));
    const kills: number[] = [];
    for (let k = 0; k < 3; k++) {
      // Killed while servers are being built: some VMs made, some statuses not yet written.
      await eventually('the controller at work', async () => (await kova.client.listAll(VIRTUAL_MACHINES, { namespace: ns })).items.length > kills.length * (N / 4) || undefined, 600_000);
      controller.kill('SIGKILL');
      kills.push((await kova.client.listAll(VIRTUAL_MACHINES, { namespace: ns })).items.length);
      await sleep(1000);
      controller = await start();
    }
    await burst;
    const all = await eventually(`all ${N} ACTIVE`, async () => {
      const servers = (await kova.client.listAll<Server>(SERVERS, { namespace: ns })).items;
      const errors = servers.filter((s) => s.status?.status === 'ERROR');
      if (errors.length) throw new Error(`${errors.length} in ERROR: ${JSON.stringify(errors[0]!.status?.fault)}`);
      return servers.length === N && servers.every((s) => s.status?.status === 'ACTIVE') ? servers : undefined;
    }, 1_200_000);
    const vms = (await kova.client.listAll(VIRTUAL_MACHINES, { namespace: ns })).items;
    const vmis = (await kova.client.listAll(VIRTUAL_MACHINE_INSTANCES, { namespace: ns })).items;
    const dvs = (await kova.client.listAll(DATA_VOLUMES, { namespace: ns })).items;
    const uids = new Set(all.map((s) => s.metadata.uid));
    assert.equal(vms.length, N, `VMs (kills at ${kills.join(', ')} VMs)`);
    assert.equal(vmis.length, N, 'VMIs');
    assert.equal(dvs.length, N, 'root disks: one per server');
    assert.deepEqual(vms.filter((v) => !v.metadata.ownerReferences?.some((o) => uids.has(o.uid))).map((v) => v.metadata.name), [], 'orphaned VMs');
    const repeated = all.filter((s) => {
      const ids = (s.status?.instanceActions ?? []).map((a) => a.requestId);
      return new Set(ids).size !== ids.length;
    });
    assert.deepEqual(repeated.map((s) => s.metadata.name), [], 'no action recorded twice');
  });
});
