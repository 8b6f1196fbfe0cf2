// Flavor + KeyPair + Server → a KubeVirt VirtualMachine, a Server that reaches ACTIVE, power changes
// through runStrategy, printer columns, and garbage collection by the real kube-controller-manager.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KEYPAIRS, type KeyPair } from '../../src/api/keypair.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { DATA_VOLUMES, VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, type VirtualMachine } from '../../src/kubevirt/types.ts';
import { SECRETS, type Secret } from '../../src/kube/types.ts';
import { startKova, type Kova } from '../support/cluster.ts';
import { kubectl } from '../support/processes.ts';
import { eventually, serverStatusIs } from '../support/waiting.ts';
import { createServer, ensureFlavor, project, uniq, TEST_PUBLIC_KEY as PUBLIC_KEY } from '../support/fixtures.ts';

describe('Server → VirtualMachine', () => {
  let kova: Kova;
  let ns: string;
  let zone: string;
  const flavor = uniq('f');

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client));
    await ensureFlavor(kova.client, { id: flavor, name: flavor, vcpus: 2, ramMiB: 1024, diskGiB: 5 });
    await kova.client.create<KeyPair>(KEYPAIRS, { metadata: { name: 'mykey', namespace: ns }, spec: { name: 'my key', type: 'ssh', publicKey: PUBLIC_KEY } });
  });
  after(() => kova.stop());

  test('applied Flavor, KeyPair and Server make a VM, and the Server reaches ACTIVE with an address and a host', async () => {
    const c = kova.client;
    const created = await createServer(c, ns, 'web', { flavor, keyName: 'my key', availabilityZone: zone, metadata: { role: 'web' } });
    const s = await serverStatusIs(c, ns, 'web', 'ACTIVE');
    assert.equal(s.status?.powerState, 'Running');
    assert.equal(s.status?.vmState, 'active');
    assert.match(s.status?.addresses?.default?.[0]?.addr ?? '', /^10\.244\.\d+\.\d+$/);
    assert.equal(s.status?.addresses?.default?.[0]?.version, 4);
    assert.ok(s.status?.host, 'host is set');
    assert.equal(s.status?.hypervisorHostname, s.status?.host);
    assert.match(s.status?.hostId ?? '', /^[0-9a-f]{56}$/);
    assert.ok(s.status?.launchedAt);
    assert.equal(s.status?.flavor?.vcpus, 2);
    assert.equal(s.status?.flavor?.name, flavor);
    assert.equal(s.status?.instanceName, 'web');
    const ready = s.status?.conditions?.find((x) => x.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.observedGeneration, s.metadata.generation);
    assert.equal(s.status?.observedGeneration, s.metadata.generation);

    const vm = await c.get<VirtualMachine>(VIRTUAL_MACHINES, 'web', ns);
    assert.deepEqual(vm.spec.instancetype, { kind: 'VirtualMachineClusterInstancetype', name: flavor });
    assert.equal(vm.spec.runStrategy, 'Always');
    const dvt = vm.spec.dataVolumeTemplates?.[0];
    assert.equal(dvt?.spec.storage?.resources?.requests?.storage, '5Gi');
    assert.deepEqual(dvt?.spec.sourceRef, { kind: 'DataSource', name: 'cirros', namespace: 'kova-images' });
    const owner = vm.metadata.ownerReferences?.[0];
    assert.deepEqual({ kind: owner?.kind, name: owner?.name, uid: owner?.uid, controller: owner?.controller }, { kind: 'Server', name: 'web', uid: created.metadata.uid, controller: true });
    const cred = vm.spec.template.spec.accessCredentials?.[0]?.sshPublicKey;
    assert.ok(cred, 'access credentials are set');
    const secret = await c.get<Secret>(SECRETS, cred.source.secret.secretName, ns);
    assert.equal(Buffer.from(secret.data?.key ?? '', 'base64').toString().trim(), PUBLIC_KEY);
    assert.deepEqual(vm.spec.template.spec.nodeSelector, { 'topology.kubernetes.io/zone': zone });
    // The VM's node is really in the requested zone: the real scheduler placed the launcher pod.
    assert.equal(s.status?.host?.startsWith('node-'), true);
  });

  test('kubectl get servers reads like openstack server list', async () => {
    const out = await kubectl('get', 'servers', '-n', ns);
    const [header, row] = out.trim().split('\n');
    assert.match(header ?? '', /^NAME\s+SERVER\s+STATUS\s+TASK\s+POWER\s+NETWORKS\s+IMAGE\s+FLAVOR\s+AGE$/);
    assert.match(row ?? '', new RegExp(`^web\\s+web\\s+ACTIVE\\s+Running\\s+default=10\\.244\\.\\S+\\s+cirros\\s+${flavor}\\s+\\S+$`));
    const wide = await kubectl('get', 'servers', '-n', ns, '-o', 'wide');
    assert.match(wide.split('\n')[0] ?? '', /HOST/);
    const flavors = await kubectl('get', 'flavors', flavor);
    assert.match(flavors, new RegExp(`${flavor}\\s+${flavor}\\s+${flavor}\\s+2\\s+1024\\s+5\\s+true\\s+True`));
    const kps = await kubectl('get', 'keypairs', '-n', ns);
    assert.match(kps, /mykey\s+my key\s+ssh\s+27:4b:35:cf:3a:2f:85:82:1e:94:89:8a:64:98:06:5e\s+True/);
    const all = await kubectl('get', 'kova', '-n', ns, '-o', 'name');
    assert.match(all, /server\.compute\.kova\.io\/web/);
  });

  test('powerState Shutoff stops the VM (SHUTOFF) and Running starts it again (ACTIVE)', async () => {
    const c = kova.client;
    await c.mergePatch(SERVERS, 'web', ns, { spec: { powerState: 'Shutoff' } });
    const off = await serverStatusIs(c, ns, 'web', 'SHUTOFF');
    assert.equal(off.status?.powerState, 'Shutdown');
    assert.equal(off.status?.vmState, 'stopped');
    assert.ok(off.status?.host, 'a stopped server keeps its host');
    assert.equal((await c.get<VirtualMachine>(VIRTUAL_MACHINES, 'web', ns)).spec.runStrategy, 'Halted');
    await eventually('the VMI to be gone', async () => !(await c.find(VIRTUAL_MACHINE_INSTANCES, 'web', ns)));

    await c.mergePatch(SERVERS, 'web', ns, { spec: { powerState: 'Running' } });
    const on = await serverStatusIs(c, ns, 'web', 'ACTIVE');
    assert.equal(on.status?.powerState, 'Running');
    assert.equal((await c.get<VirtualMachine>(VIRTUAL_MACHINES, 'web', ns)).spec.runStrategy, 'Always');
    assert.equal(on.status?.launchedAt, off.status?.launchedAt, 'launchedAt is the first launch');
  });

  test('deleting the key pair keeps the key for the server built with it', async () => {
    const c = kova.client;
    const kp = await c.get<KeyPair>(KEYPAIRS, 'mykey', ns);
    const secretName = kp.status?.secretName ?? '';
    await c.delete(KEYPAIRS, 'mykey', ns);
    await eventually('the key pair to be gone', async () => !(await c.find(KEYPAIRS, 'mykey', ns)));
    // Give the garbage collector time to act on the Secret the key pair owned.
    await eventually('the key pair owner reference to be dropped', async () => {
      const s = await c.get<Secret>(SECRETS, secretName, ns);
      return !s.metadata.ownerReferences?.some((r) => r.kind === 'KeyPair');
    }, 60_000);
    const secret = await c.get<Secret>(SECRETS, secretName, ns);
    assert.deepEqual(secret.metadata.ownerReferences?.map((r) => `${r.kind}/${r.name}`), ['Server/web']);
    assert.equal(Buffer.from(secret.data?.key ?? '', 'base64').toString().trim(), PUBLIC_KEY);
  });

  test('deleting the Server deletes its VM, root DataVolume and key Secret (garbage collection)', async () => {
    const c = kova.client;
    const vm = await c.get<VirtualMachine>(VIRTUAL_MACHINES, 'web', ns);
    const secretName = vm.spec.template.spec.accessCredentials?.[0]?.sshPublicKey?.source.secret.secretName ?? '';
    assert.ok(await c.find(SECRETS, 'web-credentials', ns), 'the credentials Secret the VM names exists');
    await c.delete(SERVERS, 'web', ns);
    await eventually('the key Secret to be garbage-collected', async () => !(await c.find(SECRETS, secretName, ns)), 60_000);
    await eventually('the credentials Secret to be garbage-collected', async () => !(await c.find(SECRETS, 'web-credentials', ns)), 60_000);
    await eventually('the VM to be garbage-collected', async () => !(await c.find(VIRTUAL_MACHINES, 'web', ns)), 60_000);
    await eventually('the DataVolume to be garbage-collected', async () => !(await c.find(DATA_VOLUMES, 'web-root', ns)), 60_000);
    assert.equal(await c.find<Server>(SERVERS, 'web', ns), undefined);
  });
});
