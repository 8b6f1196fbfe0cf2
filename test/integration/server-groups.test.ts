// os-server-groups against the real control plane, and scheduler hints placed by the real
// kube-scheduler on three Nodes: anti-affinity (one server too many is ERROR "No valid host was
// found"), affinity, soft anti-affinity, max_server_per_host, same_host / different_host, and a hint
// Kova cannot honour refused by name. Nova's samples for os-server-groups are matched at every
// microversion folder.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SERVER_GROUPS, type ServerGroup } from '../../src/api/server-group.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { VIRTUAL_MACHINES, type VirtualMachine } from '../../src/kubevirt/types.ts';
import { NODES, PODS, type Pod } from '../../src/kube/types.ts';
import { compareShape, loadTemplate, versionsOf } from '../conformance/samples.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { people } from '../support/people.ts';
import { eventually, serverStatusIs } from '../support/waiting.ts';
import { createServer, ensureFlavor, project, uniq } from '../support/fixtures.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('server groups and scheduler hints', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let zone: string;
  let other: string;
  let admin: string;
  let member: string;
  let reader: string;
  let stranger: string;
  let imageId: string;
  const nodes = [uniq('node'), uniq('node'), uniq('node')];

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client, { nodes: nodes.map((name) => ({ name })) }));
    ({ namespace: other } = await project(kova.client));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    api = await startApi(kova, { passwords: new PasswordUsers() });
    ({ admin, member, reader, stranger } = await people(kova, api, ns, other));
    imageId = (await eventually('image in cache', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  const createGroup = async (body: Record<string, unknown>, version = '2.64', token = member) =>
    api.call('POST', '/v2.1/os-server-groups', { token, version, body: { server_group: body } });
  const boot = (name: string, hints: Record<string, unknown>, o: { count?: number; version?: string } = {}) =>
    api.call('POST', '/v2.1/servers', {
      token: member, version: o.version ?? '2.37',
      body: { server: { name, flavorRef: '1', imageRef: imageId, networks: 'auto', availability_zone: zone, ...(o.count ? { min_count: o.count, max_count: o.count } : {}) }, 'os:scheduler_hints': hints },
    });
  /** The Servers a request made, by their Nova name prefix. */
  const serversNamed = (prefix: string): Server[] => api.facade.caches.servers.list(ns).filter((s) => s.spec.name.startsWith(prefix));
  const settled = (prefix: string, n: number) => eventually(`${n} servers ${prefix}* settled`, async () => {
    const l = serversNamed(prefix);
    return l.length === n && l.every((s) => s.status?.status === 'ACTIVE' || s.status?.status === 'ERROR') ? l : undefined;
  }, 180_000);
  const removeServers = async (prefix: string) => {
    for (const s of serversNamed(prefix)) await api.call('DELETE', `/v2.1/servers/${s.metadata.uid}`, { token: member });
    await eventually(`servers ${prefix}* gone`, async () => serversNamed(prefix).length === 0, 120_000);
  };

  describe('os-server-groups', () => {
    test("create, show, list and delete match Nova's samples at every microversion folder", async () => {
      for (const v of versionsOf('os-server-groups', 'server-groups-post-resp.json.tpl')) {
        const req = loadTemplate('os-server-groups', 'server-groups-post-req.json.tpl', v)!.value as { server_group: Record<string, unknown> };
        const made = await createGroup({ ...req.server_group, name: uniq('conf') }, v);
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const id = made.body.server_group.id;
        const shown = await api.call('GET', `/v2.1/os-server-groups/${id}`, { token: member, version: v });
        const listed = await api.call('GET', '/v2.1/os-server-groups?limit=1', { token: member, version: v });
        for (const [file, body] of [['server-groups-post-resp.json.tpl', made.body], ['server-groups-get-resp.json.tpl', shown.body], ['server-groups-list-resp.json.tpl', listed.body]] as const) {
          assert.deepEqual(compareShape(body, loadTemplate('os-server-groups', file, v)!.value), [], `${v} ${file}`);
        }
        assert.equal((await api.call('DELETE', `/v2.1/os-server-groups/${id}`, { token: member, version: v })).status, 204);
        const gone = await api.call('GET', `/v2.1/os-server-groups/${id}`, { token: member, version: v });
        assert.equal(gone.status, 404);
        assert.equal(gone.body.itemNotFound.message, `Instance group ${id} could not be found.`);
      }
    });

    test('the fields by microversion: ids from 2.13, soft policies from 2.15, policy and rules from 2.64', async () => {
      const old = await createGroup({ name: 'old', policies: ['affinity'] }, '2.12');
      assert.deepEqual(Object.keys(old.body.server_group).sort(), ['id', 'members', 'metadata', 'name', 'policies']);
      assert.match(old.body.server_group.id, UUID);
      const soft = await createGroup({ name: 'soft', policies: ['soft-affinity'] }, '2.14');
      assert.equal(soft.status, 400);
      assert.match(soft.body.badRequest.message, /^Invalid input for field\/attribute/);
      const s215 = await createGroup({ name: 'soft', policies: ['soft-affinity'] }, '2.15');
      assert.deepEqual([s215.status, s215.body.server_group.policies, s215.body.server_group.user_id], [200, ['soft-affinity'], 'alice']);
      assert.equal(s215.body.server_group.project_id, api.facade.caches.projectIdOf(ns));
      const seen = await api.call('GET', `/v2.1/os-server-groups/${s215.body.server_group.id}`, { token: member, version: '2.64' });
      assert.deepEqual([seen.body.server_group.policy, seen.body.server_group.rules], ['soft-affinity', {}]);
      const policies = await createGroup({ name: 'x', policies: ['affinity'] }, '2.64');
      assert.equal(policies.status, 400);
      const rules = await createGroup({ name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } });
      assert.deepEqual([rules.status, rules.body.badRequest?.message], [400, 'Only anti-affinity policy supports rules.']);
      const zero = await createGroup({ name: 'x', policy: 'anti-affinity', rules: { max_server_per_host: 0 } });
      assert.equal(zero.status, 400);
      for (const id of [old.body.server_group.id, s215.body.server_group.id]) await api.call('DELETE', `/v2.1/os-server-groups/${id}`, { token: member });
    });

    test('a project cannot see or delete another project\'s group (404); admins list all projects; readers cannot create', async () => {
      const mine = (await createGroup({ name: 'private', policy: 'anti-affinity' })).body.server_group;
      const theirs = (await createGroup({ name: 'theirs', policy: 'affinity' }, '2.64', stranger)).body.server_group;
      assert.equal((await api.call('GET', `/v2.1/os-server-groups/${mine.id}`, { token: stranger })).status, 404);
      assert.equal((await api.call('DELETE', `/v2.1/os-server-groups/${mine.id}`, { token: stranger })).status, 404);
      const ids = (token: string, q = '') => api.call('GET', `/v2.1/os-server-groups${q}`, { token }).then((r) => r.body.server_groups.map((g: { id: string }) => g.id));
      assert.deepEqual(await ids(stranger, '?all_projects=True'), [theirs.id], 'a non-admin asking for all projects gets their own');
      assert.ok((await ids(member)).includes(mine.id) && !(await ids(member)).includes(theirs.id));
      const all = await ids(admin, '?all_projects=True');
      assert.ok(all.includes(mine.id) && all.includes(theirs.id));
      assert.deepEqual(await ids(admin, '?all_projects=True&limit=1&offset=1'), [all[1]]);
      assert.equal((await api.call('GET', `/v2.1/os-server-groups/${mine.id}`, { token: reader })).status, 200);
      assert.equal((await createGroup({ name: 'nope', policy: 'affinity' }, '2.64', reader)).status, 403);
      const bad = await api.call('GET', '/v2.1/os-server-groups?limit=-1', { token: member });
      assert.equal(bad.status, 400);
      for (const [id, token] of [[mine.id, member], [theirs.id, stranger]]) assert.equal((await api.call('DELETE', `/v2.1/os-server-groups/${id}`, { token })).status, 204);
    });

    test('the kubectl door: the CRD refuses rules on a policy other than anti-affinity, and any change', async () => {
      const g = (policy: ServerGroup['spec']['policy'], max?: number): ServerGroup => ({ metadata: { name: uniq('sg'), namespace: ns }, spec: { name: 'k', policy, ...(max ? { rules: { maxServerPerHost: max } } : {}) } });
      await assert.rejects(kova.client.create(SERVER_GROUPS, g('affinity', 2)), /Only anti-affinity policy supports rules/);
      const ok = await kova.client.create<ServerGroup>(SERVER_GROUPS, g('anti-affinity', 2));
      await assert.rejects(kova.client.mergePatch(SERVER_GROUPS, ok.metadata.name ?? '', ns, { spec: { policy: 'affinity' } }), /immutable/);
      await kova.client.delete(SERVER_GROUPS, ok.metadata.name ?? '', ns);
    });
  });

  describe('placement by the real kube-scheduler (3 Nodes)', () => {
    test('anti-affinity of 4: 3 ACTIVE on distinct hosts, one ERROR "No valid host was found"; members are true', async () => {
      const g = (await createGroup({ name: 'anti', policy: 'anti-affinity' })).body.server_group;
      const r = await boot('anti', { group: g.id }, { count: 4 });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const all = await settled('anti-', 4);
      const active = all.filter((s) => s.status?.status === 'ACTIVE');
      const error = all.filter((s) => s.status?.status === 'ERROR');
      assert.equal(active.length, 3, JSON.stringify(all.map((s) => s.status?.fault)));
      assert.equal(new Set(active.map((s) => s.status?.host)).size, 3);
      assert.equal(error.length, 1);
      assert.match(error[0]!.status?.fault?.message ?? '', /^No valid host was found/);
      const vm = await kova.client.get<VirtualMachine>(VIRTUAL_MACHINES, active[0]!.metadata.name ?? '', ns);
      assert.deepEqual((vm.spec.template.spec.affinity as { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: unknown[] } }).podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution,
        [{ labelSelector: { matchLabels: { 'compute.kova.io/server-group': g.id } }, topologyKey: 'kubernetes.io/hostname' }]);
      const members = async () => (await api.call('GET', `/v2.1/os-server-groups/${g.id}`, { token: member })).body.server_group.members.sort();
      assert.deepEqual(await members(), all.map((s) => s.metadata.uid).sort());
      // Server view: the group from 2.71, the hints from 2.100.
      const shown = await api.call('GET', `/v2.1/servers/${active[0]!.metadata.uid}`, { token: member, version: '2.100' });
      assert.deepEqual(shown.body.server.server_groups, [g.id]);
      assert.deepEqual(shown.body.server.scheduler_hints, { group: g.id });
      const before71 = await api.call('GET', `/v2.1/servers/${active[0]!.metadata.uid}`, { token: member, version: '2.70' });
      assert.equal(before71.body.server.server_groups, undefined);
      // A deleted server leaves the group.
      await api.call('DELETE', `/v2.1/servers/${error[0]!.metadata.uid}`, { token: member });
      await eventually('the deleted server leaves the members', async () => (await members()).length === 3);
      await removeServers('anti-');
      assert.deepEqual(await members(), []);
    });

    test('affinity: every member on the same host', async () => {
      const g = (await createGroup({ name: 'aff', policy: 'affinity' })).body.server_group;
      assert.equal((await boot('aff', { group: g.id }, { count: 3 })).status, 202);
      const all = await settled('aff-', 3);
      assert.deepEqual(all.map((s) => s.status?.status), ['ACTIVE', 'ACTIVE', 'ACTIVE']);
      assert.equal(new Set(all.map((s) => s.status?.host)).size, 1);
      await removeServers('aff-');
    });

    test('soft anti-affinity of 4: all ACTIVE, spread as far as it goes', async () => {
      const g = (await createGroup({ name: 'soft', policy: 'soft-anti-affinity' })).body.server_group;
      assert.equal((await boot('soft', { group: g.id }, { count: 4 })).status, 202);
      const all = await settled('soft-', 4);
      assert.deepEqual(all.map((s) => s.status?.status), ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
      assert.equal(new Set(all.map((s) => s.status?.host)).size, 3);
      await removeServers('soft-');
    });

    test('anti-affinity with max_server_per_host 2: 5 members ACTIVE, at most 2 on a host', async () => {
      const g = (await createGroup({ name: 'two', policy: 'anti-affinity', rules: { max_server_per_host: 2 } })).body.server_group;
      assert.equal((await boot('two', { group: g.id }, { count: 5 })).status, 202);
      const all = await settled('two-', 5);
      assert.deepEqual(all.map((s) => s.status?.status), Array(5).fill('ACTIVE'), JSON.stringify(all.map((s) => s.status?.fault)));
      const perHost = new Map<string, number>();
      for (const s of all) perHost.set(s.status?.host ?? '', (perHost.get(s.status?.host ?? '') ?? 0) + 1);
      assert.ok([...perHost.values()].every((n) => n <= 2), JSON.stringify([...perHost]));
      await removeServers('two-');
    });

    test('moves keep the policy: a live migration, a cold migration and an evacuation of anti-affinity members land on the one host left', async () => {
      const g = (await createGroup({ name: 'moving', policy: 'anti-affinity' })).body.server_group;
      assert.equal((await boot('moving', { group: g.id }, { count: 2 })).status, 202);
      const [a, b] = await settled('moving-', 2);
      const hostOf = async (id: string) => (await api.call('GET', `/v2.1/servers/${id}`, { token: admin })).body.server;
      const free = () => nodes.find((n) => !serversNamed('moving-').some((s) => s.status?.host === n));
      const act = (id: string, body: unknown) => api.call('POST', `/v2.1/servers/${id}/action`, { token: admin, version: '2.68', body });
      const quiet = (id: string, status: string) => eventually(`${id} ${status}`, async () => {
        const s = await hostOf(id);
        return s.status === status && s['OS-EXT-STS:task_state'] === null ? s : undefined;
      }, 120_000);
      // Live: virt-controller renders the target pod from the VMI's spec, the group's terms included.
      const target = free();
      assert.equal((await act(a!.metadata.uid ?? '', { 'os-migrateLive': { host: null, block_migration: 'auto' } })).status, 202);
      await eventually('the live migration to finish', async () => (await quiet(a!.metadata.uid ?? '', 'ACTIVE'))['OS-EXT-SRV-ATTR:host'] !== a!.status?.host, 120_000);
      assert.equal((await hostOf(a!.metadata.uid ?? ''))['OS-EXT-SRV-ATTR:host'], target);
      const pods = (await kova.client.list<Pod>(PODS, { namespace: ns, labelSelector: `compute.kova.io/server=${a!.metadata.name}` })).items;
      const onTarget = pods.find((p) => p.spec?.nodeName === target);
      const terms = (onTarget?.spec?.affinity as { podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { labelSelector: unknown }[] } } | undefined)?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
      assert.ok(terms.some((t) => JSON.stringify(t.labelSelector) === JSON.stringify({ matchLabels: { 'compute.kova.io/server-group': g.id } })), JSON.stringify(onTarget?.spec?.affinity));
      // Cold: a new VMI from the VM's template, which carries the terms.
      const next = free();
      assert.equal((await act(b!.metadata.uid ?? '', { migrate: null })).status, 202);
      assert.equal((await quiet(b!.metadata.uid ?? '', 'VERIFY_RESIZE'))['OS-EXT-SRV-ATTR:host'], next);
      assert.equal((await act(b!.metadata.uid ?? '', { confirmResize: null })).status, 204);
      await quiet(b!.metadata.uid ?? '', 'ACTIVE');
      // Evacuation: b's host forced down; the one host left that no member holds takes it.
      const down = (await hostOf(b!.metadata.uid ?? ''))['OS-EXT-SRV-ATTR:host'];
      const left = free();
      await kova.client.mergePatch(NODES, down, undefined, { spec: { taints: [{ key: 'compute.kova.io/forced-down', value: 'true', effect: 'NoSchedule' }] } });
      try {
        await eventually('host down in the cache', async () => api.facade.caches.nodes.get(down)?.spec?.taints?.length);
        assert.equal((await act(b!.metadata.uid ?? '', { evacuate: {} })).status, 200);
        assert.equal((await quiet(b!.metadata.uid ?? '', 'ACTIVE'))['OS-EXT-SRV-ATTR:host'], left, 'evacuated to the host the policy leaves');
      } finally {
        await kova.client.mergePatch(NODES, down, undefined, { spec: { taints: null } });
      }
      await removeServers('moving-');
    });

    test('same_host and different_host place beside or away from the named servers', async () => {
      assert.equal((await boot('anchor', {})).status, 202);
      const [anchor] = await settled('anchor', 1);
      const id = anchor!.metadata.uid;
      assert.equal((await boot('beside', { same_host: [id] })).status, 202);
      assert.equal((await boot('away', { different_host: id })).status, 202);
      const [beside] = await settled('beside', 1);
      const [away] = await settled('away', 1);
      assert.equal(beside!.status?.host, anchor!.status?.host);
      assert.equal(away!.status?.status, 'ACTIVE');
      assert.notEqual(away!.status?.host, anchor!.status?.host);
      await removeServers('anchor');
      await removeServers('beside');
      await removeServers('away');
    });

    test('the kubectl door: spec.serverGroup by name makes a member; a group that does not exist is ERROR with the façade\'s message', async () => {
      const g = (await createGroup({ name: 'door', policy: 'anti-affinity' })).body.server_group;
      const name = api.facade.caches.serverGroups.byIndex('uid', g.id)[0]?.metadata.name;
      await createServer(kova.client, ns, 'door-ok', { availabilityZone: zone, serverGroup: name });
      await createServer(kova.client, ns, 'door-missing', { availabilityZone: zone, serverGroup: 'nope' });
      const ok = await serverStatusIs(kova.client, ns, 'door-ok', 'ACTIVE', undefined, 120_000);
      const missing = await serverStatusIs(kova.client, ns, 'door-missing', 'ERROR');
      assert.equal(missing.status?.fault?.message, 'Instance group nope could not be found.');
      const shown = await api.call('GET', `/v2.1/os-server-groups/${g.id}`, { token: member });
      assert.deepEqual(shown.body.server_group.members, [ok.metadata.uid]);
      for (const n of ['door-ok', 'door-missing']) await kova.client.delete(SERVERS, n, ns);
    });

    test('a hint Kova cannot honour is a 400 naming it, and nothing is created; an unknown group is a 400', async () => {
      for (const [hint, value] of [['query', '[">=","$free_ram_mb",1024]'], ['target_cell', 'cell1'], ['build_near_host_ip', '10.0.0.1'], ['cidr', '/24'], ['my_filter', 'x']] as const) {
        const r = await boot('refused', { [hint]: value });
        assert.equal(r.status, 400, hint);
        assert.ok(r.body.badRequest.message.startsWith(`Scheduler hint ${hint} is not`), r.body.badRequest.message);
      }
      const unknown = '8f7c9a4e-0000-4000-8000-000000000000';
      const r = await boot('refused', { group: unknown });
      assert.deepEqual([r.status, r.body.badRequest?.message], [400, `Instance group ${unknown} could not be found.`]);
      const malformed = await boot('refused', { group: 'not-a-uuid' });
      assert.equal(malformed.status, 400);
      assert.equal(serversNamed('refused').length, 0);
      assert.equal((await kova.client.list<Server>(SERVERS, { namespace: ns })).items.filter((s) => s.spec.name === 'refused').length, 0);
    });
  });
});
