// Every row of the KubeVirt → Nova status mapping, reached by real virt-controller (it computes
// printableStatus) from what the simulated node side does (its holds and failure injection: the
// kubelet, virt-handler, CDI's importer), and asserted on Server.status.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SERVERS } from '../../src/api/server.ts';
import { VIRTUAL_MACHINES, type VirtualMachine } from '../../src/kubevirt/types.ts';
import { HOLD, INJECT } from '../../src/sim/injections.ts';
import { startKova, type Kova } from '../support/cluster.ts';
import { eventually, serverStatusIs, serverWhere } from '../support/waiting.ts';
import { createServer, ensureFlavor, project, uniq } from '../support/fixtures.ts';

describe('KubeVirt state → Nova status', () => {
  let kova: Kova;
  let ns: string;
  let zone: string;

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
  });
  after(() => kova.stop());

  const server = async (annotations?: Record<string, string>, spec: Record<string, unknown> = {}): Promise<string> => {
    const name = uniq('s');
    await createServer(kova.client, ns, name, { availabilityZone: zone, ...spec }, annotations);
    return name;
  };
  const annotate = (name: string, annotations: Record<string, string | null>) => kova.client.mergePatch(SERVERS, name, ns, { metadata: { annotations } });
  const printable = async (name: string, want: string) =>
    eventually(`VM ${name} printableStatus ${want}`, async () => (await kova.client.get<VirtualMachine>(VIRTUAL_MACHINES, name, ns)).status?.printableStatus === want);

  test('Provisioning → BUILD / block_device_mapping / NOSTATE, with import progress', async () => {
    const name = await server({ [HOLD]: 'provisioning' });
    await printable(name, 'Provisioning');
    const s = await serverWhere(kova.client, ns, name, 'shows import progress', (x) => x.status?.taskState === 'block_device_mapping' && (x.status?.progress ?? 0) > 0);
    assert.equal(s.status?.status, 'BUILD');
    assert.equal(s.status?.vmState, 'building');
    assert.equal(s.status?.powerState, 'NOSTATE');
    await annotate(name, { [HOLD]: null });
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
  });

  test('WaitingForVolumeBinding (the root disk waits for its first consumer) → BUILD / block_device_mapping / NOSTATE', async () => {
    const name = await server({ [HOLD]: 'volume-binding' });
    await printable(name, 'WaitingForVolumeBinding');
    const s = await serverStatusIs(kova.client, ns, name, 'BUILD', 'block_device_mapping');
    assert.equal(s.status?.powerState, 'NOSTATE');
    await annotate(name, { [HOLD]: null });
    await serverStatusIs(kova.client, ns, name, 'ACTIVE', undefined, 60_000);
  });

  test('Starting before the first boot → BUILD / spawning / NOSTATE', async () => {
    const name = await server({ [HOLD]: 'starting' });
    await printable(name, 'Starting');
    const s = await serverStatusIs(kova.client, ns, name, 'BUILD', 'spawning');
    assert.equal(s.status?.powerState, 'NOSTATE');
    assert.equal(s.status?.launchedAt, undefined);
  });

  test('Running → ACTIVE / – / Running; Paused → PAUSED / – / Paused', async () => {
    const name = await server();
    const a = await serverStatusIs(kova.client, ns, name, 'ACTIVE');
    assert.equal(a.status?.powerState, 'Running');
    await annotate(name, { [INJECT]: 'paused' });
    await printable(name, 'Paused');
    const p = await serverStatusIs(kova.client, ns, name, 'PAUSED');
    assert.equal(p.status?.powerState, 'Paused');
    assert.equal(p.status?.vmState, 'paused');
    await annotate(name, { [INJECT]: null });
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
  });

  test('Stopping → ACTIVE / powering-off / Running; Stopped → SHUTOFF / – / Shutdown; Starting after a stop → SHUTOFF / powering-on / Shutdown', async () => {
    const name = await server({ [HOLD]: 'stopping' });
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
    await kova.client.mergePatch(SERVERS, name, ns, { spec: { powerState: 'Shutoff' } });
    await printable(name, 'Stopping');
    const stopping = await serverStatusIs(kova.client, ns, name, 'ACTIVE', 'powering-off');
    assert.equal(stopping.status?.powerState, 'Running');
    await annotate(name, { [HOLD]: 'starting' });
    await printable(name, 'Stopped');
    const off = await serverStatusIs(kova.client, ns, name, 'SHUTOFF');
    assert.equal(off.status?.powerState, 'Shutdown');
    await kova.client.mergePatch(SERVERS, name, ns, { spec: { powerState: 'Running' } });
    await printable(name, 'Starting');
    const starting = await serverStatusIs(kova.client, ns, name, 'SHUTOFF', 'powering-on');
    assert.equal(starting.status?.powerState, 'Shutdown');
    await annotate(name, { [HOLD]: null });
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
  });

  test('Migrating → MIGRATING / migrating / Running', async () => {
    const name = await server();
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
    await annotate(name, { [INJECT]: 'migrating' });
    await printable(name, 'Migrating');
    const m = await serverStatusIs(kova.client, ns, name, 'MIGRATING', 'migrating');
    assert.equal(m.status?.powerState, 'Running');
    await annotate(name, { [INJECT]: null });
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
  });

  const errorCases: [string, string, RegExp][] = [
    ['crash-loop', 'CrashLoopBackOff', /CrashLoopBackOff/],
    ['image-pull-error', 'ErrImagePull', /could not be pulled \(ErrImagePull\)/],
    ['image-pull-backoff', 'ImagePullBackOff', /could not be pulled \(ImagePullBackOff\)/],
    ['pvc-not-found', 'ErrorPvcNotFound', /ErrorPvcNotFound/],
    ['data-volume-error', 'DataVolumeError', /DataVolumeError/],
  ];
  for (const [inject, printableStatus, message] of errorCases) {
    test(`${printableStatus} → ERROR with a fault`, async () => {
      const name = await server({ [INJECT]: inject });
      await printable(name, printableStatus);
      const s = await serverStatusIs(kova.client, ns, name, 'ERROR');
      assert.equal(s.status?.vmState, 'error');
      assert.equal(s.status?.fault?.code, 500);
      assert.match(s.status?.fault?.message ?? '', message);
      assert.ok(s.status?.fault?.created);
      const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'False');
      assert.equal(ready?.reason, 'Error');
    });
  }

  test('ErrorUnschedulable (no Node can take the launcher pod) → ERROR "No valid host was found"', async () => {
    await ensureFlavor(kova.client, { id: 'huge', name: 'huge', vcpus: 512, ramMiB: 512, diskGiB: 1 });
    const name = await server(undefined, { flavor: 'huge' });
    await printable(name, 'ErrorUnschedulable');
    const s = await serverStatusIs(kova.client, ns, name, 'ERROR');
    assert.match(s.status?.fault?.message ?? '', /No valid host was found/);
    assert.match(s.status?.fault?.details ?? '', /Insufficient cpu/);
  });

  test('a crash loop that stops crashing recovers to ACTIVE', async () => {
    const name = await server({ [INJECT]: 'crash-loop' });
    await serverStatusIs(kova.client, ns, name, 'ERROR');
    await annotate(name, { [INJECT]: null });
    // KubeVirt retries a VM that failed to start after a back-off (10 s and more after the first failure).
    const s = await serverStatusIs(kova.client, ns, name, 'ACTIVE', undefined, 120_000);
    assert.equal(s.status?.fault, undefined);
  });

  test('Unknown → UNKNOWN', async () => {
    const name = await server();
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
    await annotate(name, { [INJECT]: 'unknown' });
    await printable(name, 'Unknown');
    const s = await serverStatusIs(kova.client, ns, name, 'UNKNOWN');
    assert.equal(s.status?.powerState, 'NOSTATE');
  });

  test('Terminating → previous status / deleting', async () => {
    const name = await server({ [HOLD]: 'terminating' });
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
    // Foreground deletion keeps the Server until its VM is gone, as `openstack server delete` shows.
    await kova.client.delete(SERVERS, name, ns, { propagationPolicy: 'Foreground' });
    // The VM itself is being deleted (held by the node side), as real virt-controller reports it.
    await printable(name, 'Terminating');
    const s = await serverStatusIs(kova.client, ns, name, 'ACTIVE', 'deleting');
    assert.equal(s.status?.powerState, 'Running');
    // The controller leaves a Server that is being deleted alone, so release the VM directly.
    await kova.client.mergePatch(VIRTUAL_MACHINES, name, ns, { metadata: { annotations: { [HOLD]: null } } });
    await eventually('the server to be gone', async () => !(await kova.client.find(SERVERS, name, ns)), 60_000);
  });

});
