// Nova's everyday answers that clients other than the openstack CLI meet (issue 10), against the real
// control plane: list filters that must not lie, honest server views and times, removed APIs,
// extensions, the console and network actions Nova still answers, the scheduler and conductor in
// os-services, personality files, diagnostics and simple tenant usage.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { LEASES, SECRETS, type Secret } from '../../src/kube/types.ts';
import { HOLD } from '../../src/sim/injections.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { dropLease, holdLease } from '../support/extras.ts';
import { people } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';
import { ensureFlavor, project, TEST_PUBLIC_KEY, uniq } from '../support/fixtures.ts';

const SCHEDULER = { namespace: 'kube-system', name: 'kube-scheduler' };
const CONDUCTOR = { namespace: 'kova-system', name: 'kova-controller' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('Nova fidelity', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let zone: string;
  let other: string;
  let admin: string;
  let member: string;
  let stranger: string;
  let imageId: string;
  let pid: string;
  /** Two ACTIVE servers: `first` (accessIPv4 set at create) and `second`. */
  let first: string;
  let second: string;

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client));
    ({ namespace: other } = await project(kova.client));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureImage(kova.client, 'kova-images', 'cirros');
    api = await startApi(kova, { passwords: new PasswordUsers() });
    ({ admin, member, stranger } = await people(kova, api, ns, other));
    pid = api.facade.caches.projectIdOf(ns) ?? '';
    imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
    first = await create({ name: 'fid-first', accessIPv4: '192.0.2.10', accessIPv6: '2001:db8::10' });
    second = await create({ name: 'fid-second' });
    for (const id of [first, second]) await active(id);
  });
  after(async () => {
    await dropLease(kova.client, SCHEDULER);
    await dropLease(kova.client, CONDUCTOR);
    await api?.stop();
    await kova?.stop();
  });

  async function create(server: Record<string, unknown>, version = '2.52', token = member): Promise<string> {
    const r = await api.call('POST', '/v2.1/servers', { token, version, body: { server: { flavorRef: '1', imageRef: imageId, availability_zone: zone, ...(Number(version.split('.')[1]) >= 37 ? { networks: 'auto' } : {}), ...server } } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.server.id;
  }
  const show = async (id: string, version = 'latest', token = admin) => (await api.call('GET', `/v2.1/servers/${id}`, { token, version })).body.server;
  const active = (id: string) => eventually(`server ${id} ACTIVE`, async () => (await show(id)).status === 'ACTIVE' && (await show(id))['OS-EXT-STS:task_state'] === null);
  const ids = async (query: string, o: { token?: string; version?: string } = {}): Promise<string[]> => {
    const r = await api.call('GET', `/v2.1/servers?${query}`, { token: o.token ?? admin, version: o.version ?? 'latest' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.servers.map((s: { id: string }) => s.id).filter((id: string) => id === first || id === second).sort();
  };

  describe('list filters', () => {
    test('locked=true|false honours the lock (2.73)', async () => {
      assert.equal((await api.call('POST', `/v2.1/servers/${first}/action`, { token: member, body: { lock: null } })).status, 202);
      assert.deepEqual(await ids('locked=true', { token: member }), [first]);
      assert.deepEqual(await ids('locked=false', { token: member }), [second]);
      const bad = await api.call('GET', '/v2.1/servers?locked=maybe', { token: member, version: '2.73' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.badRequest.message, /^Invalid input received: Unrecognized value 'maybe'/);
      await api.call('POST', `/v2.1/servers/${first}/action`, { token: member, body: { unlock: null } });
      assert.deepEqual(await ids('locked=true', { token: member }), []);
    });

    test('the columns Nova filters on: access_ip_v4, config_drive, created_at, launch_index, root_device_name, display_description', async () => {
      assert.deepEqual(await ids('access_ip_v4=192\\.0\\.2\\.10'), [first]);
      assert.deepEqual(await ids('access_ip_v6=^2001:db8::10$'), [first]);
      assert.deepEqual(await ids('config_drive=True', { token: member }), [first, second].sort());
      assert.deepEqual(await ids('config_drive=^$', { token: member }), [], 'servers with a config drive are not ones without');
      const made = Object.fromEntries((await kova.client.list<Server>(SERVERS, { namespace: ns })).items.map((s) => [s.metadata.uid, (s.metadata.creationTimestamp ?? '').replace('T', ' ').replace('Z', '')]));
      // The second's creation, to the second: exactly the servers made in that second.
      assert.deepEqual(await ids(`created_at=${encodeURIComponent(`^${made[second]}`)}`, { token: member }), [first, second].filter((id) => made[id] === made[second]).sort());
      assert.deepEqual(await ids(`created_at=${encodeURIComponent('^1999-')}`, { token: member }), [], 'none was made in 1999');
      assert.deepEqual(await ids('launch_index=^7$'), []);
      assert.deepEqual(await ids('root_device_name=/dev/vda'), [first, second].sort());
      assert.deepEqual(await ids('root_device_name=sda'), [], 'a KubeVirt guest\'s root is /dev/vda');
      await api.call('PUT', `/v2.1/servers/${second}`, { token: member, version: '2.19', body: { server: { description: 'the second one' } } });
      assert.deepEqual(await ids('display_description=^the second'), [second]);
      assert.deepEqual(await ids('display_description=^the second', { token: member }), [first, second].sort(), 'admins\' filters are dropped for members');
    });

    test('sort_key: one Nova never knew is a 400 (no more 500), host is admins\' only', async () => {
      for (const k of ['__proto__', 'constructor', 'bogus']) {
        const r = await api.call('GET', `/v2.1/servers?sort_key=${k}`, { token: member });
        assert.equal(r.status, 400, k);
        assert.match(r.body.badRequest.message, new RegExp(`^Invalid input for query parameters sort_key\\. Value: ${k}\\.`));
      }
      assert.equal((await api.call('GET', '/v2.1/servers?sort_key=host', { token: member })).status, 403);
      const sorted = await api.call('GET', '/v2.1/servers?sort_key=display_name&sort_dir=asc', { token: member });
      const names = sorted.body.servers.map((s: { name: string }) => s.name);
      assert.deepEqual(names, [...names].sort());
    });

    test('deleted and soft_deleted: a soft-deleted server is listed only when asked for', async () => {
      kova.cfg.reclaimInstanceIntervalSeconds = 3600;
      try {
        const gone = await create({ name: 'fid-soft' });
        await active(gone);
        assert.equal((await api.call('DELETE', `/v2.1/servers/${gone}`, { token: member })).status, 204);
        await eventually('SOFT_DELETED', async () => (await show(gone)).status === 'SOFT_DELETED');
        const listed = async (q: string) => (await api.call('GET', `/v2.1/servers?${q}`, { token: admin, version: '2.1' })).body.servers.some((s: { id: string }) => s.id === gone);
        assert.equal(await listed(''), false);
        assert.equal(await listed('deleted=true'), true);
        assert.equal(await listed('deleted=false&soft_deleted=true'), true);
        assert.equal(await listed('deleted=true&soft_deleted=false'), false);
        await api.call('POST', `/v2.1/servers/${gone}/action`, { token: member, body: { forceDelete: null } });
      } finally {
        kova.cfg.reclaimInstanceIntervalSeconds = 0;
      }
    });
  });

  describe('server view', () => {
    test('accessIPv4/v6 as set (create, update), a reservation id, host_status as Nova works it out (2.16)', async () => {
      const s = await show(first, '2.16');
      assert.equal(s.accessIPv4, '192.0.2.10');
      assert.equal(s.accessIPv6, '2001:db8::10');
      assert.match(s['OS-EXT-SRV-ATTR:reservation_id'], /^r-[0-9a-z]{8}$/);
      assert.equal(s.host_status, 'UP');
      assert.equal(s.config_drive, 'True');
      assert.equal('host_status' in (await show(first, '2.16', member)), false, 'admins only');
      const updated = await api.call('PUT', `/v2.1/servers/${first}`, { token: member, body: { server: { accessIPv4: '192.0.2.11' } } });
      assert.equal(updated.body.server.accessIPv4, '192.0.2.11');
    });

    test('updated moves with each change; created does not', async () => {
      const before = await show(second);
      await new Promise((r) => setTimeout(r, 1100));
      await api.call('PUT', `/v2.1/servers/${second}`, { token: member, body: { server: { name: 'fid-second' } } });
      await api.call('PUT', `/v2.1/servers/${second}/metadata/touched`, { token: member, body: { meta: { touched: 'yes' } } });
      const after = await show(second);
      assert.equal(after.created, before.created);
      assert.ok(after.updated > before.updated, `${after.updated} after ${before.updated}`);
    });

    test('the admin view\'s values: launch_index within a multi-create, root_device_name, kernel_id/ramdisk_id, user_data (2.3), OS-DCF:diskConfig', async () => {
      const r = await api.call('POST', '/v2.1/servers', { token: member, version: '2.52', body: { server: { name: 'fid-multi', flavorRef: '1', imageRef: imageId, availability_zone: zone, networks: 'auto', min_count: 2, max_count: 2, return_reservation_id: true, user_data: b64('#!/bin/sh\necho multi\n'), 'OS-DCF:diskConfig': 'MANUAL' } } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const detail = async (version: string, token = admin) => {
        const l = await api.call('GET', `/v2.1/servers/detail?reservation_id=${r.body.reservation_id}`, { token, version });
        return [...l.body.servers].sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name));
      };
      const made = await eventually('both servers listed', async () => {
        const l = await detail('2.3');
        return l.length === 2 ? l : undefined;
      });
      try {
        assert.deepEqual(made.map((x) => [x.name, x['OS-EXT-SRV-ATTR:launch_index']]), [['fid-multi-1', 0], ['fid-multi-2', 1]]);
        for (const x of made) {
          assert.equal(x['OS-EXT-SRV-ATTR:root_device_name'], '/dev/vda');
          assert.equal(x['OS-EXT-SRV-ATTR:kernel_id'], '', 'no separate kernel: Nova\'s empty value');
          assert.equal(x['OS-EXT-SRV-ATTR:ramdisk_id'], '');
          assert.equal(x['OS-EXT-SRV-ATTR:user_data'], null, 'never read back from its Secret (README, Differences)');
          assert.equal(x['OS-DCF:diskConfig'], 'AUTO', 'cloud-init grows the root whatever was asked (README, Differences)');
        }
        const [one] = await detail('2.2');
        assert.equal('OS-EXT-SRV-ATTR:launch_index' in one, false, 'from 2.3');
        assert.equal(one['OS-DCF:diskConfig'], 'AUTO');
        const [mine] = await detail('2.3', member);
        assert.equal('OS-EXT-SRV-ATTR:root_device_name' in mine, false, 'admins only');
        assert.equal((await show(made[1].id, 'latest'))['OS-EXT-SRV-ATTR:launch_index'], 1);
      } finally {
        for (const x of made) await api.call('DELETE', `/v2.1/servers/${x.id}`, { token: member });
      }
    });

    test('pinned_availability_zone (2.96) and its update (2.104): unpin, pin only to the current zone', async () => {
      assert.equal((await show(second, '2.96')).pinned_availability_zone, zone);
      const early = await api.call('PUT', `/v2.1/servers/${second}`, { token: member, version: '2.103', body: { server: { pinned_availability_zone: null } } });
      assert.equal(early.status, 400);
      const unpinned = await api.call('PUT', `/v2.1/servers/${second}`, { token: member, version: '2.104', body: { server: { pinned_availability_zone: null } } });
      assert.equal(unpinned.status, 200);
      assert.equal(unpinned.body.server.pinned_availability_zone, null);
      const elsewhere = await api.call('PUT', `/v2.1/servers/${second}`, { token: member, version: '2.104', body: { server: { pinned_availability_zone: 'zone-nowhere' } } });
      assert.equal(elsewhere.status, 409);
      assert.equal(elsewhere.body.conflictingRequest.message, `Server can only be pinned to its current availability zone '${zone}', but 'zone-nowhere' was requested.`);
      const pinned = await api.call('PUT', `/v2.1/servers/${second}`, { token: member, version: '2.104', body: { server: { pinned_availability_zone: zone } } });
      assert.equal(pinned.body.server.pinned_availability_zone, zone);
    });
  });

  describe('timestamps after a change (Nova\'s naive times)', () => {
    const NAIVE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;
    const recent = (t: string) => Math.abs(Date.now() - Date.parse(`${t}Z`)) < 120_000;
    const tick = () => new Promise((r) => setTimeout(r, 1100));

    test('key pairs: created_at set once, stable; updated_at null (a key pair never changes)', async () => {
      const name = uniq('fid-key');
      assert.equal((await api.call('POST', '/v2.1/os-keypairs', { token: member, version: '2.2', body: { keypair: { name, public_key: TEST_PUBLIC_KEY } } })).status, 201);
      const shown = async () => (await api.call('GET', `/v2.1/os-keypairs/${name}`, { token: member, version: '2.2' })).body.keypair;
      const one = await shown();
      assert.match(one.created_at, NAIVE);
      assert.ok(recent(one.created_at), one.created_at);
      assert.equal(one.updated_at, null);
      await tick();
      assert.deepEqual([(await shown()).created_at, (await shown()).updated_at], [one.created_at, null]);
      await api.call('DELETE', `/v2.1/os-keypairs/${name}`, { token: member, version: '2.2' });
    });

    test('instance actions (2.58): updated_at is the start until the action\'s event finishes, then its finish; migrations: created_at kept, updated_at moves with the status', async () => {
      await ensureFlavor(kova.client, { id: '2', name: 'm1.small', vcpus: 1, ramMiB: 2048, diskGiB: 2 });
      const id = await create({ name: 'fid-times' });
      await active(id);
      const name = (await kova.client.list<Server>(SERVERS, { namespace: ns })).items.find((x) => x.metadata.uid === id)!.metadata.name ?? '';
      try {
        // The stop is held (the simulated node keeps the domain stopping) so its event stays open.
        await kova.client.mergePatch(SERVERS, name, ns, { metadata: { annotations: { [HOLD]: 'stopping' } } });
        assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: member, body: { 'os-stop': null } })).status, 202);
        const stop = async () => {
          const l = await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: admin, version: '2.58' });
          const a = l.body.instanceActions.find((x: { action: string }) => x.action === 'stop');
          return a ? (await api.call('GET', `/v2.1/servers/${id}/os-instance-actions/${a.request_id}`, { token: admin, version: '2.58' })).body.instanceAction : undefined;
        };
        const open = await eventually('the stop recorded, its event open', async () => ((await stop())?.events?.length ? stop() : undefined));
        assert.match(open.updated_at, NAIVE);
        assert.equal(open.updated_at, open.start_time);
        assert.equal(open.events[0].finish_time, null);
        await tick();
        await kova.client.mergePatch(SERVERS, name, ns, { metadata: { annotations: { [HOLD]: null } } });
        const done = await eventually('the stop\'s event finished', async () => {
          const a = await stop();
          return a?.events?.[0]?.finish_time ? a : undefined;
        }, 60_000);
        assert.equal(done.updated_at, done.events[0].finish_time, 'moved to when the event finished');
        assert.ok(done.updated_at > done.start_time, `${done.updated_at} after ${done.start_time}`);
        assert.equal(done.start_time, open.start_time);
        await eventually('SHUTOFF', async () => (await show(id)).status === 'SHUTOFF' && (await show(id))['OS-EXT-STS:task_state'] === null);

        // A resize is a migration record: made at the request, updated at each status.
        assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: member, body: { resize: { flavorRef: '2' } } })).status, 202);
        await eventually('VERIFY_RESIZE', async () => (await show(id)).status === 'VERIFY_RESIZE');
        const record = async () => (await api.call('GET', `/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, version: '2.80' })).body.migrations[0];
        const finished = await record();
        assert.equal(finished.status, 'finished');
        assert.match(finished.created_at, NAIVE);
        assert.match(finished.updated_at, NAIVE);
        assert.ok(recent(finished.created_at) && finished.updated_at >= finished.created_at, `${finished.created_at} / ${finished.updated_at}`);
        await tick();
        assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: member, body: { confirmResize: null } })).status, 204);
        const confirmed = await eventually('the migration confirmed', async () => {
          const m = await record();
          return m.status === 'confirmed' ? m : undefined;
        });
        assert.equal(confirmed.created_at, finished.created_at, 'created_at does not move');
        assert.ok(confirmed.updated_at > finished.updated_at, `${confirmed.updated_at} after ${finished.updated_at}`);
      } finally {
        await api.call('DELETE', `/v2.1/servers/${id}`, { token: member });
      }
    });

    test('os-services: updated_at is the last report, a nova-compute\'s Node heartbeat or a Lease\'s renewal', async () => {
      const computes = async () => (await api.call('GET', '/v2.1/os-services?binary=nova-compute', { token: admin, version: '2.53' })).body.services.filter((x: { zone: string }) => x.zone === zone);
      const [c0] = await computes();
      assert.match(c0.updated_at, NAIVE);
      assert.ok(recent(c0.updated_at), c0.updated_at);
      await eventually('the Node reported again', async () => (await computes())[0].updated_at > c0.updated_at, 30_000);
      const scheduler = async () => (await api.call('GET', '/v2.1/os-services?binary=nova-scheduler', { token: admin, version: '2.53' })).body.services[0];
      await holdLease(kova.client, SCHEDULER, { holder: 'cp-1_abc', renewedMsAgo: 5_000, seenBy: api.facade.caches });
      const before = await scheduler();
      const lease = await kova.client.get<{ metadata: Record<string, unknown>; spec: { renewTime: string } }>(LEASES, SCHEDULER.name, SCHEDULER.namespace);
      assert.equal(before.updated_at, lease.spec.renewTime.replace(/Z$/, ''), 'the renewal, to the microsecond');
      await tick();
      await holdLease(kova.client, SCHEDULER, { holder: 'cp-1_abc', seenBy: api.facade.caches });
      assert.ok((await scheduler()).updated_at > before.updated_at);
    });
  });

  describe('removed APIs and extensions', () => {
    test('removed APIs are 410 Gone at every microversion, with Nova\'s fault', async () => {
      for (const [method, path] of [['GET', '/os-agents'], ['GET', '/os-cells'], ['POST', '/os-certificates'], ['GET', '/os-cloudpipe'], ['GET', '/os-fixed-ips/1'], ['GET', '/os-floating-ip-dns'], ['GET', '/os-floating-ips-bulk'], ['GET', '/os-fping'], ['POST', '/os-networks'], ['DELETE', '/os-tenant-networks/1'], ['GET', '/os-security-group-default-rules'], ['GET', `/servers/${first}/consoles`], ['GET', `/servers/${first}/os-virtual-interfaces`]]) {
        for (const version of ['2.1', 'latest']) {
          const r = await api.call(method!, `/v2.1${path}`, { token: admin, version });
          assert.equal(r.status, 410, `${method} ${path} @ ${version}`);
          assert.deepEqual(r.body, { computeFault: { code: 410, message: 'This resource is no longer available.  No forwarding address is given.' } });
        }
      }
      const associate = await api.call('POST', '/v2.1/os-networks/1/action', { token: admin, body: { associate_host: 'h' } });
      assert.equal(associate.status, 410);
    });

    test('the proxy APIs are 404 from 2.36', async () => {
      for (const path of ['/os-networks', '/os-floating-ips', '/os-security-groups', '/os-volumes', '/images']) assert.equal((await api.call('GET', `/v2.1${path}`, { token: admin, version: '2.36' })).status, 404, path);
    });

    test('/extensions lists Nova\'s legacy extensions; /extensions/{alias} shows one', async () => {
      const list = await api.call('GET', '/v2.1/extensions', { token: member });
      const aliases = list.body.extensions.map((e: { alias: string }) => e.alias);
      assert.ok(aliases.includes('os-admin-actions') && aliases.includes('OS-SCH-HNT'));
      assert.equal(aliases.length, 99);
      const one = await api.call('GET', '/v2.1/extensions/OS-SCH-HNT', { token: member });
      assert.deepEqual(one.body.extension, { alias: 'OS-SCH-HNT', description: 'Pass arbitrary key/value pairs to the scheduler.', links: [], name: 'SchedulerHints', namespace: 'http://docs.openstack.org/compute/ext/fake_xml', updated: '2014-12-03T00:00:00Z' });
      assert.equal((await api.call('GET', '/v2.1/extensions/os-nothing', { token: member })).status, 404);
      const legacy = await api.call('GET', '/v2/extensions', { token: member });
      assert.ok(legacy.body.extensions.some((e: { alias: string }) => e.alias === 'OS-EXT-VIF-NET'));
    });
  });

  describe('actions Nova still answers', () => {
    const act = (body: unknown, version = '2.1', token = member) => api.call('POST', `/v2.1/servers/${second}/action`, { token, version, body });

    test('SPICE and serial consoles are unavailable (≤ 2.5), RDP is removed, and from 2.6 they are gone', async () => {
      const spice = await act({ 'os-getSPICEConsole': { type: 'spice-html5' } });
      assert.deepEqual([spice.status, spice.body.badRequest?.message], [400, 'Unavailable console type spice-html5.']);
      const serial = await act({ 'os-getSerialConsole': { type: 'serial' } });
      assert.deepEqual([serial.status, serial.body.badRequest?.message], [400, 'Unavailable console type serial.']);
      const rdp = await act({ 'os-getRDPConsole': { type: 'rdp-html5' } });
      assert.deepEqual([rdp.status, rdp.body.badRequest?.message], [400, 'The server could not comply with the request since it is either malformed or otherwise incorrect.']);
      assert.equal((await act({ 'os-getSerialConsole': { type: 'serial' } }, '2.6')).status, 404);
      const badType = await act({ 'os-getSPICEConsole': { type: 'novnc' } });
      assert.equal(badType.status, 400);
    });

    test('resetNetwork is 410; injectNetworkInfo is admins\' and accepted', async () => {
      assert.equal((await act({ resetNetwork: null })).status, 410);
      const denied = await act({ injectNetworkInfo: null });
      assert.deepEqual([denied.status, denied.body.forbidden?.message], [403, "Policy doesn't allow os_compute_api:os-admin-actions:inject_network_info to be performed."]);
      assert.equal((await act({ injectNetworkInfo: null }, '2.1', admin)).status, 202);
    });
  });

  describe('os-services: the scheduler and the conductor', () => {
    test('listed from their Leases (up while renewed), filtered by binary, not changed', async () => {
      await holdLease(kova.client, SCHEDULER, { holder: 'cp-1_abc', seenBy: api.facade.caches });
      await holdLease(kova.client, CONDUCTOR, { holder: 'kova-0_123', renewedMsAgo: 60_000, durationSeconds: 15, seenBy: api.facade.caches });
      const all = await api.call('GET', '/v2.1/os-services', { token: admin, version: '2.53' });
      const byBinary = Object.fromEntries(all.body.services.map((s: { binary: string }) => [s.binary, s]));
      assert.deepEqual([byBinary['nova-scheduler'].host, byBinary['nova-scheduler'].state, byBinary['nova-scheduler'].zone, byBinary['nova-scheduler'].status], ['cp-1', 'up', 'internal', 'enabled']);
      assert.deepEqual([byBinary['nova-conductor'].host, byBinary['nova-conductor'].state], ['kova-0', 'down']);
      const schedulers = await api.call('GET', '/v2.1/os-services?binary=nova-scheduler', { token: admin });
      assert.deepEqual(schedulers.body.services.map((s: { binary: string }) => s.binary), ['nova-scheduler']);
      assert.equal(typeof schedulers.body.services[0].id, 'number', 'an integer id before 2.53');
      const change = await api.call('PUT', `/v2.1/os-services/${byBinary['nova-scheduler'].id}`, { token: admin, version: '2.53', body: { status: 'disabled' } });
      assert.deepEqual([change.status, change.body.badRequest?.message], [400, 'Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.']);
      const zones = await api.call('GET', '/v2.1/os-availability-zone/detail', { token: admin });
      const internal = zones.body.availabilityZoneInfo.find((z: { zoneName: string }) => z.zoneName === 'internal');
      assert.equal(internal.hosts['cp-1']['nova-scheduler'].available, true);
      const list = await api.call('GET', '/v2.1/os-availability-zone', { token: member });
      assert.equal(list.body.availabilityZoneInfo.some((z: { zoneName: string }) => z.zoneName === 'internal'), false);
    });
  });

  describe('personality (≤ 2.56)', () => {
    const secretOf = async (id: string): Promise<string> => {
      const s = (await kova.client.list<Server>(SERVERS, { namespace: ns })).items.find((x) => x.metadata.uid === id)!;
      const secret = await kova.client.get<Secret>(SECRETS, s.spec.userData?.secretName ?? '', ns);
      return Buffer.from(secret.data?.userdata ?? '', 'base64').toString('utf8');
    };

    let withUserData = '';
    test('the files reach the guest\'s user data as cloud-init write_files, after the user\'s own', async () => {
      const id = withUserData = await create({ name: uniq('fid-pers'), user_data: b64('#!/bin/sh\necho hello\n'), personality: [{ path: '/etc/motd', contents: b64('welcome') }] }, '2.56');
      const doc = await secretOf(id);
      assert.match(doc, /^Content-Type: multipart\/mixed; boundary=/);
      const boundary = /boundary="([^"]+)"/.exec(doc)?.[1] ?? '';
      const texts = doc.split(`--${boundary}`).slice(1, -1).map((part) => Buffer.from(part.slice(part.indexOf('\n\n') + 2).replace(/\n/g, ''), 'base64').toString());
      assert.equal(texts[0], '#!/bin/sh\necho hello\n');
      assert.match(texts[1] ?? '', /write_files:\n- path: "\/etc\/motd"\n {2}encoding: b64\n {2}content: d2VsY29tZQ==/);
      await active(id);
    });

    test('Nova\'s limits (403) and, from 2.57, no personality (400)', async () => {
      const files = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `/f${i}`, contents: b64('x') }));
      const tooMany = await api.call('POST', '/v2.1/servers', { token: member, version: '2.56', body: { server: { name: 'p', flavorRef: '1', imageRef: imageId, networks: 'auto', personality: files(6) } } });
      assert.deepEqual([tooMany.status, tooMany.body.forbidden?.message], [403, 'Personality file limit exceeded']);
      const longPath = await api.call('POST', '/v2.1/servers', { token: member, version: '2.56', body: { server: { name: 'p', flavorRef: '1', imageRef: imageId, networks: 'auto', personality: [{ path: `/${'a'.repeat(255)}`, contents: b64('x') }] } } });
      assert.deepEqual([longPath.status, longPath.body.forbidden?.message], [403, 'Personality file path exceeds maximum 255']);
      const gone = await api.call('POST', '/v2.1/servers', { token: member, version: '2.57', body: { server: { name: 'p', flavorRef: '1', imageRef: imageId, networks: 'auto', personality: files(1) } } });
      assert.deepEqual([gone.status, gone.body.badRequest?.message], [400, "Additional properties are not allowed ('personality' was unexpected)"]);
    });

    test('a project\'s own injected_files and injected_file_content_bytes quotas (403 over them)', async () => {
      const quota = (q: Record<string, number>) => api.call('PUT', `/v2.1/os-quota-sets/${pid}`, { token: admin, version: '2.56', body: { quota_set: q } });
      const files = (n: number, contents = b64('x')) => Array.from({ length: n }, (_, i) => ({ path: `/f${i}`, contents }));
      const boot = (personality: unknown) => api.call('POST', '/v2.1/servers', { token: member, version: '2.56', body: { server: { name: 'pq', flavorRef: '1', imageRef: imageId, networks: 'auto', availability_zone: zone, personality } } });
      assert.equal((await quota({ injected_files: 2, injected_file_content_bytes: 16 })).status, 200);
      try {
        await eventually('the API enforces the project\'s QuotaSet', async () => (await api.call('GET', `/v2.1/os-quota-sets/${pid}`, { token: admin, version: '2.56' })).body.quota_set.injected_files === 2);
        const tooMany = await boot(files(3));
        assert.deepEqual([tooMany.status, tooMany.body], [403, { forbidden: { code: 403, message: 'Personality file limit exceeded' } }]);
        const tooBig = await boot(files(1, b64('seventeen bytes!!')));
        assert.deepEqual([tooBig.status, tooBig.body], [403, { forbidden: { code: 403, message: 'Personality file content exceeds maximum 16' } }]);
        const fits = await boot(files(2, b64('0123456789a')));
        assert.equal(fits.status, 202, 'within both: accepted');
        await api.call('DELETE', `/v2.1/servers/${fits.body.server.id}`, { token: member });
      } finally {
        await quota({ injected_files: 5, injected_file_content_bytes: 10240 });
      }
    });

    test('at rebuild the files join the user data the server keeps (none: they are its user data)', async () => {
      const r = await api.call('POST', `/v2.1/servers/${second}/action`, { token: member, version: '2.56', body: { rebuild: { imageRef: imageId, personality: [{ path: '/etc/issue', contents: b64('rebuilt') }] } } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      assert.match(await secretOf(second), /^#cloud-config\n[\s\S]*path: "\/etc\/issue"/);
      const kept = await api.call('POST', `/v2.1/servers/${withUserData}/action`, { token: member, version: '2.56', body: { rebuild: { imageRef: imageId, personality: [{ path: '/etc/issue', contents: b64('rebuilt') }] } } });
      assert.equal(kept.status, 202, JSON.stringify(kept.body));
      const doc = await secretOf(withUserData);
      const outer = /boundary="([^"]+)"/.exec(doc)?.[1] ?? '';
      const [kept0, files] = doc.split(`--${outer}`).slice(1, -1);
      assert.ok(kept0?.includes(b64('#!/bin/sh\necho hello\n')), 'the user data made at create, nested as it was');
      assert.match(Buffer.from((files ?? '').slice((files ?? '').indexOf('\n\n') + 2).replace(/\n/g, ''), 'base64').toString(), /path: "\/etc\/issue"/);
      await active(second);
      await active(withUserData);
    });
  });

  describe('diagnostics and usage', () => {
    test('diagnostics (admins): the VMI as Nova\'s 2.48 form, the driver\'s dictionary before', async () => {
      const d = await eventually('diagnostics', async () => {
        const r = await api.call('GET', `/v2.1/servers/${first}/diagnostics`, { token: admin, version: '2.48' });
        return r.status === 200 ? r.body : undefined;
      });
      assert.deepEqual([d.state, d.driver, d.hypervisor, d.config_drive, d.num_cpus, d.num_nics], ['running', 'libvirt', 'kvm', true, 1, 1]);
      assert.equal(d.memory_details.maximum, 512);
      assert.match(d.nic_details[0].mac_address, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      assert.ok(d.num_disks >= 2);
      assert.ok(Number.isInteger(d.uptime));
      assert.deepEqual((await api.call('GET', `/v2.1/servers/${first}/diagnostics`, { token: admin, version: '2.47' })).body, { memory: 512 * 1024 });
      const denied = await api.call('GET', `/v2.1/servers/${first}/diagnostics`, { token: member });
      assert.deepEqual([denied.status, denied.body.forbidden?.message], [403, "Policy doesn't allow os_compute_api:os-server-diagnostics to be performed."]);
    });

    test('simple tenant usage: every project (admins), one\'s own (readers), paging from 2.40', async () => {
      const start = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, '');
      const all = await api.call('GET', `/v2.1/os-simple-tenant-usage?detailed=1&start=${start}`, { token: admin });
      assert.equal(all.status, 200);
      const ours = all.body.tenant_usages.find((t: { tenant_id: string }) => t.tenant_id === pid);
      assert.ok(ours.server_usages.some((u: { instance_id: string; state: string; flavor: string }) => u.instance_id === first && u.state === 'active' && u.flavor === 'm1.tiny'));
      assert.ok(ours.total_hours > 0 && ours.total_memory_mb_usage > 0);
      const own = await api.call('GET', `/v2.1/os-simple-tenant-usage/${pid}?start=${start}`, { token: member });
      assert.equal(own.body.tenant_usage.tenant_id, pid);
      assert.equal((await api.call('GET', `/v2.1/os-simple-tenant-usage/${pid}`, { token: stranger })).status, 403);
      assert.equal((await api.call('GET', '/v2.1/os-simple-tenant-usage', { token: member })).status, 403);
      const paged = await api.call('GET', `/v2.1/os-simple-tenant-usage/${pid}?start=${start}&limit=1`, { token: member, version: '2.40' });
      assert.equal(paged.body.tenant_usage.server_usages.length, 1);
      assert.match(paged.body.tenant_usage_links[0].href, /\/os-simple-tenant-usage\/[0-9a-f-]+\?limit=1&marker=[0-9a-f-]+&start=/);
      const bad = await api.call('GET', '/v2.1/os-simple-tenant-usage?start=yesterday', { token: admin });
      assert.deepEqual([bad.status, bad.body.badRequest?.message], [400, 'Invalid datetime string: Datetime is in invalid format']);
    });
  });
});
