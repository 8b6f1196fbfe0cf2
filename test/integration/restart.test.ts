// The controller killed (SIGKILL) in the middle of building servers and started again converges:
// every Server ACTIVE, exactly one VM each, owned by it, and no orphaned VMs or DataVolumes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { DATA_VOLUMES, VIRTUAL_MACHINES, type DataVolume, type VirtualMachine } from '../../src/kubevirt/types.ts';
import { sleep } from '../../src/kube/informer.ts';
import { startKova, type Kova } from '../support/cluster.ts';
import { spawnController } from '../support/processes.ts';
import { eventually, serverStatusIs } from '../support/waiting.ts';
import { createServer, ensureFlavor, project } from '../support/fixtures.ts';

describe('controller restart', () => {
  let kova: Kova;
  let ns: string;
  let zone: string;

  before(async () => {
    kova = await startKova({ controller: false, stepMs: 100 });
    ({ namespace: ns, zone } = await project(kova.client));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
  });
  after(() => kova.stop());

  test('killed mid-way and restarted, it converges with no duplicate or orphaned VMs', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `r${i}`);
    const first = spawnController();
    const exited = new Promise((r) => first.once('exit', r));
    for (const n of names) await createServer(kova.client, ns, n, { availabilityZone: zone });
    // Kill it as soon as it has made some VMs, while servers are still building.
    await eventually('the first VMs', async () => (await kova.client.list<VirtualMachine>(VIRTUAL_MACHINES, { namespace: ns })).items.length >= 2, 60_000);
    first.kill('SIGKILL');
    await exited;
    const midway = await kova.client.list<Server>(SERVERS, { namespace: ns });
    assert.ok(midway.items.some((s) => s.status?.status !== 'ACTIVE'), 'the kill happened before every server was ACTIVE');

    await sleep(500);
    const second = spawnController();
    try {
      for (const n of names) await serverStatusIs(kova.client, ns, n, 'ACTIVE', undefined);
      const vms = (await kova.client.list<VirtualMachine>(VIRTUAL_MACHINES, { namespace: ns })).items;
      const servers = (await kova.client.list<Server>(SERVERS, { namespace: ns })).items;
      assert.deepEqual(vms.map((v) => v.metadata.name).sort(), [...names].sort());
      for (const vm of vms) {
        const owners = vm.metadata.ownerReferences ?? [];
        assert.equal(owners.length, 1);
        assert.equal(owners[0]?.uid, servers.find((s) => s.metadata.name === vm.metadata.name)?.metadata.uid);
      }
      const dvs = (await kova.client.list<DataVolume>(DATA_VOLUMES, { namespace: ns })).items;
      assert.deepEqual(dvs.map((d) => d.metadata.name).sort(), names.map((n) => `${n}-root`).sort());
    } finally {
      const gone = new Promise((r) => second.once('exit', r));
      second.kill('SIGTERM');
      await gone;
    }
  });
});
