// Nova's server-action samples against Kova: every request template (at every microversion where it
// changes) is sent, filled in, to a server in a state where Nova allows it, and must be accepted and
// carried out; the responses with a template must have its keys and value types. Prints the table.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { NODES } from '../../src/kube/types.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { compareShape, fillTemplate, formatTable, loadTemplate, versionsOf, type CompareOptions, type ResultRow, type Wildcard } from '../conformance/samples.ts';
import { FREE_KEYS, NULLABLE } from '../conformance/differences.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { grant } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';
import { vmDiagnostics } from '../support/diagnostics.ts';
import { ensureFlavor, project, TEST_PUBLIC_KEY, uniq } from '../support/fixtures.ts';

/** What Kova answers differently, on purpose (README, "Differences from Nova"). */
const DIFFERENCES: { endpoint: RegExp; path: string; why: string }[] = [];
const OPTIONS: CompareOptions = { freeKeys: FREE_KEYS, nullable: [...NULLABLE, '$.server.OS-EXT-SRV-ATTR:host', '$.server.OS-EXT-SRV-ATTR:hypervisor_hostname', '$.server.OS-EXT-AZ:availability_zone', '$.server.description', '$.server.key_name', '$.server.locked_reason', '$.server.OS-EXT-SRV-ATTR:hostname', '$.server.trusted_image_certificates', '$.migrations[*].dest_compute', '$.migrations[*].dest_host', '$.migrations[*].dest_node', '$.migration.dest_compute', '$.migration.dest_host', '$.migration.dest_node', '$.server.user_data'], arrayElements: 'any' };

