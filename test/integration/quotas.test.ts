// Quotas (docs/adr/019) against the real control plane, through two façade replicas and the
// controller: os-quota-sets (show, update, delete, defaults, detail, per user) and
// os-quota-class-sets as Nova answers them and as QuotaSet objects; /limits; Nova's 403 for each
// enforced resource; min/max_count; resize; 50 parallel creates across two APIs against a quota of
// 10; a Server applied over quota by kubectl left unbuilt in ERROR with an Event.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QUOTASETS, type QuotaSet } from '../../src/api/quotaset.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { kovaNamespace } from '../../src/compute/quotas.ts';
import { NAMESPACES } from '../../src/kube/types.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { VIRTUAL_MACHINES } from '../../src/kubevirt/types.ts';
import { CLASS_QUOTA_NAME, PROJECT_QUOTA_NAME, QUOTA_CONDITION } from '../../src/nova/quotas.ts';
import { compareShape, loadTemplate, versionsOf } from '../conformance/samples.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { EVENTS, type KubeEvent } from '../support/events.ts';
import { createServer, ensureFlavor, project, TEST_PUBLIC_KEY } from '../support/fixtures.ts';
import { grant } from '../support/people.ts';
import { eventually, serverWhere } from '../support/waiting.ts';

describe('quotas', () => {
  let kova: Kova;
  let api: Api;
  let api2: Api;
  let imageId: string;
  const projects: { namespace: string; zone: string; id: string }[] = [];

  /** A project with Nova's default quotas, its member alice, reader bob; root is admin everywhere. */
  async function quotaProject(): Promise<{ namespace: string; zone: string; id: string; admin: string; member: string; reader: string }> {
    const p = await project(kova.client, { quotas: 'defaults' });
    await grant(kova.client, 'alice', 'kova-member', p.namespace);
    await grant(kova.client, 'bob', 'kova-reader', p.namespace);
    await eventually('both façades see the project', async () => !!api.facade.caches.projectByIdOrName(p.namespace) && !!api2.facade.caches.projectByIdOrName(p.namespace));
    const id = api.facade.caches.projectIdOf(p.namespace) ?? '';
    projects.push({ ...p, id });
    return { ...p, id, admin: api.token('root', p.namespace), member: api.token('alice', p.namespace), reader: api.token('bob', p.namespace) };
  }

  const create = (a: Api, token: string, zone: string, server: Record<string, unknown> = {}, version = '2.1') =>
    a.call('POST', '/v2.1/servers', { token, version, body: { server: { name: 'q', flavorRef: 'q.tiny', imageRef: imageId, availability_zone: zone, ...server } } });
  const setQuota = (a: Api, token: string, id: string, quota: Record<string, unknown>, query = '') =>
    a.call('PUT', `/v2.1/os-quota-sets/${id}${query}`, { token, body: { quota_set: quota } });
  const servers = async (ns: string): Promise<Server[]> => (await kova.client.list<Server>(SERVERS, { namespace: ns })).items;

  before(async () => {
    kova = await startKova();
    await ensureFlavor(kova.client, { id: 'q.tiny', name: 'q.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureFlavor(kova.client, { id: 'q.quad', name: 'q.quad', vcpus: 4, ramMiB: 2048, diskGiB: 1 });
    await ensureFlavor(kova.client, { id: 'q.fat', name: 'q.fat', vcpus: 1, ramMiB: 8192, diskGiB: 1 });
    await kova.client.apply(NAMESPACES, { metadata: { name: kovaNamespace(kova.cfg) } });
    await ensureImage(kova.client, 'kova-images', 'cirros');
    api = await startApi(kova);
    api2 = await startApi(kova);
    await grant(kova.client, 'root', 'kova-admin');
    imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
  });
  after(async () => {
    await kova.client.delete(QUOTASETS, CLASS_QUOTA_NAME, kovaNamespace(kova.cfg)).catch(() => undefined);
    for (const p of projects) for (const s of await servers(p.namespace)) await kova.client.delete(SERVERS, s.metadata.name ?? '', p.namespace).catch(() => undefined);
    await api2?.stop();
    await api?.stop();
    await kova?.stop();
  });

  test('show, defaults, detail, update, per user, delete; readers see their own; only admins change them; the QuotaSet is the record both ways', async () => {
    const p = await quotaProject();
    const other = await quotaProject();
    const show = (token: string, path = '', version = '2.57') => api.call('GET', `/v2.1/os-quota-sets/${p.id}${path}`, { token, version });
    // Nova's defaults, to the reader and the member; not to a member of another project.
    assert.deepEqual((await show(p.reader)).body, { quota_set: { id: p.id, cores: 20, instances: 10, key_pairs: 100, metadata_items: 128, ram: 51200, server_groups: 10, server_group_members: 10 } });
    assert.equal((await show(p.member)).status, 200);
    const stranger = await api.call('GET', `/v2.1/os-quota-sets/${p.id}`, { token: other.member });
    assert.deepEqual([stranger.status, stranger.body.forbidden?.message], [403, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed."]);
    // Microversions: the network quotas until 2.36, the personality ones until 2.57.
    assert.ok('floating_ips' in (await show(p.member, '', '2.35')).body.quota_set);
    assert.ok(!('floating_ips' in (await show(p.member, '', '2.36')).body.quota_set) && 'injected_files' in (await show(p.member, '', '2.36')).body.quota_set);
    assert.ok(!('injected_files' in (await show(p.member, '', '2.57')).body.quota_set));

    // Only an admin changes quotas (Nova's policy message).
    const refused = await setQuota(api, p.member, p.id, { instances: 5 });
    assert.deepEqual([refused.status, refused.body.forbidden?.message], [403, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed."]);
    const delRefused = await api.call('DELETE', `/v2.1/os-quota-sets/${p.id}`, { token: p.reader });
    assert.deepEqual([delRefused.status, delRefused.body.forbidden?.message], [403, "Policy doesn't allow os_compute_api:os-quota-sets:delete to be performed."]);
    const bad = await setQuota(api, p.admin, p.id, { instances: -2 });
    assert.equal(bad.status, 400);
    assert.equal((await setQuota(api, p.admin, p.id, { nope: 1 })).status, 400);

    const up = await setQuota(api, p.admin, p.id, { instances: 3, cores: '6' });
    assert.equal(up.status, 200);
    assert.deepEqual(up.body, { quota_set: { cores: 6, instances: 3, key_pairs: 100, metadata_items: 128, ram: 51200, server_groups: 10, server_group_members: 10, injected_files: 5, injected_file_content_bytes: 10240, injected_file_path_bytes: 255, fixed_ips: -1, floating_ips: -1, security_groups: -1, security_group_rules: -1 } });
    const obj = await kova.client.get<QuotaSet>(QUOTASETS, PROJECT_QUOTA_NAME, p.namespace);
    assert.deepEqual([obj.spec.instances, obj.spec.cores, obj.spec.ramMiB], [3, 6, undefined]);
    // The GitOps door: the object changed by kubectl is what the API answers and enforces.
    await kova.client.mergePatch(QUOTASETS, PROJECT_QUOTA_NAME, p.namespace, { spec: { ramMiB: 4096 } });
    await eventually('the API shows the patched QuotaSet', async () => (await show(p.member)).body.quota_set.ram === 4096);

    // detail: what is in use; a limit below it is refused unless forced.
    assert.equal((await create(api, p.member, p.zone)).status, 202);
    assert.equal((await create(api2, api2.token('alice', p.namespace), p.zone)).status, 202);
    // Both admitted by the controller before the limit is forced below them (a server not yet admitted would be refused then).
    await eventually('both servers admitted', async () => (await servers(p.namespace)).every((s) => s.status?.conditions?.some((c) => c.type === QUOTA_CONDITION && c.status === 'True')));
    const detail = (await eventually('this replica sees both servers', async () => {
      const d = (await show(p.member, '/detail')).body.quota_set;
      return d.instances.in_use === 2 ? d : undefined;
    }));
    assert.deepEqual([detail.instances, detail.cores, detail.ram], [{ in_use: 2, limit: 3, reserved: 0 }, { in_use: 2, limit: 6, reserved: 0 }, { in_use: 1024, limit: 4096, reserved: 0 }]);
    const below = await setQuota(api, p.admin, p.id, { instances: 1 });
    assert.deepEqual([below.status, below.body.badRequest?.message], [400, 'Quota limit 1 for instances must be greater than or equal to already used and reserved 2.']);
    assert.equal((await setQuota(api, p.admin, p.id, { instances: 1, force: 'True' })).body.quota_set.instances, 1);
    assert.equal((await setQuota(api, p.admin, p.id, { instances: 3 })).status, 200);

    // /limits reflects the project's quotas and use.
    const limits = (await api.call('GET', '/v2.1/limits', { token: p.member, version: '2.57' })).body.limits.absolute;
    assert.deepEqual([limits.maxTotalInstances, limits.maxTotalCores, limits.maxTotalRAMSize, limits.totalInstancesUsed, limits.totalCoresUsed, limits.totalRAMUsed], [3, 6, 4096, 2, 2, 1024]);

    // Per user: alice's own limit, not above the project's; her usage in her detail.
    const tooHigh = await setQuota(api, p.admin, p.id, { instances: 5 }, '?user_id=alice');
    assert.deepEqual([tooHigh.status, tooHigh.body.badRequest?.message], [400, 'Quota limit 5 for instances must be less than or equal to 3.']);
    assert.equal((await setQuota(api, p.admin, p.id, { instances: 2 }, '?user_id=alice')).body.quota_set.instances, 2);
    assert.equal((await show(p.member, '?user_id=alice')).body.quota_set.instances, 2);
    assert.equal((await show(p.member)).body.quota_set.instances, 3, "the project's own stays");
    assert.deepEqual((await show(p.member, '/detail?user_id=alice')).body.quota_set.instances, { in_use: 2, limit: 2, reserved: 0 });
    const userObj = (await kova.client.list<QuotaSet>(QUOTASETS, { namespace: p.namespace })).items.find((q) => q.spec.userId === 'alice');
    assert.equal(userObj?.spec.instances, 2);
    // alice is at her own limit although the project is not.
    const overUser = await create(api, p.member, p.zone);
    assert.deepEqual([overUser.status, overUser.body.forbidden?.message], [403, 'Quota exceeded for instances: Requested 1, but already used 2 of 2 instances']);

    // Delete: the user's, then the project's; back to the defaults (202 as Nova).
    assert.equal((await api.call('DELETE', `/v2.1/os-quota-sets/${p.id}?user_id=alice`, { token: p.admin })).status, 202);
    assert.equal((await show(p.member, '?user_id=alice')).body.quota_set.instances, 3);
    const del = await api.call('DELETE', `/v2.1/os-quota-sets/${p.id}`, { token: p.admin });
    assert.equal(del.status, 202);
    assert.equal(await kova.client.find(QUOTASETS, PROJECT_QUOTA_NAME, p.namespace), undefined);
    assert.equal((await show(p.member)).body.quota_set.instances, 10);
    // Another project's quotas, to an admin.
    assert.equal((await api.call('GET', `/v2.1/os-quota-sets/${other.id}`, { token: p.admin })).status, 200);
  });

  test('quota class default: admins only; it is every project\'s default (defaults, show, limits) until a project sets its own', async () => {
    const p = await quotaProject();
    const path = '/v2.1/os-quota-class-sets/default';
    const denied = await api.call('GET', path, { token: p.member });
    assert.deepEqual([denied.status, denied.body.forbidden?.message], [403, "Policy doesn't allow os_compute_api:os-quota-class-sets:show to be performed."]);
    const deniedPut = await api.call('PUT', path, { token: p.member, body: { quota_class_set: { instances: 12 } } });
    assert.equal(deniedPut.status, 403);
    try {
      const put = await api.call('PUT', path, { token: p.admin, version: '2.57', body: { quota_class_set: { instances: 12, cores: 30 } } });
      assert.deepEqual(put.body, { quota_class_set: { cores: 30, instances: 12, key_pairs: 100, metadata_items: 128, ram: 51200, server_groups: 10, server_group_members: 10 } });
      assert.equal((await kova.client.get<QuotaSet>(QUOTASETS, CLASS_QUOTA_NAME, kovaNamespace(kova.cfg))).spec.instances, 12);
      assert.equal((await api.call('GET', path, { token: p.admin, version: '2.50' })).body.quota_class_set.id, 'default');
      await eventually('the other replica sees the class', async () => (await api2.call('GET', `/v2.1/os-quota-sets/${p.id}/defaults`, { token: api2.token('alice', p.namespace) })).body.quota_set.instances === 12);
      assert.equal((await api.call('GET', `/v2.1/os-quota-sets/${p.id}`, { token: p.member })).body.quota_set.cores, 30);
      assert.equal((await api.call('GET', '/v2.1/limits', { token: p.member })).body.limits.absolute.maxTotalInstances, 12);
      const otherClass = await api.call('PUT', '/v2.1/os-quota-class-sets/gold', { token: p.admin, body: { quota_class_set: { instances: 1 } } });
      assert.equal(otherClass.status, 400);
    } finally {
      await kova.client.delete(QUOTASETS, CLASS_QUOTA_NAME, kovaNamespace(kova.cfg)).catch(() => undefined);
    }
    await eventually('class back to Nova\'s defaults', async () => (await api.call('GET', `/v2.1/os-quota-sets/${p.id}/defaults`, { token: p.member })).body.quota_set.instances === 10);
  });

  test("Nova's samples: quota sets and quota classes through the façade match at every microversion folder", async () => {
    const p = await quotaProject();
    const cases: { area: string; file: string; run: (v: string) => Promise<unknown> }[] = [
      ...['quotas-show-get-resp', 'user-quotas-show-get-resp'].map((f) => ({ area: 'os-quota-sets', file: `${f}.json.tpl`, run: async (v: string) => (await api.call('GET', `/v2.1/os-quota-sets/${p.id}${f.startsWith('user') ? '?user_id=alice' : ''}`, { token: p.admin, version: v })).body })),
      { area: 'os-quota-sets', file: 'quotas-show-defaults-get-resp.json.tpl', run: async (v) => (await api.call('GET', `/v2.1/os-quota-sets/${p.id}/defaults`, { token: p.member, version: v })).body },
      { area: 'os-quota-sets', file: 'quotas-show-detail-get-resp.json.tpl', run: async (v) => (await api.call('GET', `/v2.1/os-quota-sets/${p.id}/detail`, { token: p.member, version: v })).body },
      ...[['quotas-update-post', ''], ['quotas-update-force-post', ''], ['user-quotas-update-post', '?user_id=alice']].map(([f, q]) => ({
        area: 'os-quota-sets', file: `${f}-resp.json.tpl`,
        run: async (v: string) => (await api.call('PUT', `/v2.1/os-quota-sets/${p.id}${q}`, { token: p.admin, version: v, body: loadTemplate('os-quota-sets', `${f}-req.json.tpl`, v)?.value })).body,
      })),
      { area: 'os-quota-class-sets', file: 'quota-classes-show-get-resp.json.tpl', run: async (v) => (await api.call('GET', '/v2.1/os-quota-class-sets/default', { token: p.admin, version: v })).body },
      { area: 'os-quota-class-sets', file: 'quota-classes-update-post-resp.json.tpl', run: async (v) => (await api.call('PUT', '/v2.1/os-quota-class-sets/default', { token: p.admin, version: v, body: loadTemplate('os-quota-class-sets', 'quota-classes-update-post-req.json.tpl', v)?.value })).body },
    ];
    const failures: string[] = [];
    let checked = 0;
    try {
      for (const c of cases) {
        for (const v of versionsOf(c.area, c.file)) {
          const t = loadTemplate(c.area, c.file, v);
          if (!t) continue;
          const actual = await c.run(v);
          const m = compareShape(actual, t.value);
          checked++;
          if (m.length) failures.push(`${c.area}/${c.file} @ ${v}: ${m.map((x) => `${x.path}: ${x.problem}`).join('; ')} — ${JSON.stringify(actual).slice(0, 200)}`);
        }
      }
    } finally {
      await kova.client.delete(QUOTASETS, CLASS_QUOTA_NAME, kovaNamespace(kova.cfg)).catch(() => undefined);
    }
    assert.deepEqual(failures, []);
    assert.ok(checked >= 20, `${checked} sample × version pairs checked`);
  });

  test("Nova's 403 for each enforced resource: instances, cores, ram, key_pairs, metadata_items, server_groups, server_group_members", async () => {
    const p = await quotaProject();
    await setQuota(api, p.admin, p.id, { instances: 3, cores: 7, ram: 8192, key_pairs: 1, metadata_items: 2 });
    const first = await create(api, p.member, p.zone, { flavorRef: 'q.quad' });
    assert.equal(first.status, 202);
    const cores = await create(api, p.member, p.zone, { flavorRef: 'q.quad' });
    assert.deepEqual([cores.status, cores.body], [403, { forbidden: { code: 403, message: 'Quota exceeded for cores: Requested 4, but already used 4 of 7 cores' } }]);
    const ram = await create(api, p.member, p.zone, { flavorRef: 'q.fat' });
    assert.deepEqual([ram.status, ram.body.forbidden?.message], [403, 'Quota exceeded for ram: Requested 8192, but already used 2048 of 8192 ram']);
    assert.equal((await create(api, p.member, p.zone)).status, 202);
    assert.equal((await create(api, p.member, p.zone, { metadata: { a: '1', b: '2' } })).status, 202);
    const instances = await create(api, p.member, p.zone);
    assert.deepEqual([instances.status, instances.body.forbidden?.message], [403, 'Quota exceeded for instances: Requested 1, but already used 3 of 3 instances']);
    assert.equal((await servers(p.namespace)).length, 3, 'nothing left behind by the refusals');

    const meta = await create(api, p.member, p.zone, { metadata: { a: '1', b: '2', c: '3' } });
    assert.deepEqual([meta.status, meta.body.forbidden?.message], [403, 'Maximum number of metadata items exceeds 2']);
    const withMeta = (await servers(p.namespace)).find((s) => Object.keys(s.spec.metadata ?? {}).length === 2)!;
    await eventually('server ACTIVE', async () => (await api.call('GET', `/v2.1/servers/${withMeta.metadata.uid}`, { token: p.member })).body.server?.status === 'ACTIVE');
    const more = await api.call('POST', `/v2.1/servers/${withMeta.metadata.uid}/metadata`, { token: p.member, body: { metadata: { c: '3' } } });
    assert.deepEqual([more.status, more.body.forbidden?.message], [403, 'Maximum number of metadata items exceeds 2']);

    const kp = (name: string) => api.call('POST', '/v2.1/os-keypairs', { token: p.member, version: '2.2', body: { keypair: { name, public_key: TEST_PUBLIC_KEY } } });
    assert.equal((await kp('one')).status, 201);
    const two = await kp('two');
    assert.deepEqual([two.status, two.body.forbidden?.message], [403, 'Quota exceeded, too many key pairs.']);

    await setQuota(api, p.admin, p.id, { server_groups: 1 });
    const group = (name: string) => api.call('POST', '/v2.1/os-server-groups', { token: p.member, version: '2.64', body: { server_group: { name, policy: 'anti-affinity' } } });
    assert.equal((await group('g1')).status, 200);
    const g2 = await group('g2');
    assert.deepEqual([g2.status, g2.body.forbidden?.message], [403, 'Quota exceeded, too many server groups.']);
    assert.equal((await api.call('GET', '/v2.1/limits', { token: p.member })).body.limits.absolute.totalServerGroupsUsed, 1);

    // server_group_members: counted per group at create.
    await setQuota(api, p.admin, p.id, { instances: 10, cores: 20, ram: 65536, server_group_members: 1 });
    const g1 = (await api.call('GET', '/v2.1/os-server-groups', { token: p.member })).body.server_groups.find((g: { name: string }) => g.name === 'g1').id;
    const member = () => api.call('POST', '/v2.1/servers', { token: p.member, body: { server: { name: 'm', flavorRef: 'q.tiny', imageRef: imageId, availability_zone: p.zone }, 'os:scheduler_hints': { group: g1 } } });
    assert.equal((await member()).status, 202);
    const second = await member();
    assert.deepEqual([second.status, second.body.forbidden?.message], [403, 'Quota exceeded, too many servers in group']);
  });

  test('min_count/max_count: as many as fit between them; refused when min does not fit', async () => {
    const p = await quotaProject();
    await setQuota(api, p.admin, p.id, { instances: 4 });
    assert.equal((await create(api, p.member, p.zone, { name: 'one' })).status, 202);
    const some = await create(api, p.member, p.zone, { name: 'batch', min_count: 1, max_count: 5, return_reservation_id: true });
    assert.equal(some.status, 202);
    assert.equal((await servers(p.namespace)).length, 4, 'three of the five fit');
    await setQuota(api, p.admin, p.id, { instances: 6 });
    const none = await create(api, p.member, p.zone, { name: 'batch2', min_count: 3, max_count: 5 });
    assert.deepEqual([none.status, none.body.forbidden?.message], [403, 'Quota exceeded for instances: Requested 3-5, but already used 4 of 6 instances']);
    assert.equal((await servers(p.namespace)).length, 4);
    assert.equal((await create(api, p.member, p.zone, { name: 'batch3', min_count: 2, max_count: 2 })).status, 202);
    assert.equal((await servers(p.namespace)).length, 6);
  });

  test("resize counts the new flavor's growth, from both doors: over quota it is refused and the server keeps its flavor", async () => {
    const p = await quotaProject();
    await setQuota(api, p.admin, p.id, { cores: 3 });
    const made = await create(api, p.member, p.zone);
    const id = made.body.server.id;
    await eventually('server ACTIVE', async () => (await api.call('GET', `/v2.1/servers/${id}`, { token: p.member })).body.server?.status === 'ACTIVE', 60_000);
    const r = await api.call('POST', `/v2.1/servers/${id}/action`, { token: p.member, body: { resize: { flavorRef: 'q.quad' } } });
    assert.deepEqual([r.status, r.body.forbidden?.message], [403, 'Quota exceeded for cores: Requested 3, but already used 1 of 3 cores']);
    assert.equal((await servers(p.namespace))[0]?.spec.flavor, 'q.tiny');
    // The same resize asked by editing the spec (kubectl) is refused by the controller, in a condition.
    const name = (await servers(p.namespace))[0]!.metadata.name ?? '';
    await kova.client.mergePatch(SERVERS, name, p.namespace, { spec: { flavor: 'q.quad' } });
    const refused = await eventually('the spec door refuses it', async () => (await servers(p.namespace))[0]?.status?.conditions?.find((c) => c.type === 'Accepted' && c.status === 'False'), 60_000);
    assert.match(refused.message ?? '', /resize to flavor q\.quad: Quota exceeded for cores: Requested 3, but already used 1 of 3 cores/);
    assert.equal((await servers(p.namespace))[0]?.status?.operation, undefined, 'no resize under way');
    await kova.client.mergePatch(SERVERS, name, p.namespace, { spec: { flavor: 'q.tiny' } });
    await eventually('accepted again', async () => (await servers(p.namespace))[0]?.status?.conditions?.find((c) => c.type === 'Accepted')?.status === 'True' || undefined, 60_000);
    await setQuota(api, p.admin, p.id, { cores: 4 });
    const ok = await api.call('POST', `/v2.1/servers/${id}/action`, { token: p.member, body: { resize: { flavorRef: 'q.quad' } } });
    assert.equal(ok.status, 202);
  });

  test('the race: 50 parallel creates through two API replicas against a quota of 10 leave exactly 10 servers, all built', async () => {
    const p = await quotaProject();
    await setQuota(api, p.admin, p.id, { instances: 10, cores: -1, ram: -1 });
    const tokens = [p.member, api2.token('alice', p.namespace)];
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => create(i % 2 ? api2 : api, tokens[i % 2]!, p.zone, { name: `race-${i}` })));
    const codes = answers.map((a) => a.status);
    assert.equal(codes.filter((c) => c === 202).length, 10, `answers: ${JSON.stringify(codes)}`);
    assert.equal(codes.filter((c) => c === 403).length, 40);
    assert.ok(answers.filter((a) => a.status === 403).every((a) => a.body.forbidden.message === 'Quota exceeded for instances: Requested 1, but already used 10 of 10 instances'));
    assert.equal((await servers(p.namespace)).length, 10);
    await eventually('all ten admitted by the controller and built', async () => {
      const list = await servers(p.namespace);
      return list.every((s) => s.status?.conditions?.some((c) => c.type === QUOTA_CONDITION && c.status === 'True') && s.status?.instanceName);
    }, 120_000);
  });

  test('the spec door: a Server applied by kubectl over quota is not built (ERROR, the same fault, an Event); two racing are not both built', async () => {
    const p = await quotaProject();
    await setQuota(api, p.admin, p.id, { instances: 1 });
    await createServer(kova.client, p.namespace, 'first', { flavor: 'q.tiny', availabilityZone: p.zone });
    await serverWhere(kova.client, p.namespace, 'first', 'admitted', (s) => !!s.status?.conditions?.some((c) => c.type === QUOTA_CONDITION && c.status === 'True'));
    await createServer(kova.client, p.namespace, 'second', { flavor: 'q.tiny', availabilityZone: p.zone });
    const message = 'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances';
    const second = await serverWhere(kova.client, p.namespace, 'second', 'ERROR', (s) => s.status?.status === 'ERROR');
    assert.deepEqual([second.status?.fault?.code, second.status?.fault?.message], [403, message]);
    assert.equal(await kova.client.find(VIRTUAL_MACHINES, 'second', p.namespace), undefined, 'no VM for the refused server');
    const events = await eventually('the QuotaExceeded Event', async () => (await kova.client.list<KubeEvent>(EVENTS, { namespace: p.namespace })).items.find((e) => e.regarding?.name === 'second' && e.reason === 'QuotaExceeded'));
    assert.equal(events.note, message);
    // The API shows the same fault; the refused server does not count.
    const shown = await api.call('GET', `/v2.1/servers/${second.metadata.uid}`, { token: p.member });
    assert.deepEqual([shown.body.server.status, shown.body.server.fault?.message], ['ERROR', message]);
    assert.equal((await api.call('GET', `/v2.1/os-quota-sets/${p.id}/detail`, { token: p.member })).body.quota_set.instances.in_use, 1);

    // Two applied at once into a project with room for one: one is built, the other refused.
    const q = await quotaProject();
    await setQuota(api, q.admin, q.id, { instances: 1 });
    await Promise.all(['a', 'b'].map((n) => createServer(kova.client, q.namespace, n, { flavor: 'q.tiny', availabilityZone: q.zone })));
    const decided = await eventually('both decided', async () => {
      const list = await servers(q.namespace);
      const conds = list.map((s) => s.status?.conditions?.find((c) => c.type === QUOTA_CONDITION)?.status);
      return conds.length === 2 && conds.every((c) => c) ? conds : undefined;
    });
    assert.deepEqual([...decided].sort(), ['False', 'True']);
    await eventually('exactly one VM', async () => (await kova.client.list(VIRTUAL_MACHINES, { namespace: q.namespace })).items.length === 1);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await kova.client.list(VIRTUAL_MACHINES, { namespace: q.namespace })).items.length, 1, 'still one');
  });
});
