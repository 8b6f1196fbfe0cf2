// The Neutron slice's pure rules: stable ids, the pod network and its subnets, ports from a
// server's addresses, Neutron's filters, fields, sorting and paging, and what Nova's create
// accepts as networks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cidrContains, parseCidr, podNetwork, podNetworkId, podSubnets, requestedPodNetwork, serverPorts, uuidV5, visibleTo, type ClusterNetworkFacts, type ServerPortFacts,
} from '../../src/neutron/model.ts';
import { filterResources, listBody, NeutronError, pageResources, selectFields, sortResources } from '../../src/neutron/query.ts';
import { ATTRIBUTES, extensionShown } from '../../src/neutron/views.ts';

const facts: ClusterNetworkFacts = { clusterId: '3f1c2a9e-0000-4000-8000-000000000001', createdAt: '2026-01-02T03:04:05.678Z', name: 'default', cidrs: ['10.244.7.9/16', 'fd00:10:244::/56'], mtu: 1450 };
const server = (o: Partial<ServerPortFacts> = {}): ServerPortFacts => ({
  serverId: '0b6f2e0c-1111-4222-8333-444455556666', projectId: 'p1', zone: 'zone-a', host: 'compute-1', plugged: true, created: '2026-02-03T04:05:06Z',
  addresses: [{ addr: '10.244.0.4', version: 4, type: 'fixed', macAddr: '02:AB:CD:00:00:01' }, { addr: 'fd00:10:244::4', version: 6, type: 'fixed', macAddr: '02:ab:cd:00:00:01' }], ...o,
});