describe('conformance with Nova\'s server-action samples', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let zone: string;
  let admin: string;
  let member: string;
  let imageId: string;
  let id: string;
  const nodes = [uniq('node'), uniq('node'), uniq('node')];
  const rows: ResultRow[] = [];
  const failures: string[] = [];

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client, { nodes: nodes.map((name) => ({ name })) }));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureFlavor(kova.client, { id: '2', name: 'm1.small', vcpus: 1, ramMiB: 2048, diskGiB: 2 });
    await ensureImage(kova.client, 'kova-images', 'cirros', 'cirros-0.6.3');
    api = await startApi(kova, { passwords: new PasswordUsers() });
    await grant(kova.client, 'root', 'kova-admin');
    await eventually('façade caches', async () => !!api.facade.caches.projectByIdOrName(ns));
    admin = api.token('root', ns);
    await grant(kova.client, 'alice', 'kova-member', ns);
    member = api.token('alice', ns);
    assert.equal((await api.call('POST', '/v2.1/os-keypairs', { token: member, version: '2.2', body: { keypair: { name: 'conf-key', public_key: TEST_PUBLIC_KEY } } })).status, 201);
    imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
    const r = await api.call('POST', '/v2.1/servers', { token: admin, version: '2.37', body: { server: { name: 'actions', flavorRef: '1', imageRef: imageId, networks: 'auto', availability_zone: zone } } });
    id = r.body.server.id;
    await settled('ACTIVE');
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  const server = (): Server => api.facade.caches.servers.byIndex('uid', id)[0]!;
  const show = async () => (await api.call('GET', `/v2.1/servers/${id}`, { token: admin, version: '2.84' })).body.server;
  let last = '';
  const settled = (want: string) => eventually(`server ${want}`, async () => {
    const s = await show();
    last = `${s.status}/${s['OS-EXT-STS:task_state']}/${s.locked}`;
    return s.status === want && s['OS-EXT-STS:task_state'] === null ? s : undefined;
  }, 90_000).catch(async (e: Error) => {
    const kv = await vmDiagnostics(kova.client, ns, server().metadata.name ?? '');
    throw new Error(`${e.message} (last seen ${last}; power ${server().spec.powerState}; fault ${JSON.stringify(server().status?.fault)}; ${JSON.stringify(server().status?.instanceActions?.slice(0, 3).map((a) => a.action))})\n${kv}`);
  });
  const values = async (): Promise<Record<string, unknown>> => {
    const here = (await show())['OS-EXT-SRV-ATTR:host'];
    const there = nodes.find((n) => n !== here)!;
    return {
      uuid: imageId, id: server().status?.flavor?.id === '1' ? '2' : '1', name: 'conformance', pass: 'x', adminPass: 'x', password: 'x', preserve_ephemeral: false,
      hostname: there, host: there, availability_zone: zone, access_ip_v4: '1.2.3.4', access_ip_v6: '80fe::', onSharedStorage: 'False', int: 1, type: 'HARD', disk_config: 'AUTO', key_name: 'conf-key', force: 'False',
    };
  };
  /** Fills a request template; `%(action)s` keys become `action`; Nova's fixed example image id becomes a real one. */
  const body = async (area: string, file: string, v: string, action?: string): Promise<unknown> => {
    const t = loadTemplate(area, file, v);
    assert.ok(t, `${area}/${file}@${v}`);
    const vals = await values();
    const filled = fillTemplate(t.value, (w: Wildcard) => (w.names.length === 1 && w.kind === 'scalar' ? vals[w.names[0]!] : w.names.map((n) => String(vals[n] ?? n)).join('')));
    const text = JSON.stringify(filled).replaceAll('%(action)s', action ?? '').replaceAll('70a599e0-31e7-49b7-b260-868f441e862b', imageId);
    return JSON.parse(text);
  };
  /** Sends one request template at each of its versions; `prepare` puts the server in a state that allows it, `after` waits for the result. */
  const each = async (area: string, file: string, o: { token?: (v: string) => string; action?: string; prepare?: () => Promise<void>; status?: number; after?: () => Promise<void>; resp?: [string, string, string?] }) => {
    for (const v of versionsOf(area, file)) {
      await o.prepare?.();
      const endpoint = `${area}/${file.replace(/\.json\.tpl$/, '')}`;
      const r = await api.call('POST', `/v2.1/servers/${id}/action`, { token: o.token?.(v) ?? admin, version: v, body: await body(area, file, v, o.action) });
      if (r.status !== (o.status ?? 202)) {
        rows.push({ endpoint, version: v, result: 'mismatch', detail: `${r.status}` });
        failures.push(`${endpoint} @ ${v}: ${r.status} ${JSON.stringify(r.body)}`);
        continue;
      }
      if (o.resp && (!o.resp[2] || Number(v.split('.')[1]) <= Number(o.resp[2].split('.')[1]))) {
        const t = loadTemplate(o.resp[0], o.resp[1], v);
        const respEndpoint = `${o.resp[0]}/${o.resp[1].replace(/\.json\.tpl$/, '')}`;
        if (t) {
          const mismatches = compareShape(r.body, t.value, OPTIONS).filter((m) => !DIFFERENCES.some((d) => d.endpoint.test(respEndpoint) && m.path.startsWith(d.path)));
          if (mismatches.length) failures.push(`${respEndpoint} @ ${v}: ${mismatches.map((m) => `${m.path}: ${m.problem}`).join('; ')}`);
          rows.push({ endpoint: respEndpoint, version: v, result: mismatches.length ? 'mismatch' : 'match' });
        }
      }
      rows.push({ endpoint, version: v, result: 'match' });
      await o.after?.();
    }
  };
  const to = async (action: unknown, want: string, token = admin, version = '2.91') => {
    const r = await api.call('POST', `/v2.1/servers/${id}/action`, { token, version, body: action });
    assert.ok(r.status < 300, `${JSON.stringify(action)} → ${r.status} ${JSON.stringify(r.body)}`);
    await settled(want);
  };

  test('every server-action request template is accepted and carried out; the responses match', async () => {
    await each('servers', 'server-action-stop.json.tpl', { action: 'os-stop', after: () => settled('SHUTOFF').then(() => undefined) });
    await each('servers', 'server-action-start.json.tpl', { action: 'os-start', prepare: async () => { if ((await show()).status !== 'SHUTOFF') await to({ 'os-stop': null }, 'SHUTOFF'); }, after: () => settled('ACTIVE').then(() => undefined) });
    await each('servers', 'server-action-reboot.json.tpl', { after: () => settled('ACTIVE').then(() => undefined) });
    await each('os-pause-server', 'pause-server.json.tpl', { after: () => settled('PAUSED').then(() => undefined) });
    await each('os-pause-server', 'unpause-server.json.tpl', { after: () => settled('ACTIVE').then(() => undefined) });
    await each('os-suspend-server', 'server-suspend.json.tpl', { after: () => settled('SUSPENDED').then(() => undefined) });
    await each('os-suspend-server', 'server-resume.json.tpl', { after: () => settled('ACTIVE').then(() => undefined) });
    for (const f of ['lock-server.json.tpl', 'lock-server-with-reason.json.tpl']) {
      await each('os-lock-server', f, { after: () => to({ unlock: null }, 'ACTIVE') });
    }
    await each('os-lock-server', 'unlock-server.json.tpl', { prepare: () => to({ lock: null }, 'ACTIVE') });
    await each('servers', 'server-action-resize.json.tpl', { after: () => settled('VERIFY_RESIZE').then(() => to({ confirmResize: null }, 'ACTIVE')) });
    await each('servers', 'server-action-confirm-resize.json.tpl', { status: 204, prepare: async () => to({ resize: { flavorRef: (await values()).id } }, 'VERIFY_RESIZE'), after: () => settled('ACTIVE').then(() => undefined) });
    await each('servers', 'server-action-revert-resize.json.tpl', { prepare: async () => to({ resize: { flavorRef: (await values()).id } }, 'VERIFY_RESIZE'), after: () => settled('ACTIVE').then(() => undefined) });
    // Nova's rebuild samples were made by the server's owner (no admin-only fields).
    const roleFor = (area: string, file: string) => (v: string) => (JSON.stringify(loadTemplate(area, file, v)?.value ?? {}).includes('OS-EXT-SRV-ATTR:host"') ? admin : member);
    await each('servers', 'server-action-rebuild.json.tpl', { token: roleFor('servers', 'server-action-rebuild-resp.json.tpl'), resp: ['servers', 'server-action-rebuild-resp.json.tpl'], after: () => settled('ACTIVE').then(() => undefined) });
    await each('os-preserve-ephemeral-rebuild', 'server-action-rebuild-preserve-ephemeral.json.tpl', { token: roleFor('os-preserve-ephemeral-rebuild', 'server-action-rebuild-preserve-ephemeral-resp.json.tpl'), resp: ['os-preserve-ephemeral-rebuild', 'server-action-rebuild-preserve-ephemeral-resp.json.tpl'], after: () => settled('ACTIVE').then(() => undefined) });
    await each('os-admin-password', 'admin-password-change-password.json.tpl', { token: () => member, after: () => settled('ACTIVE').then(() => undefined) });
    await each('servers', 'server-action-create-image.json.tpl', { resp: ['servers', 'server-action-create-image-resp.json.tpl'], after: () => settled('ACTIVE').then(() => undefined) });
    await each('os-create-backup', 'create-backup-req.json.tpl', { resp: ['os-create-backup', 'create-backup-resp.json.tpl'], after: () => settled('ACTIVE').then(() => undefined) });
    await each('os-rescue', 'server-rescue-req.json.tpl', { status: 200, resp: ['os-rescue', 'server-rescue.json.tpl'], after: () => settled('RESCUE').then(() => to({ unrescue: null }, 'ACTIVE')) });
    await each('os-rescue', 'server-rescue-req-with-image-ref.json.tpl', { status: 200, resp: ['os-rescue', 'server-rescue.json.tpl'], after: () => settled('RESCUE').then(() => to({ unrescue: null }, 'ACTIVE')) });
    await each('os-rescue', 'server-unrescue-req.json.tpl', { prepare: () => to({ rescue: null }, 'RESCUE'), after: () => settled('ACTIVE').then(() => undefined) });
    await each('os-migrate-server', 'migrate-server.json.tpl', { after: () => settled('VERIFY_RESIZE').then(() => to({ confirmResize: null }, 'ACTIVE')) });
    await each('os-migrate-server', 'migrate-server-null.json.tpl', { after: () => settled('VERIFY_RESIZE').then(() => to({ confirmResize: null }, 'ACTIVE')) });
    await each('os-migrate-server', 'live-migrate-server.json.tpl', { after: () => settled('ACTIVE').then(() => undefined) });
    await each('server-migrations', 'live-migrate-server.json.tpl', { after: () => settled('ACTIVE').then(() => undefined) });
    await each('os-admin-actions', 'admin-actions-reset-server-state.json.tpl', { prepare: () => to({ 'os-resetState': { state: 'error' } }, 'ERROR'), after: () => settled('ACTIVE').then(() => undefined) });
    // Shelve: with offloading held back so shelveOffload has a SHELVED server to act on.
    kova.cfg.shelvedOffloadTimeSeconds = -1;
    try {
      await each('os-shelve', 'os-shelve.json.tpl', { action: 'shelve', after: () => settled('SHELVED').then(() => to({ unshelve: null }, 'ACTIVE')) });
      await each('os-shelve', 'os-shelve-offload.json.tpl', { action: 'shelveOffload', prepare: () => to({ shelve: null }, 'SHELVED'), after: () => settled('SHELVED_OFFLOADED').then(() => to({ unshelve: null }, 'ACTIVE')) });
      await each('os-shelve', 'os-unshelve.json.tpl', { action: 'unshelve', prepare: () => to({ shelve: null }, 'SHELVED'), after: () => settled('ACTIVE').then(() => undefined) });
      const offloaded = async () => {
        await to({ shelve: null }, 'SHELVED');
        await to({ shelveOffload: null }, 'SHELVED_OFFLOADED');
      };
      for (const f of ['os-unshelve-az.json.tpl', 'os-unshelve-host.json.tpl', 'os-unshelve-az-host.json.tpl', 'os-unshelve-unpin-az.json.tpl', 'os-unshelve-host-and-unpin-az.json.tpl']) {
        await each('os-shelve', f, { action: 'unshelve', prepare: offloaded, after: () => settled('ACTIVE').then(() => undefined) });
      }
    } finally {
      kova.cfg.shelvedOffloadTimeSeconds = 0;
    }
    // Evacuate: the server's host forced down first.
    for (const f of ['server-evacuate-req.json.tpl', 'server-evacuate-find-host-req.json.tpl']) {
      let down = '';
      await each('os-evacuate', f, {
        status: 200,
        resp: ['os-evacuate', f.replace('-req', '-resp'), '2.13'], // from 2.14 the answer has no body
        prepare: async () => {
          down = (await show())['OS-EXT-SRV-ATTR:host'];
          await kova.client.mergePatch(NODES, down, undefined, { spec: { taints: [{ key: 'compute.kova.io/forced-down', value: 'true', effect: 'NoSchedule' }] } });
          await eventually('host down in the cache', async () => api.facade.caches.nodes.get(down)?.spec?.taints?.length);
        },
        after: async () => {
          const moved = await settled('ACTIVE');
          assert.notEqual(moved['OS-EXT-SRV-ATTR:host'], down, 'evacuated to another host');
          await kova.client.mergePatch(NODES, down, undefined, { spec: { taints: null } });
          await eventually('host up in the cache', async () => !api.facade.caches.nodes.get(down)?.spec?.taints?.length);
        },
      });
    }
    // Soft delete: restore and forceDelete with a reclaim interval.
    kova.cfg.reclaimInstanceIntervalSeconds = 3600;
    try {
      await each('os-deferred-delete', 'restore-post-req.json.tpl', {
        prepare: async () => {
          assert.equal((await api.call('DELETE', `/v2.1/servers/${id}`, { token: admin })).status, 204);
          await settled('SOFT_DELETED');
        },
        after: () => settled('ACTIVE').then(() => undefined),
      });
    } finally {
      kova.cfg.reclaimInstanceIntervalSeconds = 0;
    }
    process.stdout.write(`\n${formatTable(rows)}\n`);
    assert.deepEqual(failures, []);
    assert.ok(rows.filter((r) => r.result === 'match').length > 50, `${rows.length} rows`);
  });

  test('live migrations in progress and the migration records match Nova\'s samples', async () => {
    const name = server().metadata.name ?? '';
    await kova.client.mergePatch(SERVERS, name, ns, { metadata: { annotations: { 'sim.kova.io/hold': 'migrating' } } });
    try {
      assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: admin, version: '2.68', body: { 'os-migrateLive': { host: null, block_migration: 'auto' } } })).status, 202);
      // Running, not only recorded: force_complete is refused while it is queued or preparing.
      const running = await eventually('migration running', async () => {
        const m = (await api.call('GET', `/v2.1/servers/${id}/migrations`, { token: admin, version: '2.80' })).body.migrations?.[0];
        return m?.status === 'running' ? m : undefined;
      });
      const check = (area: string, file: string, v: string, actual: unknown) => {
        const t = loadTemplate(area, file, v);
        if (!t) return;
        const mismatches = compareShape(actual, t.value, OPTIONS);
        rows.push({ endpoint: `${area}/${file}`, version: v, result: mismatches.length ? 'mismatch' : 'match' });
        if (mismatches.length) failures.push(`${area}/${file} @ ${v}: ${mismatches.map((m) => `${m.path}: ${m.problem}`).join('; ')} — ${JSON.stringify(actual).slice(0, 300)}`);
      };
      for (const v of versionsOf('server-migrations', 'migrations-index.json.tpl')) check('server-migrations', 'migrations-index.json.tpl', v, (await api.call('GET', `/v2.1/servers/${id}/migrations`, { token: admin, version: v })).body);
      for (const v of versionsOf('server-migrations', 'migrations-get.json.tpl')) check('server-migrations', 'migrations-get.json.tpl', v, (await api.call('GET', `/v2.1/servers/${id}/migrations/${running.id}`, { token: admin, version: v })).body);
      for (const v of versionsOf('os-migrations', 'migrations-get.json.tpl')) check('os-migrations', 'migrations-get.json.tpl', v, (await api.call('GET', `/v2.1/os-migrations`, { token: admin, version: v })).body);
      const fc = loadTemplate('server-migrations', 'force_complete.json.tpl', '2.22');
      assert.equal((await api.call('POST', `/v2.1/servers/${id}/migrations/${running.id}/action`, { token: admin, version: '2.22', body: fc?.value })).status, 202);
      assert.equal((await api.call('DELETE', `/v2.1/servers/${id}/migrations/${running.id}`, { token: admin, version: '2.24' })).status, 202);
      await settled('ACTIVE');
    } finally {
      await kova.client.mergePatch(SERVERS, name, ns, { metadata: { annotations: { 'sim.kova.io/hold': null } } });
    }
    process.stdout.write(`\n${formatTable(rows)}\n`);
    assert.deepEqual(failures, []);
  });
});
