// Tenant isolation on every route: each route of the façade's route table (so a route added later
// is covered without a change here) is called with a member token of project A and project B's ids
// and names in its path. A route that names something of B answers 404 (403 for admin APIs, 400 for
// a malformed request, 405 / 410 as Nova), never 2xx; no answer of any route holds B's data; and
// nothing of B has changed afterwards. A few routes have an entry of their own (EXPECTED).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ACTION_RULES } from '../../src/nova/actions.ts';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { ensureFlavor, project, TEST_PUBLIC_KEY } from '../support/fixtures.ts';
import { grant } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);
const hex = (): string => randomBytes(4).toString('hex');

/**
 * Routes whose answer Nova fixes otherwise than the general rule (keys: method and path below the
 * compute prefix, or the whole path outside it). `status`: the statuses allowed.
 */
const EXPECTED: Record<string, { status: number[]; why: string }> = {
  'GET /os-quota-sets/:tenant/defaults': { status: [200], why: "Nova shows any project's default quotas (the defaults, no usage)" },
  // Nova answers 403 (an admin API); Kova's read-only quotas answer every caller 501 until quota
  // updates come (issue 11's quota slice), which still shows nothing of B.
  'PUT /os-quota-sets/:tenant': { status: [403, 501], why: 'quota updates are an admin API' },
  'DELETE /os-quota-sets/:tenant': { status: [403, 501], why: 'quota reverts are an admin API' },
  'GET /os-simple-tenant-usage/:tenant': { status: [403], why: "another project's usage is an admin API (os-simple-tenant-usage:show)" },
  'GET /identity/v3/auth/tokens': { status: [403], why: "Keystone validates a token for its subject or an admin only (B's token as X-Subject-Token)" },
};

/** Request bodies that reach past validation, by route key (any other POST / PUT sends {}). */
const BODIES = (b: { flavorId: string; imageId: string; tenant: string; metaKey: string }): Record<string, unknown> => ({
  'PUT /servers/:id': { server: { name: 'hijacked' } },
  'POST /servers/:id/metadata': { metadata: { hijacked: 'yes' } },
  'PUT /servers/:id/metadata': { metadata: { hijacked: 'yes' } },
  'PUT /servers/:id/metadata/:key': { meta: { [b.metaKey]: 'hijacked' } },
  'PUT /servers/:id/tags': { tags: ['hijacked'] },
  'POST /servers/:id/remote-consoles': { remote_console: { protocol: 'vnc', type: 'novnc' } },
  'POST /servers/:id/migrations/:mid/action': { force_complete: null },
  'POST /flavors/:id/action': { addTenantAccess: { tenant: b.tenant } },
  'PUT /flavors/:id': { flavor: { description: 'hijacked' } },
  'POST /flavors/:id/os-extra_specs': { extra_specs: { hijacked: 'yes' } },
  'PUT /flavors/:id/os-extra_specs/:key': { [b.metaKey]: 'hijacked' },
  'PUT /os-quota-sets/:tenant': { quota_set: { instances: 1 } },
});

/** Every server action Kova knows, with an argument that passes its schema. */
const ACTION_ARGS: Record<string, unknown> = {
  reboot: { type: 'HARD' }, resize: { flavorRef: '1' }, rebuild: { imageRef: '' }, createImage: { name: 'stolen' },
  createBackup: { name: 'stolen', backup_type: 'daily', rotation: 1 }, changePassword: { adminPass: 'stolen-password' },
  'os-resetState': { state: 'error' }, 'os-migrateLive': { host: null, block_migration: 'auto' }, evacuate: {},
  'os-getConsoleOutput': { length: 5 }, 'os-getVNCConsole': { type: 'novnc' }, 'os-getSPICEConsole': { type: 'spice-html5' }, 'os-getSerialConsole': { type: 'serial' },
};

