// Deleted servers' records (docs/adr/022) on the real control plane: a deleted server is listed by
// changes-since as DELETED (to its own project only), its instance actions stay readable from 2.21,
// os-simple-tenant-usage counts its real hours as terminated (and still matches Nova's samples at
// every microversion folder), nothing secret is kept, and the records are pruned by count and age.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DELETED_SERVERS, type DeletedServer } from '../../src/api/deleted-server.ts';
import { HISTORY_FINALIZER } from '../../src/api/labels.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { compareShape, loadTemplate, versionsOf } from '../conformance/samples.ts';
import { FREE_KEYS, NULLABLE } from '../conformance/differences.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { createServer, ensureFlavor, project, uniq } from '../support/fixtures.ts';
import { people, type People } from '../support/people.ts';
import { eventually, serverStatusIs } from '../support/waiting.ts';

const naiveNow = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toISOString().replace(/\.\d+Z$/, '');

describe('deleted servers: changes-since, instance actions, usage', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let other: string;
  let zone: string;
  let who: People;
  let projectId: string;
  const since = naiveNow(-1000);
  let id = '';
  let deleteRequest = '';
  let record: DeletedServer;

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client));
    other = (await project(kova.client)).namespace;
    await ensureFlavor(kova.client, { id: 'hist-1', name: 'hist.tiny', vcpus: 2, ramMiB: 256, diskGiB: 1 });
    api = await startApi(kova, { passwords: new PasswordUsers() });
    who = await people(kova, api, ns, other);
    projectId = api.facade.caches.projectIdOf(ns) ?? '';
    const imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
    const made = await api.call('POST', '/v2.1/servers', {
      token: who.member, version: '2.37',
      body: { server: { name: 'doomed', flavorRef: 'hist-1', imageRef: imageId, networks: 'auto', availability_zone: zone, user_data: Buffer.from('#cloud-config\n# TOP-SECRET-USERDATA\n').toString('base64'), adminPass: 'Pw-very-secret-42' } },
    });
    assert.equal(made.status, 202, JSON.stringify(made.body));
    id = made.body.server.id;
    await eventually('server ACTIVE', async () => (await api.call('GET', `/v2.1/servers/${id}`, { token: who.member })).body.server?.status === 'ACTIVE');
    // The controller holds every Server until it has recorded it.
    const held = await eventually('the history finalizer', async () => api.facade.caches.servers.byIndex('uid', id)[0]?.metadata.finalizers?.includes(HISTORY_FINALIZER));
    assert.ok(held);
    // An hour's usage needs time; a couple of seconds of real running is measurable.
    await new Promise((r) => setTimeout(r, 2000));
    const del = await api.call('DELETE', `/v2.1/servers/${id}`, { token: who.member });
    assert.equal(del.status, 204);
    deleteRequest = del.headers.get('x-openstack-request-id') ?? '';
    record = await eventually('the record', async () => api.facade.caches.deletedServers.byIndex('uid', id)[0]);
    await eventually('the Server gone', async () => !api.facade.caches.servers.byIndex('uid', id).length && !(await kova.client.list<Server>(SERVERS, { namespace: ns })).items.some((s) => s.metadata.uid === id));
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  test('the record: named by the server id, who and what size and when, nothing secret', async () => {
    assert.equal(record.metadata.name, id);
    assert.equal(record.metadata.namespace, ns);
    assert.equal(record.spec.name, 'doomed');
    assert.equal(record.spec.userId, 'alice');
    assert.equal(record.spec.projectId, projectId);
    assert.deepEqual([record.spec.flavor?.vcpus, record.spec.flavor?.ramMiB, record.spec.flavor?.diskGiB], [2, 256, 1]);
    assert.ok(record.spec.launchedAt && record.spec.deletedAt > record.spec.launchedAt);
    const text = JSON.stringify(await kova.client.get(DELETED_SERVERS, id, ns));
    for (const secret of ['TOP-SECRET-USERDATA', Buffer.from('#cloud-config\n# TOP-SECRET-USERDATA\n').toString('base64'), 'Pw-very-secret-42', 'userData', 'adminPassword']) {
      assert.ok(!text.includes(secret), `the record holds ${secret}`);
    }
  });

  test('changes-since lists it as DELETED, to its own project only; a plain list does not', async () => {
    const list = await api.call('GET', `/v2.1/servers?changes-since=${since}`, { token: who.member });
    assert.equal(list.status, 200);
    assert.ok(list.body.servers.some((s: { id: string }) => s.id === id), JSON.stringify(list.body));
    const detail = await api.call('GET', `/v2.1/servers/detail?changes-since=${since}`, { token: who.reader, version: '2.66' });
    const d = detail.body.servers.find((s: { id: string }) => s.id === id);
    assert.equal(d?.status, 'DELETED');
    assert.equal(d['OS-EXT-STS:vm_state'], 'deleted');
    assert.equal(d['OS-EXT-STS:task_state'], null);
    assert.ok(d['OS-SRV-USG:terminated_at']);
    assert.deepEqual(d.addresses, {});
    // changes-before (2.66) brackets it too; a window before the delete does not.
    const before = await api.call('GET', `/v2.1/servers?changes-since=${since}&changes-before=${record.spec.deletedAt}`, { token: who.member, version: '2.66' });
    assert.ok(before.body.servers.some((s: { id: string }) => s.id === id));
    const earlier = await api.call('GET', `/v2.1/servers?changes-since=${naiveNow(3600_000)}`, { token: who.member });
    assert.ok(!earlier.body.servers.some((s: { id: string }) => s.id === id));
    // A deleted server is gone from the plain list and from show.
    assert.ok(!(await api.call('GET', '/v2.1/servers', { token: who.member })).body.servers.some((s: { id: string }) => s.id === id));
    assert.equal((await api.call('GET', `/v2.1/servers/${id}`, { token: who.member })).status, 404);
    // Another project's reader never sees it, by changes-since or by a deleted filter.
    for (const q of [`changes-since=${since}`, 'deleted=true', `changes-since=${since}&deleted=true`]) {
      const theirs = await api.call('GET', `/v2.1/servers/detail?${q}`, { token: who.stranger });
      assert.equal(theirs.status, 200);
      assert.ok(!JSON.stringify(theirs.body).includes(id), `project B sees A's deleted server with ${q}`);
    }
    // deleted=true is an admin's filter: ignored for a member, honoured for an admin.
    assert.ok(!(await api.call('GET', '/v2.1/servers?deleted=true', { token: who.member })).body.servers.some((s: { id: string }) => s.id === id));
    const adminDeleted = await api.call('GET', '/v2.1/servers/detail?all_tenants=1&deleted=true', { token: who.admin });
    assert.equal(adminDeleted.body.servers.find((s: { id: string }) => s.id === id)?.status, 'DELETED');
    assert.ok(adminDeleted.body.servers.every((s: { status: string }) => ['DELETED', 'SOFT_DELETED'].includes(s.status)));
    const byStatus = await api.call('GET', `/v2.1/servers?all_tenants=1&status=DELETED&changes-since=${since}`, { token: who.admin });
    assert.ok(byStatus.body.servers.some((s: { id: string }) => s.id === id));
    assert.equal((await api.call('GET', '/v2.1/servers?status=DELETED', { token: who.member })).status, 403);
    // A deleted server's id is a marker like any other.
    const first = await api.call('GET', `/v2.1/servers?changes-since=${since}&limit=1`, { token: who.member });
    assert.equal(first.body.servers.length, 1);
    assert.equal((await api.call('GET', `/v2.1/servers?changes-since=${since}&marker=${id}`, { token: who.member })).status, 200);
  });

  test('its instance actions are readable from 2.21 (404 before), with the delete on top', async () => {
    assert.equal((await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: who.member, version: '2.20' })).status, 404);
    const list = await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: who.member, version: '2.21' });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    const actions = list.body.instanceActions as { action: string; request_id: string; user_id: string; instance_uuid: string }[];
    assert.deepEqual(actions.map((a) => a.action), ['delete', 'create']);
    assert.equal(actions[0]?.request_id, deleteRequest);
    assert.equal(actions[0]?.user_id, 'alice');
    assert.ok(actions.every((a) => a.instance_uuid === id));
    const one = await api.call('GET', `/v2.1/servers/${id}/os-instance-actions/${deleteRequest}`, { token: who.reader, version: '2.51' });
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.instanceAction.events.map((e: { event: string; result: string }) => [e.event, e.result]), [['compute_terminate_instance', 'Success']]);
    assert.equal((await api.call('GET', `/v2.1/servers/${id}/os-instance-actions/${deleteRequest}`, { token: who.member, version: '2.20' })).status, 404);
    // Another project: 404 at every version, as for any server of theirs.
    for (const v of ['2.1', '2.21', '2.58']) {
      assert.equal((await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: who.stranger, version: v })).status, 404);
      assert.equal((await api.call('GET', `/v2.1/servers/${id}/os-instance-actions/${deleteRequest}`, { token: who.stranger, version: v })).status, 404);
    }
    // An admin reads them too.
    assert.equal((await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: who.admin, version: '2.21' })).status, 200);
  });

  test('usage counts it as terminated, for the hours it ran; only its project and admins see it', async () => {
    const start = naiveNow(-3600_000);
    const shown = await api.call('GET', `/v2.1/os-simple-tenant-usage/${projectId}?start=${start}`, { token: who.reader });
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    const u = shown.body.tenant_usage.server_usages.find((s: { instance_id: string }) => s.instance_id === id);
    assert.ok(u, JSON.stringify(shown.body));
    assert.equal(u.state, 'terminated');
    assert.equal(u.ended_at, record.spec.deletedAt.replace(/Z$/, '.000000'));
    const ran = (Date.parse(record.spec.deletedAt) - Date.parse(record.spec.launchedAt ?? '')) / 3_600_000;
    assert.ok(ran > 0);
    assert.ok(Math.abs(u.hours - ran) < 1e-9, `hours ${u.hours} vs ${ran}`);
    assert.equal(u.uptime, Math.floor(ran * 3600));
    assert.equal(u.vcpus, 2);
    assert.equal(shown.body.tenant_usage.server_usages.length, 1);
    assert.ok(Math.abs(shown.body.tenant_usage.total_vcpus_usage - 2 * ran) < 1e-9);
    assert.ok(Math.abs(shown.body.tenant_usage.total_hours - ran) < 1e-9);
    // A period that ended before it launched, or began after it was deleted, counts nothing of it.
    const later = await api.call('GET', `/v2.1/os-simple-tenant-usage/${projectId}?start=${record.spec.deletedAt.replace(/Z$/, '')}.500000&end=${naiveNow(3600_000)}.000000`, { token: who.reader });
    assert.equal(later.status, 200, JSON.stringify(later.body));
    assert.ok(!JSON.stringify(later.body).includes(id));
    // Another project's member: 403 for A's usage; an admin's list has it.
    assert.equal((await api.call('GET', `/v2.1/os-simple-tenant-usage/${projectId}?start=${start}`, { token: who.stranger })).status, 403);
    const all = await api.call('GET', `/v2.1/os-simple-tenant-usage?detailed=1&start=${start}`, { token: who.admin });
    const mine = all.body.tenant_usages.find((t: { tenant_id: string }) => t.tenant_id === projectId);
    assert.ok(mine.server_usages.some((s: { instance_id: string; state: string }) => s.instance_id === id && s.state === 'terminated'));
  });

  test('usage with deleted servers still matches Nova\'s samples at every microversion folder', async () => {
    const start = naiveNow(-3600_000);
    const problems: string[] = [];
    const files: [string, (v: string, paged: string) => Promise<unknown>][] = [
      ['simple-tenant-usage-get-specific.json.tpl', async (v, p) => (await api.call('GET', `/v2.1/os-simple-tenant-usage/${projectId}?start=${start}${p}`, { token: who.member, version: v })).body],
      ['simple-tenant-usage-get-detail.json.tpl', async (v, p) => (await api.call('GET', `/v2.1/os-simple-tenant-usage?detailed=1&start=${start}${p}`, { token: who.admin, version: v })).body],
      ['simple-tenant-usage-get.json.tpl', async (v, p) => (await api.call('GET', `/v2.1/os-simple-tenant-usage?start=${start}${p}`, { token: who.admin, version: v })).body],
    ];
    let compared = 0;
    for (const [file, run] of files) {
      for (const v of versionsOf('os-simple-tenant-usage', file)) {
        const template = loadTemplate('os-simple-tenant-usage', file, v);
        if (!template) continue;
        // Nova's sample pages by one when it shows a next link: page at the deleted server.
        const paged = JSON.stringify(template.value).includes('_links"') ? `&limit=1` : '';
        const body = await run(v, paged) as Record<string, unknown>;
        if (file.includes('specific')) assert.ok(JSON.stringify(body).includes(id), `${file} @ ${v}: the deleted server is not counted`);
        // Nova's samples show a live server (ended_at null); a terminated one's is its time (Nova's schema: null or a time).
        const mismatches = compareShape(body, template.value, { freeKeys: FREE_KEYS, nullable: NULLABLE, arrayElements: 'any' })
          .filter((m) => !(m.path.endsWith('.ended_at') && /string/.test(m.problem)));
        if (mismatches.length) problems.push(`${file} @ ${v}: ${mismatches.map((m) => `${m.path}: ${m.problem}`).join('; ')}`);
        compared++;
      }
    }
    assert.ok(compared >= 4, `only ${compared} samples compared`);
    assert.deepEqual(problems, []);
  });

  test('a Server deleted through kubectl is recorded too, with a delete by no user', async () => {
    const name = uniq('kubectl');
    const s = await createServer(kova.client, ns, name, { flavor: 'hist.tiny', availabilityZone: zone });
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
    await kova.client.delete(SERVERS, name, ns);
    const r = await eventually('its record', async () => kova.client.find<DeletedServer>(DELETED_SERVERS, s.metadata.uid ?? '', ns));
    assert.equal(r.spec.instanceActions?.[0]?.action, 'delete');
    assert.equal(r.spec.instanceActions?.[0]?.userId, '');
    assert.match(r.spec.instanceActions?.[0]?.requestId ?? '', /^req-[0-9a-f-]{36}$/);
    await eventually('the Server gone', async () => !(await kova.client.find(SERVERS, name, ns)));
  });

  test('records are pruned past the bounds: the oldest beyond the count, any past the age', async () => {
    const p = (await project(kova.client)).namespace;
    const bounds = kova.cfg.deletedServers!;
    const saved = { ...bounds };
    const day = 24 * 3600_000;
    const make = (n: number, agoMs: number) => kova.client.create<DeletedServer>(DELETED_SERVERS, {
      metadata: { name: `00000000-0000-4000-a000-00000000000${n}`, namespace: p },
      spec: { serverId: `00000000-0000-4000-a000-00000000000${n}`, name: `old-${n}`, deletedAt: new Date(Date.now() - agoMs).toISOString().replace(/\.\d+Z$/, 'Z') },
    });
    try {
      bounds.maxPerProject = 3;
      bounds.maxAgeSeconds = 30 * 24 * 3600;
      // Past the age: pruned at once. Then five young ones: the two oldest go.
      await make(0, 31 * day);
      for (let n = 1; n <= 5; n++) await make(n, (6 - n) * day);
      let names: string[] = [];
      const left = await eventually('pruned to three', async () => {
        names = (await kova.client.list<DeletedServer>(DELETED_SERVERS, { namespace: p })).items.map((d) => d.spec.name).sort();
        return names.length === 3 ? names : undefined;
      }).catch((e: Error) => assert.fail(`${e.message}: ${names.join(', ')}`));
      assert.deepEqual(left, ['old-3', 'old-4', 'old-5']);
      // An age bound reached later prunes then: a record younger than the bound when written goes when it passes it.
      bounds.maxAgeSeconds = 3 * 24 * 3600 + 3;
      await make(6, 3 * day);
      await eventually('old-6 pruned once it is past the age', async () => !(await kova.client.find(DELETED_SERVERS, '00000000-0000-4000-a000-000000000006', p)), 15_000);
    } finally {
      Object.assign(bounds, saved);
    }
  });
});
