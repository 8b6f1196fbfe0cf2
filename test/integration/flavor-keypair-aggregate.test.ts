// Flavor → instancetypes (extra specs mapped or refused by name), KeyPair → fingerprint and Secret,
// Aggregate → Node labels, removed again with the host or the aggregate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AGGREGATES, type Aggregate } from '../../src/api/aggregate.ts';
import { FLAVORS, type Flavor } from '../../src/api/flavor.ts';
import { KEYPAIRS, type KeyPair } from '../../src/api/keypair.ts';
import { aggregateMetadataLabel, memberLabel } from '../../src/api/labels.ts';
import { CLUSTER_INSTANCETYPES, INSTANCETYPES, type Instancetype } from '../../src/kubevirt/types.ts';
import { NODES, SECRETS, type Node, type Secret } from '../../src/kube/types.ts';
import { ensureNode } from '../../src/sim/nodes.ts';
import { ensureProject } from '../../src/sim/seed.ts';
import { startKova, type Kova } from '../support/cluster.ts';
import { eventually } from '../support/waiting.ts';
import { ensureFlavor, uniq } from '../support/fixtures.ts';

describe('Flavor, KeyPair and Aggregate controllers', () => {
  let kova: Kova;
  before(async () => {
    kova = await startKova();
  });
  after(() => kova.stop());

  const ready = <T extends { status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] }; metadata: { generation?: number } }>(o: T | undefined, status = 'True') =>
    o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === status && c.observedGeneration === o.metadata.generation) ? o : undefined;

  test('a public flavor becomes a VirtualMachineClusterInstancetype with its extra specs mapped', async () => {
    const name = uniq('flv');
    await ensureFlavor(kova.client, { id: name, name, vcpus: 4, ramMiB: 8192, diskGiB: 40, extraSpecs: { 'hw:cpu_policy': 'dedicated', 'hw:mem_page_size': '1GB', 'aggregate_instance_extra_specs:ssd': 'true' } }, name);
    const f = await eventually('flavor Ready', async () => ready(await kova.client.get<Flavor>(FLAVORS, name)));
    assert.deepEqual(f.status?.instancetype, { kind: 'VirtualMachineClusterInstancetype', name });
    const it = await kova.client.get<Instancetype>(CLUSTER_INSTANCETYPES, name);
    assert.equal(it.spec.cpu.guest, 4);
    assert.equal(it.spec.cpu.dedicatedCPUPlacement, true);
    assert.equal(it.spec.memory.guest, '8192Mi');
    assert.deepEqual(it.spec.memory.hugepages, { pageSize: '1Gi' });
    assert.deepEqual(it.spec.nodeSelector, { [aggregateMetadataLabel('ssd')]: 'true' });
    assert.equal(it.metadata.ownerReferences?.[0]?.uid, f.metadata.uid);
  });

  test('an unsupported extra spec makes Ready=False with a reason naming it', async () => {
    const name = uniq('flv');
    await ensureFlavor(kova.client, { id: name, name, vcpus: 1, ramMiB: 512, extraSpecs: { 'hw:numa_nodes': '2', 'quota:cpu_shares': '10' } }, name);
    const f = await eventually('flavor not Ready', async () => ready(await kova.client.get<Flavor>(FLAVORS, name), 'False'));
    const c = f.status?.conditions?.find((x) => x.type === 'Ready');
    assert.equal(c?.reason, 'UnsupportedExtraSpec');
    assert.match(c?.message ?? '', /hw:numa_nodes/);
    assert.match(c?.message ?? '', /quota:cpu_shares/);
    assert.equal(await kova.client.find(CLUSTER_INSTANCETYPES, name), undefined, 'nothing half-made');
  });

  test('a private flavor becomes a VirtualMachineInstancetype in each project with access, and only there', async () => {
    const p1 = uniq('p');
    const p2 = uniq('p');
    await ensureProject(kova.client, p1);
    await ensureProject(kova.client, p2);
    const name = uniq('priv');
    await ensureFlavor(kova.client, { id: name, name, vcpus: 1, ramMiB: 256, isPublic: false, projects: [p1] }, name);
    await eventually('instancetype in p1', () => kova.client.find<Instancetype>(INSTANCETYPES, name, p1));
    assert.equal(await kova.client.find(INSTANCETYPES, name, p2), undefined);
    await kova.client.mergePatch(FLAVORS, name, undefined, { spec: { projects: [p2] } });
    await eventually('instancetype moved to p2', async () => !!(await kova.client.find(INSTANCETYPES, name, p2)) && !(await kova.client.find(INSTANCETYPES, name, p1)));
    assert.equal(await kova.client.find(CLUSTER_INSTANCETYPES, name), undefined);
  });

  test('a key pair gets Nova\'s fingerprint and a Secret with the key; x509 certificates too; a bad key is not Ready', async () => {
    const ns = uniq('kp');
    await ensureProject(kova.client, ns);
    const dir = mkdtempSync(join(tmpdir(), 'kova-kp-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'me@example', '-f', join(dir, 'id')]);
    const pub = readFileSync(join(dir, 'id.pub'), 'utf8').trim();
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', join(dir, 'id.pub')], { encoding: 'utf8' }).split(' ')[1]?.replace(/^MD5:/, '');
    await kova.client.create<KeyPair>(KEYPAIRS, { metadata: { name: 'rsa', namespace: ns }, spec: { name: 'rsa', publicKey: pub, userId: 'alice' } });
    const kp = await eventually('key pair Ready', async () => ready(await kova.client.get<KeyPair>(KEYPAIRS, 'rsa', ns)));
    assert.equal(kp.status?.fingerprint, expected);
    const secret = await kova.client.get<Secret>(SECRETS, kp.status?.secretName ?? '', ns);
    assert.equal(Buffer.from(secret.data?.key ?? '', 'base64').toString().trim(), pub);
    assert.equal(secret.metadata.ownerReferences?.[0]?.uid, kp.metadata.uid);

    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kova', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    const pem = readFileSync(join(dir, 'c.pem'), 'utf8');
    const sha1 = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha1', '-in', join(dir, 'c.pem')], { encoding: 'utf8' }).trim().split('=')[1]?.toLowerCase();
    await kova.client.create<KeyPair>(KEYPAIRS, { metadata: { name: 'cert', namespace: ns }, spec: { name: 'cert', type: 'x509', publicKey: pem } });
    const cert = await eventually('x509 key pair Ready', async () => ready(await kova.client.get<KeyPair>(KEYPAIRS, 'cert', ns)));
    assert.equal(cert.status?.fingerprint, sha1);

    // Passes the schema's shape check but is no real key: the controller says why.
    await kova.client.create<KeyPair>(KEYPAIRS, { metadata: { name: 'bad', namespace: ns }, spec: { name: 'bad', publicKey: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB bad' } });
    const bad = await eventually('bad key pair not Ready', async () => ready(await kova.client.get<KeyPair>(KEYPAIRS, 'bad', ns), 'False'));
    const c = bad.status?.conditions?.find((x) => x.type === 'Ready');
    assert.equal(c?.reason, 'InvalidPublicKey');
    assert.match(c?.message ?? '', /^publicKey: /);
    assert.equal(bad.status?.fingerprint, undefined);
  });

  test('an aggregate labels its hosts (membership, zone, metadata) and unlabels them when a host is removed or it is deleted', async () => {
    const [n1, n2] = [uniq('agg-node'), uniq('agg-node')];
    await ensureNode(kova.client, { name: n1 });
    await ensureNode(kova.client, { name: n2 });
    const name = uniq('agg');
    await kova.client.create<Aggregate>(AGGREGATES, { metadata: { name }, spec: { name: 'My Aggregate', availabilityZone: 'az-x', hosts: [n1, n2], metadata: { ssd: 'true' } } });
    const member = memberLabel(name);
    const labels = async (n: string) => (await kova.client.get<Node>(NODES, n)).metadata.labels ?? {};
    const agg = await eventually('aggregate Ready', async () => ready(await kova.client.get<Aggregate>(AGGREGATES, name)));
    assert.ok((agg.spec.id ?? 0) >= 1, 'an integer id was allocated');
    for (const n of [n1, n2]) {
      const l = await labels(n);
      assert.equal(l[member], 'true');
      assert.equal(l['topology.kubernetes.io/zone'], 'az-x');
      assert.equal(l[aggregateMetadataLabel('ssd')], 'true');
    }
    await kova.client.mergePatch(AGGREGATES, name, undefined, { spec: { hosts: [n1] } });
    await eventually('n2 unlabelled', async () => (await labels(n2))[member] === undefined);
    const l2 = await labels(n2);
    assert.equal(l2[aggregateMetadataLabel('ssd')], undefined);
    assert.equal(l2['kubernetes.io/hostname'], n2, 'other labels are kept');
    assert.equal((await labels(n1))[member], 'true');

    await kova.client.delete(AGGREGATES, name);
    await eventually('aggregate gone', async () => !(await kova.client.find(AGGREGATES, name)));
    const l1 = await labels(n1);
    assert.equal(l1[member], undefined);
    assert.equal(l1['topology.kubernetes.io/zone'], undefined);
    assert.equal(l1[aggregateMetadataLabel('ssd')], undefined);
  });

  test('a host that is not a Node makes the aggregate not Ready, naming it', async () => {
    const name = uniq('agg');
    await kova.client.create<Aggregate>(AGGREGATES, { metadata: { name }, spec: { name, hosts: ['no-such-node'] } });
    const agg = await eventually('aggregate not Ready', async () => ready(await kova.client.get<Aggregate>(AGGREGATES, name), 'False'));
    assert.match(agg.status?.conditions?.[0]?.message ?? '', /no-such-node is not a Node/);
    assert.equal(await kova.client.find(NODES, 'no-such-node'), undefined, 'no Node was made up');
    await kova.client.delete(AGGREGATES, name);
  });
});