describe('tenant isolation on every route', () => {
  let kova: Kova;
  let api: Api;
  let nsA: string;
  let nsB: string;
  let tokenA: string;
  let tokenB: string;
  let projectA: string;
  let projectB: string;
  /** B's things, by what they are. */
  const b = { server: '', serverName: `b-private-${hex()}`, deleted: '', deletedName: `b-gone-${hex()}`, key: `b-key-${hex()}`, metaKey: `bmeta-${hex()}`, metaValue: `bval-${hex()}`, tag: `btag-${hex()}`, request: '', flavor: `b-flavor-${hex()}`, image: '', imageName: `b-snap-${hex()}`, port: '', user: `bob-${hex()}`, group: '', groupName: `b-group-${hex()}` };
  const userA = `alice-${hex()}`;

  /** What must never appear in an answer to A (but for an echo of what A sent). */
  const leaks = (answer: string, sent: string): string[] => secrets().filter((x) => answer.includes(x) && !sent.includes(x));
  const secrets = (): string[] => [b.server, b.serverName, b.deleted, b.deletedName, b.key, b.metaKey, b.metaValue, b.tag, b.request, b.flavor, b.image, b.imageName, b.port, b.user, b.group, b.groupName].filter(Boolean);

  before(async () => {
    kova = await startKova();
    const pa = await project(kova.client);
    const pb = await project(kova.client);
    nsA = pa.namespace;
    nsB = pb.namespace;
    await ensureFlavor(kova.client, { id: 'iso-1', name: 'iso.tiny', vcpus: 1, ramMiB: 256, diskGiB: 1 });
    api = await startApi(kova, { passwords: new PasswordUsers() });
    await grant(kova.client, 'root', 'kova-admin');
    await grant(kova.client, userA, 'kova-member', nsA);
    await grant(kova.client, b.user, 'kova-member', nsB);
    await eventually('both projects in the façade cache', async () => !!api.facade.caches.projectByIdOrName(nsA) && !!api.facade.caches.projectByIdOrName(nsB));
    projectA = api.facade.caches.projectIdOf(nsA) ?? '';
    projectB = api.facade.caches.projectIdOf(nsB) ?? '';
    tokenA = api.token(userA, nsA);
    tokenB = api.token(b.user, nsB);
    // A private flavor only B may use.
    await ensureFlavor(kova.client, { id: b.flavor, name: b.flavor, vcpus: 1, ramMiB: 256, diskGiB: 1, isPublic: false, projects: [projectB] });
    const imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
    const asB = (method: string, path: string, body?: unknown, version = 'latest') => api.call(method, path, { token: tokenB, version, body });
    assert.equal((await asB('POST', '/v2.1/os-keypairs', { keypair: { name: b.key, public_key: TEST_PUBLIC_KEY } })).status, 201);
    const made = await asB('POST', '/v2.1/servers', { server: { name: b.serverName, flavorRef: 'iso-1', imageRef: imageId, networks: 'auto', availability_zone: pb.zone, key_name: b.key, metadata: { [b.metaKey]: b.metaValue }, tags: [b.tag] } });
    assert.equal(made.status, 202, JSON.stringify(made.body));
    b.server = made.body.server.id;
    b.request = made.headers.get('x-openstack-request-id') ?? '';
    const gone = await asB('POST', '/v2.1/servers', { server: { name: b.deletedName, flavorRef: 'iso-1', imageRef: imageId, networks: 'auto', availability_zone: pb.zone } });
    b.deleted = gone.body.server.id;
    for (const id of [b.server, b.deleted]) await eventually('B\'s server ACTIVE', async () => (await asB('GET', `/v2.1/servers/${id}`)).body.server?.status === 'ACTIVE', 60_000);
    assert.equal((await asB('DELETE', `/v2.1/servers/${b.deleted}`)).status, 204);
    await eventually('B\'s deleted server recorded', async () => api.facade.caches.deletedServers.byIndex('uid', b.deleted).length > 0 && !api.facade.caches.servers.byIndex('uid', b.deleted).length);
    // B's snapshot image and B's port.
    const snap = await asB('POST', `/v2.1/servers/${b.server}/action`, { createImage: { name: b.imageName } }, '2.45');
    assert.equal(snap.status, 202, JSON.stringify(snap.body));
    b.image = snap.body.image_id;
    await eventually('B\'s snapshot done', async () => (await asB('GET', `/v2.1/servers/${b.server}`)).body.server?.['OS-EXT-STS:task_state'] === null && !!api.facade.caches.image(b.image), 120_000);
    const group = await asB('POST', '/v2.1/os-server-groups', { server_group: { name: b.groupName, policy: 'anti-affinity' } });
    assert.equal(group.status, 200, JSON.stringify(group.body));
    b.group = group.body.server_group.id;
    const ports = await api.call('GET', `/networking/v2.0/ports?device_id=${b.server}`, { token: tokenB });
    b.port = ports.body.ports?.[0]?.id ?? '';
    assert.ok(b.port, JSON.stringify(ports.body));
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  /** A compute route's prefix and its path below it; other routes are their own. */
  const split = (url: string): { prefix: string; path: string } | undefined => {
    const m = /^(\/v2(?:\.1)?(?:\/:project_id)?)(\/.+)$/.exec(url);
    return m ? { prefix: m[1]!, path: m[2]! } : undefined;
  };

  /** B's value for a path parameter of a route (undefined: a parameter that names nothing of B). */
  function bParam(path: string, name: string, serverId: string): string | undefined {
    if (name === 'id') {
      if (path.startsWith('/servers/')) return serverId;
      if (path.startsWith('/flavors/')) return b.flavor;
      if (path.startsWith('/os-server-groups/')) return b.group;
      if (/^\/(images|v2\/images)\//.test(path)) return b.image;
      if (path.startsWith('/v2.0/ports/')) return b.port;
      return serverId;
    }
    return ({ name: b.key, key: b.metaKey, tag: b.tag, requestId: b.request, tenant: projectB, network: 'default' } as Record<string, string>)[name];
  }
  /** Parameters that name nothing of B, with a harmless value. */
  const OTHER_PARAMS: Record<string, string> = { mid: '1', token: 'not-a-token', alias: 'os-keypairs', host: 'no-such-host', pattern: 'no-such-host', folder: 'core', '*': 'x' };

  async function send(method: string, path: string, o: { body?: unknown; version?: string; subject?: string; token?: string } = {}) {
    const headers: Record<string, string> = { 'x-auth-token': o.token ?? tokenA, ...(o.version ? { 'openstack-api-version': `compute ${o.version}` } : {}), ...(o.subject ? { 'x-subject-token': o.subject } : {}) };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(api.url + path, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
    const text = await res.text();
    return { status: res.status, text, headers: [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n') };
  }

  test('every route, with A\'s token and B\'s ids: never B\'s data; 404 / 403 where it names B', async () => {
    const table = [...new Map(api.facade.app.routeTable.filter((r) => METHODS.has(r.method)).map((r) => [`${r.method} ${r.url}`, r])).values()];
    assert.ok(table.length > 500, `the route table has every route under every prefix (${table.length})`);
    const bodies = BODIES({ flavorId: b.flavor, imageId: b.image, tenant: projectB, metaKey: b.metaKey });
    const failures: string[] = [];
    const tried = new Set<string>();
    let calls = 0;
    for (const r of table) {
      const c = split(r.url);
      const key = `${r.method} ${c ? c.path : r.url}`;
      const below = c ? c.path : r.url.replace(/^\/(identity|networking|image)/, '');
      // A's own project in the URL, and (a second request) B's: that one is never A's to use.
      const projects = c?.prefix.includes(':project_id') ? [projectA, projectB] : [''];
      const serverIds = below.startsWith('/servers/:id') ? [b.server, b.deleted] : [b.server];
      const legacy = c?.prefix.startsWith('/v2/') || c?.prefix === '/v2';
      const versions = !c ? [undefined] : legacy ? [undefined] : ['2.1', '2.35', 'latest'];
      for (const pid of projects) {
        for (const serverId of serverIds) {
          let namesB = pid === projectB;
          const path = r.url.replace(/:([A-Za-z_]+)|\*/g, (m, name: string | undefined) => {
            if (name === 'project_id') return pid;
            const v = name ? bParam(below, name, serverId) : undefined;
            if (v !== undefined && name !== 'network') namesB = true;
            return encodeURIComponent(v ?? OTHER_PARAMS[name ?? '*'] ?? m);
          });
          for (const version of versions) {
            const body = r.method === 'POST' || r.method === 'PUT' ? bodies[key] ?? {} : undefined;
            const got = await send(r.method, path, { body, version, subject: key === 'GET /identity/v3/auth/tokens' ? tokenB : undefined });
            calls++;
            tried.add(key);
            const what = `${r.method} ${path}${version ? ` @${version}` : ''} → ${got.status}`;
            const leaked = leaks(`${got.text}\n${got.headers}`, `${decodeURIComponent(path)} ${JSON.stringify(body ?? '')}`);
            if (leaked.length) failures.push(`${what}: holds B's ${leaked.join(', ')} — ${got.text.slice(0, 200)}`);
            if (got.status >= 500 && got.status !== 501) failures.push(`${what}: ${got.text.slice(0, 200)}`);
            const e = EXPECTED[key];
            if (e && pid !== projectB) {
              if (!e.status.includes(got.status)) failures.push(`${what}: expected ${e.status.join(' or ')} (${e.why}) — ${got.text.slice(0, 200)}`);
            } else if (namesB && got.status < 300) failures.push(`${what}: answered a route that names B's ${pid === projectB ? 'project' : 'things'} — ${got.text.slice(0, 200)}`);
          }
        }
      }
    }
    process.stdout.write(`isolation: ${calls} calls over ${tried.size} routes\n`);
    assert.deepEqual(failures, []);
  });

  test('every server action on B\'s server (live or deleted) is a 404 for A, at every prefix', async () => {
    const names = [...new Set([...Object.keys(ACTION_RULES).map((a) => a.split(':')[0]!), 'os-getConsoleOutput', 'os-getVNCConsole', 'os-getSPICEConsole', 'os-getSerialConsole', 'os-getRDPConsole', 'addSecurityGroup', 'removeSecurityGroup'])]
      .filter((n) => n !== 'update metadata' && n !== 'delete');
    const failures: string[] = [];
    for (const name of names) {
      for (const id of [b.server, b.deleted]) {
        for (const prefix of ['/v2.1', `/v2.1/${projectA}`, '/v2']) {
          const path = `${prefix}/servers/${id}/action`;
          const got = await send('POST', path, { body: { [name]: ACTION_ARGS[name] ?? null }, version: prefix === '/v2' ? undefined : '2.1' });
          if (got.status !== 404) failures.push(`${name} on ${id} via ${prefix}: ${got.status} ${got.text.slice(0, 160)}`);
          if (leaks(got.text, path).length) failures.push(`${name}: leaks ${got.text.slice(0, 160)}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  test('afterwards B\'s things are as they were', async () => {
    const s = (await api.call('GET', `/v2.1/servers/${b.server}`, { token: tokenB, version: 'latest' })).body.server;
    assert.equal(s.name, b.serverName);
    assert.deepEqual(s.metadata, { [b.metaKey]: b.metaValue });
    assert.deepEqual(s.tags, [b.tag]);
    assert.equal(s.locked, false);
    assert.equal(s.status, 'ACTIVE');
    assert.equal((await api.call('GET', `/v2.1/os-keypairs/${b.key}`, { token: tokenB })).status, 200);
    assert.equal((await api.call('GET', `/v2.1/os-server-groups/${b.group}`, { token: tokenB })).status, 200);
    assert.equal((await api.call('GET', `/v2.1/flavors/${b.flavor}`, { token: tokenB })).status, 200);
    assert.equal((await api.call('GET', `/v2.1/flavors/${b.flavor}/os-flavor-access`, { token: api.token('root', nsB) })).body.flavor_access.length, 1);
    assert.equal((await api.call('GET', `/v2.1/servers/${b.deleted}/os-instance-actions`, { token: tokenB, version: '2.21' })).status, 200);
    // B's snapshot is B's: private to it, owned by it, listed for it.
    const img = (await api.call('GET', `/image/v2/images/${b.image}`, { token: tokenB })).body;
    assert.deepEqual([img.name, img.visibility, img.owner], [b.imageName, 'private', projectB]);
    assert.ok((await api.call('GET', '/image/v2/images?visibility=private', { token: tokenB })).body.images.some((i: { id: string }) => i.id === b.image));
    assert.equal((await api.call('GET', `/v2.1/images/${b.image}`, { token: tokenB, version: '2.35' })).status, 200);
    // A's own view is A's alone.
    const mine = await api.call('GET', '/v2.1/servers/detail?changes-since=2000-01-01T00:00:00Z', { token: tokenA });
    assert.deepEqual(mine.body.servers, []);
  });
});