describe('ids', () => {
  test('UUIDv5 matches RFC 4122 (python uuid.uuid5(NAMESPACE_DNS, "python.org"))', () => {
    assert.equal(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });
  test('the pod network id is stable for a cluster and differs between clusters', () => {
    assert.equal(podNetworkId(facts), podNetworkId({ ...facts }));
    assert.notEqual(podNetworkId(facts), podNetworkId({ ...facts, clusterId: '3f1c2a9e-0000-4000-8000-000000000002' }));
    assert.match(podNetworkId(facts), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  test('a port keeps its id when its MAC or addresses change (a restarted VMI)', () => {
    const before = serverPorts(facts, server())[0]!;
    const after = serverPorts(facts, server({ addresses: [{ addr: '10.244.3.3', version: 4, macAddr: '02:00:00:00:00:99' }] }))[0]!;
    assert.equal(before.id, after.id);
  });
});

describe('CIDRs', () => {
  test('canonical forms and membership', () => {
    assert.equal(parseCidr('10.244.7.9/16')?.cidr, '10.244.0.0/16');
    assert.equal(parseCidr('fd00:10:244:0:0:0:0:1/56')?.cidr, 'fd00:10:244::/56');
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.equal(parseCidr('nonsense'), undefined);
    assert.ok(cidrContains(parseCidr('10.244.0.0/16')!, '10.244.200.3'));
    assert.ok(!cidrContains(parseCidr('10.244.0.0/16')!, '10.245.0.1'));
    assert.ok(cidrContains(parseCidr('fd00:10:244::/56')!, 'fd00:10:244:ff::1'));
  });
});

describe('the pod network and its subnets', () => {
  test('one shared ACTIVE network listing its subnets, at the cluster creation time', () => {
    const n = podNetwork(facts);
    const subnets = podSubnets(facts);
    assert.deepEqual([n.name, n.status, n.shared, n.mtu, n.created_at], ['default', 'ACTIVE', true, 1450, '2026-01-02T03:04:05Z']);
    assert.deepEqual(n.subnets, subnets.map((s) => s.id));
    assert.deepEqual(subnets.map((s) => [s.cidr, s.ip_version, s.network_id]), [['10.244.0.0/16', 4, n.id], ['fd00:10:244::/56', 6, n.id]]);
    assert.deepEqual(subnets[0]!.allocation_pools, [{ start: '10.244.0.1', end: '10.244.255.254' }]);
    assert.deepEqual(subnets[1]!.allocation_pools, [{ start: 'fd00:10:244::1', end: 'fd00:10:244:ff:ffff:ffff:ffff:ffff' }]);
  });
});

describe('ports', () => {
  test('one port per interface: its MAC (lower case), every IP in its subnet, the server as device', () => {
    const [p, ...rest] = serverPorts(facts, server());
    assert.equal(rest.length, 0);
    const [v4, v6] = podSubnets(facts);
    assert.equal(p!.mac_address, '02:ab:cd:00:00:01');
    assert.deepEqual(p!.fixed_ips, [{ subnet_id: v4!.id, ip_address: '10.244.0.4' }, { subnet_id: v6!.id, ip_address: 'fd00:10:244::4' }]);
    assert.deepEqual([p!.device_id, p!.device_owner, p!.status, p!.network_id, p!.project_id], ['0b6f2e0c-1111-4222-8333-444455556666', 'compute:zone-a', 'ACTIVE', podNetworkId(facts), 'p1']);
  });
  test('a stopped server keeps its port, DOWN; with no zone the owner is compute:nova', () => {
    const [p] = serverPorts(facts, server({ plugged: false, zone: undefined }));
    assert.deepEqual([p!.status, p!.device_owner], ['DOWN', 'compute:nova']);
  });
  test('no addresses, no port', () => assert.deepEqual(serverPorts(facts, server({ addresses: [] })), []));
  test('binding:host_id and the other binding details are for admins', () => {
    const [p] = serverPorts(facts, server());
    assert.equal(visibleTo('ports', p!, true)['binding:host_id'], 'compute-1');
    const seen = visibleTo('ports', p!, false);
    assert.ok(!('binding:host_id' in seen) && !('binding:profile' in seen));
    assert.equal(seen['binding:vnic_type'], 'normal');
  });
});

describe("Neutron's query conventions", () => {
  const items = ['c', 'a', 'e', 'b', 'd'].map((id, i) => ({ id, name: `n-${i % 2}`, shared: i % 2 === 0, device_id: i === 4 ? '' : `dev-${id}`, tags: i === 0 ? ['red', 'blue'] : [], fixed_ips: [{ subnet_id: 's1', ip_address: `10.0.0.${i + 1}` }] }));
  const attrs = ['id', 'name', 'shared', 'device_id', 'tags', 'fixed_ips'];
  const ids = (l: { id: string }[]) => l.map((x) => x.id);

  test('a repeated key ORs, different keys AND, booleans by word, empty string matches empty', () => {
    assert.deepEqual(ids(filterResources(items, { id: ['a', 'b'] }, attrs)), ['a', 'b']);
    assert.deepEqual(ids(filterResources(items, { id: ['a', 'c'], name: 'n-1' }, attrs)), ['a']);
    assert.deepEqual(ids(filterResources(items, { shared: 'True' }, attrs)), ['c', 'e', 'd']);
    assert.deepEqual(ids(filterResources(items, { shared: 'false' }, attrs)), ['a', 'b']);
    assert.deepEqual(ids(filterResources(items, { device_id: '' }, attrs)), ['d']);
  });
  test('fixed_ips=ip_address=…, =subnet_id=…, =ip_address_substr=…', () => {
    assert.deepEqual(ids(filterResources(items, { fixed_ips: 'ip_address=10.0.0.3' }, attrs)), ['e']);
    assert.deepEqual(ids(filterResources(items, { fixed_ips: ['subnet_id=s1', 'ip_address_substr=0.0.4'] }, attrs)), ['b']);
    assert.throws(() => filterResources(items, { fixed_ips: 'mac=1' }, attrs), NeutronError);
  });
  test('tags, tags-any, not-tags, not-tags-any', () => {
    assert.deepEqual(ids(filterResources(items, { tags: 'red,blue' }, attrs)), ['c']);
    assert.deepEqual(ids(filterResources(items, { 'tags-any': 'blue,green' }, attrs)), ['c']);
    assert.deepEqual(ids(filterResources(items, { 'not-tags-any': 'red' }, attrs)).length, 4);
  });
  test('an unknown filter is a 400 naming it', () => {
    assert.throws(() => filterResources(items, { pvlan: 'true' }, attrs), (e: NeutronError) => e.code === 400 && e.message === '[pvlan] is invalid attribute for filtering');
  });
  test('sorting: pairs of sort_key and sort_dir, then by id; mismatches and unknown keys are 400s', () => {
    assert.deepEqual(ids(sortResources(items, {}, attrs)), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(ids(sortResources(items, { sort_key: 'name', sort_dir: 'desc' }, attrs)), ['a', 'b', 'c', 'd', 'e'].filter((x) => ['a', 'b'].includes(x)).concat(['c', 'd', 'e']));
    assert.throws(() => sortResources(items, { sort_key: 'name' }, attrs), /number of sort_keys and sort_dirs/);
    assert.throws(() => sortResources(items, { sort_key: 'colour', sort_dir: 'asc' }, attrs), /invalid attribute for sort_keys/);
    assert.throws(() => sortResources(items, { sort_key: 'name', sort_dir: 'up' }, attrs), /invalid value for sort_dirs/);
  });
  test('paging: limit and marker with next and previous links; a short last page has no next', () => {
    const sorted = sortResources(items, {}, attrs);
    const first = pageResources(sorted, { limit: '2' }, 'http://x/networking/v2.0/ports');
    assert.deepEqual(ids(first.items), ['a', 'b']);
    assert.deepEqual(first.links.map((l) => l.rel), ['next', 'previous']);
    assert.equal(first.links[0]!.href, 'http://x/networking/v2.0/ports?limit=2&marker=b');
    assert.equal(first.links[1]!.href, 'http://x/networking/v2.0/ports?limit=2&marker=a&page_reverse=True');
    const last = pageResources(sorted, { limit: '2', marker: 'd' }, 'http://x/p');
    assert.deepEqual(ids(last.items), ['e']);
    assert.deepEqual(last.links.map((l) => l.rel), ['previous']);
    const back = pageResources(sorted, { limit: '2', marker: 'd', page_reverse: 'True' }, 'http://x/p');
    assert.deepEqual(ids(back.items), ['b', 'c']);
    assert.deepEqual(ids(pageResources(sorted, { limit: '2', marker: 'nope' }, 'http://x/p').items), []);
    assert.deepEqual(pageResources(sorted, {}, 'http://x/p').links, []);
    assert.throws(() => pageResources(sorted, { limit: '-1' }, 'http://x/p'), (e: NeutronError) => e.code === 400);
  });
  test('fields trims each item; the list body carries <collection>_links only when paged', () => {
    assert.deepEqual(selectFields(items[0]!, { fields: ['id', 'name', 'nope'] }), { id: 'c', name: 'n-0' });
    const body = listBody('ports', items, { fields: 'id', limit: '10' }, attrs, 'http://x/p');
    assert.deepEqual(body.ports, ids(sortResources(items, {}, attrs)).map((id) => ({ id })));
    assert.deepEqual((body.ports_links as { rel: string }[]).map((l) => l.rel), ['previous']);
    assert.equal(listBody('ports', items, {}, attrs, 'http://x/p').ports_links, undefined);
  });
  test('every collection filters on its own attributes', () => {
    assert.ok(ATTRIBUTES.ports.includes('device_id') && ATTRIBUTES.ports.includes('binding:host_id') && ATTRIBUTES.ports.includes('fixed_ips'));
    assert.ok(ATTRIBUTES.networks.includes('router:external') && ATTRIBUTES.networks.includes('status'));
    assert.ok(ATTRIBUTES.subnets.includes('cidr'));
  });
  test('an unknown extension is a 404', () => {
    assert.equal((extensionShown('pagination').extension as { alias: string }).alias, 'pagination');
    assert.throws(() => extensionShown('security-group'), (e: NeutronError) => e.code === 404);
  });
});

describe("Nova's networks at create, with only the pod network", () => {
  const id = podNetworkId(facts);
  test('auto, none, [] and the pod network once are accepted', () => {
    assert.deepEqual(requestedPodNetwork('auto', id), { networks: 'auto' });
    assert.deepEqual(requestedPodNetwork(undefined, id), { networks: 'auto' });
    assert.deepEqual(requestedPodNetwork([], id), { networks: 'auto' });
    assert.deepEqual(requestedPodNetwork('none', id), { networks: 'none' });
    assert.deepEqual(requestedPodNetwork([{ uuid: id }], id), { networks: 'auto' });
  });
  test('another network, a port, a fixed IP or the pod network twice are refused', () => {
    assert.deepEqual(requestedPodNetwork([{ uuid: 'a0000000-0000-4000-8000-000000000000' }], id), { error: 'Network a0000000-0000-4000-8000-000000000000 could not be found.' });
    assert.match((requestedPodNetwork([{ port: 'p' }], id) as { error: string }).error, /Port p could not be found/);
    assert.ok('error' in requestedPodNetwork([{ uuid: id, fixed_ip: '10.244.0.9' }], id));
    assert.ok('error' in requestedPodNetwork([{ uuid: id }, { uuid: id }], id));
  });
});
