// Missing references put a Server in ERROR with a fault naming what is missing, nothing half-made is
// left behind, and the Server recovers once the reference appears. More servers than the Nodes can
// hold: the real kube-scheduler finds no room and the extra ones are ERROR "No valid host was found".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FLAVORS } from '../../src/api/flavor.ts';
import { KEYPAIRS, type KeyPair } from '../../src/api/keypair.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { NO_VALID_HOST } from '../../src/nova/status.ts';
import { DATA_VOLUMES, VIRTUAL_MACHINES } from '../../src/kubevirt/types.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { startKova, type Kova } from '../support/cluster.ts';
import { eventually, serverStatusIs } from '../support/waiting.ts';
import { createServer, ensureFlavor, project, uniq, TEST_PUBLIC_KEY as PUBLIC_KEY } from '../support/fixtures.ts';

describe('references and capacity', () => {
  let kova: Kova;
  let ns: string;
  let zone: string;

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client));
  });
  after(() => kova.stop());

  const assertNothingMade = async (name: string): Promise<void> => {
    assert.equal(await kova.client.find(VIRTUAL_MACHINES, name, ns), undefined, 'no VM while a reference is missing');
    assert.equal(await kova.client.find(DATA_VOLUMES, `${name}-root`, ns), undefined, 'no DataVolume either');
  };

  test('an unknown flavor → ERROR naming it; the server recovers when the flavor appears', async () => {
    const flavor = uniq('later');
    await createServer(kova.client, ns, 'f', { flavor, availabilityZone: zone });
    const s = await serverStatusIs(kova.client, ns, 'f', 'ERROR');
    assert.equal(s.status?.fault?.message, `Flavor ${flavor} could not be found.`);
    assert.equal(s.status?.fault?.code, 404);
    await assertNothingMade('f');
    await ensureFlavor(kova.client, { id: flavor, name: flavor, vcpus: 1, ramMiB: 256 });
    const ok = await serverStatusIs(kova.client, ns, 'f', 'ACTIVE');
    assert.equal(ok.status?.fault, undefined);
  });

  test('an unknown image → ERROR naming it; recovers when the image appears', async () => {
    await ensureFlavor(kova.client, { id: 'tiny', name: 'tiny', vcpus: 1, ramMiB: 256 });
    const image = uniq('img');
    await createServer(kova.client, ns, 'i', { flavor: 'tiny', image, availabilityZone: zone });
    const s = await serverStatusIs(kova.client, ns, 'i', 'ERROR');
    assert.equal(s.status?.fault?.message, `Image ${image} could not be found.`);
    await assertNothingMade('i');
    await ensureImage(kova.client, 'kova-images', image);
    await serverStatusIs(kova.client, ns, 'i', 'ACTIVE');
  });

  test('an unknown key pair → ERROR "Invalid key_name provided."; recovers when it is imported', async () => {
    await createServer(kova.client, ns, 'k', { flavor: 'tiny', keyName: 'late-key', availabilityZone: zone });
    const s = await serverStatusIs(kova.client, ns, 'k', 'ERROR');
    assert.equal(s.status?.fault?.message, 'Invalid key_name provided.');
    assert.match(s.status?.fault?.details ?? '', /late-key/);
    await assertNothingMade('k');
    await kova.client.create<KeyPair>(KEYPAIRS, { metadata: { name: 'late-key', namespace: ns }, spec: { name: 'late-key', publicKey: PUBLIC_KEY } });
    await serverStatusIs(kova.client, ns, 'k', 'ACTIVE');
  });

  test('a flavor with an unsupported extra spec → the server is ERROR naming it', async () => {
    const flavor = uniq('odd');
    await ensureFlavor(kova.client, { id: flavor, name: flavor, vcpus: 1, ramMiB: 256, extraSpecs: { 'hw:cpu_thread_policy': 'isolate' } });
    await createServer(kova.client, ns, 'x', { flavor, availabilityZone: zone });
    const s = await serverStatusIs(kova.client, ns, 'x', 'ERROR');
    assert.equal(s.status?.fault?.message, `Flavor ${flavor} cannot be used.`);
    assert.match(s.status?.fault?.details ?? '', /hw:cpu_thread_policy/);
    await assertNothingMade('x');
    await kova.client.mergePatch(FLAVORS, flavor, undefined, { spec: { extraSpecs: { 'hw:cpu_thread_policy': null } } });
    await serverStatusIs(kova.client, ns, 'x', 'ACTIVE');
  });

  test('more servers than the Nodes can hold → the extra ones are ERROR "No valid host was found"', async () => {
    // Two small Nodes of their own zone, each room for one 2 GiB server (plus launcher overhead).
    const small = await project(kova.client, { nodes: [{ name: uniq('small'), memory: '3Gi' }, { name: uniq('small'), memory: '3Gi' }] });
    await ensureFlavor(kova.client, { id: 'big', name: 'big', vcpus: 1, ramMiB: 2048 });
    for (const n of ['c1', 'c2', 'c3']) await createServer(kova.client, small.namespace, n, { flavor: 'big', availabilityZone: small.zone });
    let seen = '';
    const servers = await eventually('two ACTIVE and one ERROR', async () => {
      const list = await Promise.all(['c1', 'c2', 'c3'].map((n) => kova.client.get<Server>(SERVERS, n, small.namespace)));
      seen = list.map((s) => `${s.metadata.name}: ${s.status?.status}/${s.status?.taskState ?? '-'} ${s.status?.fault?.details ?? ''}`).join('; ');
      const count = (st: string) => list.filter((s) => s.status?.status === st).length;
      return count('ACTIVE') === 2 && count('ERROR') === 1 ? list : undefined;
    }, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${seen}`);
    });
    const active = servers.filter((s) => s.status?.status === 'ACTIVE');
    const failed = servers.filter((s) => s.status?.status === 'ERROR');
    assert.notEqual(active[0]?.status?.host, active[1]?.status?.host, 'one per node');
    assert.equal(failed[0]?.status?.fault?.message, NO_VALID_HOST);
    assert.equal(failed[0]?.status?.fault?.code, 500);
    assert.match(failed[0]?.status?.fault?.details ?? '', /Insufficient memory/);
  });
});
