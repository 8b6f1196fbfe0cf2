// The read-only Neutron v2.0 (/networking) against the real control plane: the catalog entry, the
// version documents, the pod network and its subnet, the ports of real servers (MAC and IP from
// their VMIs, device_id, status that follows the power state), Neutron's filters, fields, paging
// and error bodies, and who sees which ports. Nova's create takes the pod network by its id.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { NAMESPACES, type Namespace } from '../../src/kube/types.ts';
import { uuidV5, KOVA_UUID_NAMESPACE } from '../../src/neutron/model.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { ensureFlavor, project } from '../support/fixtures.ts';
import { people } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';

describe('Neutron v2.0, read-only', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let other: string;
  let admin: string;
  let member: string;
  let reader: string;
  let stranger: string;
  let netId: string;
  const servers: Record<string, string> = {};
  const passwords = new PasswordUsers();

  const n = (path: string, token: string | undefined, method = 'GET', body?: unknown) => api.call(method, `/networking${path}`, { token, body });
  const serverShow = async (id: string, token: string) => (await api.call('GET', `/v2.1/servers/${id}`, { token, version: '2.79' })).body.server;
  const until = (id: string, status: string, token = member) => eventually(`server ${id} ${status}`, async () => {
    const s = await serverShow(id, token);
    return s.status === status && !s['OS-EXT-STS:task_state'] && Object.keys(s.addresses).length ? s : undefined;
  }, 60_000);

  before(async () => {
    kova = await startKova();
    ({ namespace: ns } = await project(kova.client));
    ({ namespace: other } = await project(kova.client));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    passwords.add('alice', 's3cret', 'alice');
    api = await startApi(kova, { passwords });
    ({ admin, member, reader, stranger } = await people(kova, api, ns, other));
    await eventually('image in cache', async () => api.facade.caches.image('cirros')?.metadata.uid);
    // The network is found by name, as the Terraform provider does, and a server is asked on it by id.
    const found = await n('/v2.0/networks?status=ACTIVE&name=default', member);
    netId = found.body.networks[0].id;
    for (const [name, token, networks] of [['net-a', member, [{ uuid: netId }]], ['net-b', member, 'auto'], ['net-c', stranger, 'auto']] as const) {
      const r = await api.call('POST', '/v2.1/servers', { token, version: '2.79', body: { server: { name, flavorRef: '1', imageRef: api.facade.caches.image('cirros')?.metadata.uid, networks } } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      servers[name] = r.body.server.id;
    }
    await until(servers['net-a']!, 'ACTIVE');
    await until(servers['net-b']!, 'ACTIVE');
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  test('the Keystone catalog has a network endpoint; /networking is the version list', async () => {
    const tok = await api.call('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: 'alice', password: 's3cret', domain: { id: 'default' } } } }, scope: { project: { name: ns, domain: { id: 'default' } } } } } });
    const network = tok.body.token.catalog.find((s: { type: string }) => s.type === 'network');
    assert.deepEqual(network.endpoints.map((e: { url: string }) => e.url), Array(3).fill(`${api.url}/networking`));
    const versions = await n('', undefined);
    assert.equal(versions.status, 200);
    assert.deepEqual(versions.body.versions, [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${api.url}/networking/v2.0/` }] }]);
    const index = await n('/v2.0/', member);
    assert.deepEqual(index.body.resources.map((r: { collection: string }) => r.collection), ['networks', 'subnets', 'ports']);
    const ext = await n('/v2.0/extensions', member);
    assert.ok(ext.body.extensions.some((e: { alias: string }) => e.alias === 'pagination'));
    assert.ok(!ext.body.extensions.some((e: { alias: string }) => e.alias === 'security-group'), 'no security groups yet');
  });

  test('no token → keystonemiddleware 401', async () => {
    const r = await n('/v2.0/networks', undefined);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 401);
  });

  test('the pod network: shared, stable id from the cluster (kube-system uid), one subnet with the pod CIDR', async () => {
    const ks = await kova.client.get<Namespace>(NAMESPACES, 'kube-system');
    assert.equal(netId, uuidV5(`network/${ks.metadata.uid}/default`, KOVA_UUID_NAMESPACE));
    for (const token of [member, reader, stranger, admin]) {
      const list = await n('/v2.0/networks', token);
      assert.deepEqual(list.body.networks.map((x: { id: string; name: string; shared: boolean; status: string }) => [x.id, x.name, x.shared, x.status]), [[netId, 'default', true, 'ACTIVE']]);
    }
    const shown = await n(`/v2.0/networks/${netId}`, member);
    const subnet = (await n(`/v2.0/subnets/${shown.body.network.subnets[0]}`, member)).body.subnet;
    assert.deepEqual([subnet.cidr, subnet.ip_version, subnet.network_id], ['10.244.0.0/16', 4, netId]);
    assert.deepEqual((await n(`/v2.0/subnets?network_id=${netId}&fields=cidr`, member)).body.subnets, [{ cidr: '10.244.0.0/16' }]);
  });

  test("a server's port: its VMI's MAC and IP, the server as device, compute:<zone>; the server view's addresses agree", async () => {
    const s = await serverShow(servers['net-a']!, member);
    const [addr] = s.addresses.default;
    const ports = (await n(`/v2.0/ports?device_id=${servers['net-a']}`, member)).body.ports;
    assert.equal(ports.length, 1);
    const [p] = ports;
    assert.deepEqual([p.network_id, p.device_id, p.device_owner, p.status, p.mac_address, p.fixed_ips[0].ip_address], [netId, servers['net-a'], `compute:${s['OS-EXT-AZ:availability_zone']}`, 'ACTIVE', addr['OS-EXT-IPS-MAC:mac_addr'], addr.addr]);
    assert.match(p.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.ok(!('binding:host_id' in p), 'binding:host_id is for admins');
    const asAdmin = (await n(`/v2.0/ports/${p.id}`, admin)).body.port;
    assert.equal(asAdmin['binding:host_id'], (await api.call('GET', `/v2.1/servers/${servers['net-a']}`, { token: admin })).body.server['OS-EXT-SRV-ATTR:host']);
    const byIp = (await n(`/v2.0/ports?fixed_ips=ip_address%3D${addr.addr}`, member)).body.ports;
    assert.deepEqual(byIp.map((x: { id: string }) => x.id), [p.id]);
  });

  test('a stopped server keeps its port, DOWN; started again, ACTIVE with the same id', async () => {
    const id = servers['net-b']!;
    const [before] = (await n(`/v2.0/ports?device_id=${id}`, member)).body.ports;
    assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: member, body: { 'os-stop': null } })).status, 202);
    await until(id, 'SHUTOFF');
    const [stopped] = (await n(`/v2.0/ports?device_id=${id}`, member)).body.ports;
    assert.deepEqual([stopped.id, stopped.status, stopped.mac_address], [before.id, 'DOWN', before.mac_address]);
    assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: member, body: { 'os-start': null } })).status, 202);
    await until(id, 'ACTIVE');
    const [started] = (await n(`/v2.0/ports?device_id=${id}`, member)).body.ports;
    assert.deepEqual([started.id, started.status, started.mac_address], [before.id, 'ACTIVE', before.mac_address], 'a new VMI, the same port and MAC');
  });

  test('tenancy: a project sees its own servers\' ports; another project\'s port is a 404; admins see all', async () => {
    await until(servers['net-c']!, 'ACTIVE', stranger);
    const [theirs] = (await n(`/v2.0/ports?device_id=${servers['net-c']}`, admin)).body.ports;
    const mine = (await n('/v2.0/ports', member)).body.ports.map((p: { device_id: string }) => p.device_id).sort();
    assert.deepEqual(mine, [servers['net-a'], servers['net-b']].sort());
    assert.deepEqual((await n('/v2.0/ports', reader)).body.ports.length, 2);
    assert.deepEqual((await n('/v2.0/ports', stranger)).body.ports.map((p: { device_id: string }) => p.device_id), [servers['net-c']]);
    const hidden = await n(`/v2.0/ports/${theirs.id}`, member);
    assert.equal(hidden.status, 404);
    assert.deepEqual(hidden.body, { NeutronError: { type: 'PortNotFound', message: `Port ${theirs.id} could not be found.`, detail: '' } });
    const all = (await n('/v2.0/ports', admin)).body.ports.map((p: { device_id: string }) => p.device_id);
    for (const id of Object.values(servers)) assert.ok(all.includes(id));
  });

  test('fields, paging with ports_links, sorting', async () => {
    const one = await n(`/v2.0/ports/${(await n('/v2.0/ports', member)).body.ports[0].id}?fields=id&fields=mac_address`, member);
    assert.deepEqual(Object.keys(one.body.port).sort(), ['id', 'mac_address']);
    const first = await n('/v2.0/ports?limit=1&sort_key=id&sort_dir=asc', member);
    assert.equal(first.body.ports.length, 1);
    const next = first.body.ports_links.find((l: { rel: string }) => l.rel === 'next');
    assert.ok(next.href.startsWith(`${api.url}/networking/v2.0/ports?`));
    const second = await api.call('GET', next.href.slice(api.url.length), { token: member });
    assert.equal(second.body.ports.length, 1);
    assert.ok(second.body.ports[0].id > first.body.ports[0].id);
    const third = await api.call('GET', second.body.ports_links.find((l: { rel: string }) => l.rel === 'next').href.slice(api.url.length), { token: member });
    assert.deepEqual(third.body.ports, []);
    assert.ok(!third.body.ports_links.some((l: { rel: string }) => l.rel === 'next'), 'a short page has no next link');
    const desc = (await n('/v2.0/ports?sort_key=id&sort_dir=desc', member)).body.ports.map((p: { id: string }) => p.id);
    assert.deepEqual(desc, [...desc].sort().reverse());
  });

  test("errors: Neutron's bodies for unknown ids, filters, sort keys; writes refused by policy", async () => {
    const missing = await n('/v2.0/networks/not-a-network', member);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { NeutronError: { type: 'NetworkNotFound', message: 'Network not-a-network could not be found.', detail: '' } });
    assert.equal((await n('/v2.0/subnets/x', member)).body.NeutronError.type, 'SubnetNotFound');
    const badFilter = await n('/v2.0/networks?colour=red', member);
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.body.NeutronError.message, '[colour] is invalid attribute for filtering');
    assert.equal((await n('/v2.0/networks?sort_key=colour&sort_dir=asc', member)).status, 400);
    assert.equal((await n('/v2.0/networks?limit=x', member)).status, 400);
    const create = await n('/v2.0/networks', member, 'POST', { network: { name: 'mine' } });
    assert.equal(create.status, 403);
    assert.equal(create.body.NeutronError.type, 'PolicyNotAuthorized');
    assert.equal((await n(`/v2.0/ports/${(await n('/v2.0/ports', member)).body.ports[0].id}`, member, 'DELETE')).status, 403);
    assert.equal((await n('/v2.0/routers', member)).status, 404);
  });

  test("Nova's create refuses a network that is not the pod network", async () => {
    const r = await api.call('POST', '/v2.1/servers', { token: member, version: '2.79', body: { server: { name: 'net-x', flavorRef: '1', imageRef: api.facade.caches.image('cirros')?.metadata.uid, networks: [{ uuid: '7f0d6d3e-1c4b-4d33-9a4e-1f2a3b4c5d6e' }] } } });
    assert.equal(r.status, 400);
    assert.equal(r.body.badRequest.message, 'Network 7f0d6d3e-1c4b-4d33-9a4e-1f2a3b4c5d6e could not be found.');
  });
});
