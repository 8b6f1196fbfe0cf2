// Invalid specs are refused by the apiserver itself (schema and CEL rules from src/api), with a
// message that names the field, and nothing is created.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGGREGATES } from '../../src/api/aggregate.ts';
import { FLAVORS } from '../../src/api/flavor.ts';
import { KEYPAIRS } from '../../src/api/keypair.ts';
import { SERVERS } from '../../src/api/server.ts';
import { KubeError, type KubeClient } from '../../src/kube/client.ts';
import { type KubeObject, type ResourceType } from '../../src/kube/types.ts';
import { ensureProject } from '../../src/sim/seed.ts';
import { client } from '../support/cluster.ts';
import { uniq } from '../support/fixtures.ts';

describe('invalid specs are refused with the field named', () => {
  let c: KubeClient;
  const ns = uniq('val');
  before(async () => {
    c = await client();
    await ensureProject(c, ns);
  });
  after(() => c.close());

  const refused = async (t: ResourceType, obj: KubeObject, field: RegExp, message?: RegExp): Promise<void> => {
    const e = await c.create(t, obj).then(() => undefined, (err: unknown) => err);
    assert.ok(e instanceof KubeError, `expected ${JSON.stringify(obj.spec)} to be refused`);
    assert.equal(e.code, 422);
    assert.match(e.status?.message ?? '', field);
    if (message) assert.match(e.status?.message ?? '', message);
    assert.equal(await c.find(t, obj.metadata.name ?? '', obj.metadata.namespace), undefined, 'nothing was created');
  };
  const server = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: uniq('s'), namespace: ns }, spec: { name: 'a', flavor: 'm1.tiny', image: 'cirros', ...spec } });

  test('Server: required fields, enums, patterns and limits', async () => {
    await refused(SERVERS, { metadata: { name: uniq('s'), namespace: ns }, spec: { name: 'a', image: 'cirros' } }, /spec\.flavor/, /Required/);
    await refused(SERVERS, server({ powerState: 'Sleeping' }), /spec\.powerState/, /Running|Shutoff/);
    await refused(SERVERS, server({ networks: 'private' }), /spec\.networks/);
    await refused(SERVERS, server({ hostname: 'Not_A_Host' }), /spec\.hostname/);
    await refused(SERVERS, server({ tags: ['a/b'] }), /spec\.tags\[0\]/);
    await refused(SERVERS, server({ name: 'x'.repeat(256) }), /spec\.name/);
    await refused(SERVERS, server({ metadata: { k: 'v'.repeat(256) } }), /spec\.metadata\.k/);
    await refused(SERVERS, server({ userData: { value: 'inline' } }), /spec\.userData/);
  });

  test('Server: root disk, host and networks are immutable; flavor, image, key and zone changes are requests', async () => {
    const s = await c.create(SERVERS, server({ keyName: 'k1', availabilityZone: 'z1', host: 'n1', rootDiskGiB: 2 }));
    const change = async (patch: Record<string, unknown>, field: RegExp, message: RegExp) => {
      const e = await c.mergePatch(SERVERS, s.metadata.name ?? '', ns, { spec: patch }).then(() => undefined, (err: unknown) => err);
      assert.ok(e instanceof KubeError);
      assert.equal(e.code, 422);
      assert.match(e.status?.message ?? '', field);
      assert.match(e.status?.message ?? '', message);
    };
    await change({ rootDiskGiB: 3 }, /spec\.rootDiskGiB/, /immutable/);
    await change({ host: 'n2' }, /spec\.host/, /immutable/);
    await change({ networks: 'none' }, /spec\.networks/, /immutable/);
    await change({ powerState: 'Hibernating' }, /spec\.powerState/, /Unsupported value/);
    // What a user may change in place is accepted; a new flavor is a resize, a new image a rebuild,
    // a new zone applies at the next start (unshelve), a new key at the next rebuild.
    await c.mergePatch(SERVERS, s.metadata.name ?? '', ns, { spec: { name: 'renamed', powerState: 'Shutoff', metadata: { a: 'b' }, flavor: 'm1.large', image: 'other', keyName: 'k2', availabilityZone: 'z2' } });
  });

  test('Flavor: sizes, immutability and flavor access', async () => {
    const f = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: uniq('f') }, spec: { name: 'f', vcpus: 1, ramMiB: 64, ...spec } });
    await refused(FLAVORS, f({ vcpus: 0 }), /spec\.vcpus/);
    await refused(FLAVORS, f({ ramMiB: -1 }), /spec\.ramMiB/);
    await refused(FLAVORS, f({ id: ' leading-space' }), /spec\.id/);
    await refused(FLAVORS, f({ projects: ['p1'] }), /spec\.projects/, /private flavor/);
    await refused(FLAVORS, f({ extraSpecs: { 'bad/key': 'x' } }), /spec\.extraSpecs/);
    const made = await c.create(FLAVORS, f({}));
    const e = await c.mergePatch(FLAVORS, made.metadata.name ?? '', undefined, { spec: { vcpus: 4 } }).then(() => undefined, (err: unknown) => err);
    assert.ok(e instanceof KubeError);
    assert.match(e.status?.message ?? '', /spec\.vcpus: Invalid value: .*immutable/);
    await c.mergePatch(FLAVORS, made.metadata.name ?? '', undefined, { spec: { description: 'ok to change' } });
    await c.delete(FLAVORS, made.metadata.name ?? '');
  });

  test('KeyPair: key format, type and immutability', async () => {
    const kp = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: uniq('k'), namespace: ns }, spec: { name: 'k', publicKey: 'ssh-ed25519 AAAA x', ...spec } });
    await refused(KEYPAIRS, kp({ publicKey: 'not a key' }), /spec\.publicKey/, /OpenSSH/);
    await refused(KEYPAIRS, kp({ type: 'x509' }), /spec\.publicKey/, /PEM certificate/);
    await refused(KEYPAIRS, kp({ type: 'rsa' }), /spec\.type/);
    await refused(KEYPAIRS, kp({ name: 'bad/name' }), /spec\.name/);
  });

  test('Aggregate: metadata keys, zone and the allocated id', async () => {
    const a = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: uniq('a') }, spec: { name: 'a', ...spec } });
    await refused(AGGREGATES, a({ metadata: { 'bad key': 'x' } }), /spec\.metadata/);
    await refused(AGGREGATES, a({ metadata: { availability_zone: 'z' } }), /spec\.metadata/, /availabilityZone/);
    await refused(AGGREGATES, a({ availabilityZone: 'bad zone' }), /spec\.availabilityZone/);
    const made = await c.create(AGGREGATES, a({ id: 7 }));
    const e = await c.mergePatch(AGGREGATES, made.metadata.name ?? '', undefined, { spec: { id: 8 } }).then(() => undefined, (err: unknown) => err);
    assert.ok(e instanceof KubeError);
    assert.match(e.status?.message ?? '', /spec\.id: Invalid value: .*immutable/);
    await c.delete(AGGREGATES, made.metadata.name ?? '');
  });
});
