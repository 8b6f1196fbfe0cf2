// Every route the app serves (from its route table, so a new route is covered when it is added),
// sent once with `Content-Type: application/json` and an empty body and once with no content type,
// answers as Nova does: a route that takes no body never says "Malformed request body"; one that
// needs a body gives Nova's 400 for a missing one (None, or an action route's malformed body).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { NODES, type Node } from '../../src/kube/types.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { people } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';
import { ensureFlavor, project, TEST_PUBLIC_KEY, uniq } from '../support/fixtures.ts';

/** What a route answers: its status (and message), at a microversion, for path parameters a fixture gives. */
interface Expectation {
  status: number;
  message?: string | RegExp;
  /** The microversion to ask at (default: latest). */
  version?: string;
  /** Path parameters for one request (made fresh for each request that consumes its target). */
  params?: () => Promise<Record<string, string>>;
}

const NO_BODY = "None is not of type 'object'";
const MALFORMED = 'Malformed request body';
const GONE = /^This resource is no longer available\./;
/** Methods a client can send with fetch; HEAD mirrors GET, TRACE and QUERY are no Nova methods. */
const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const NIL_UUID = '00000000-0000-4000-8000-000000000000';

describe('every route, with a JSON content type and an empty body, and with no content type', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let pid: string;
  let admin: string;
  let imageId: string;
  let serverId: string;
  let node: Node;
  let aggregateId: string;
  let requestId: string;

  before(async () => {
    kova = await startKova();
    let other: string;
    let zone: string;
    ({ namespace: ns, zone } = await project(kova.client));
    ({ namespace: other } = await project(kova.client));
    await ensureFlavor(kova.client, { id: 'bl-1', name: 'bl.tiny', vcpus: 1, ramMiB: 64, diskGiB: 1, extraSpecs: { 'hw:cpu_policy': 'shared' } });
    await ensureImage(kova.client, 'kova-images', 'cirros');
    api = await startApi(kova, { passwords: new PasswordUsers() });
    ({ admin } = await people(kova, api, ns, other));
    pid = api.facade.caches.projectIdOf(ns) ?? '';
    imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
    node = (await kova.client.list<Node>(NODES)).items.find((n) => n.metadata.labels?.['topology.kubernetes.io/zone'] === zone)!;
    const s = await call('POST', '/v2.1/servers', { version: '2.52', body: { server: { name: 'bodyless', flavorRef: 'bl-1', imageRef: imageId, networks: 'auto', availability_zone: zone, metadata: { k: 'v' }, tags: ['t1'] } } });
    serverId = s.body.server.id;
    await eventually('server ACTIVE', async () => (await call('GET', `/v2.1/servers/${serverId}`)).body.server.status === 'ACTIVE');
    requestId = (await call('GET', `/v2.1/servers/${serverId}/os-instance-actions`)).body.instanceActions[0].request_id;
    assert.equal((await call('POST', '/v2.1/os-keypairs', { version: '2.2', body: { keypair: { name: 'bl-key', public_key: TEST_PUBLIC_KEY } } })).status, 201);
    aggregateId = String((await call('POST', '/v2.1/os-aggregates', { body: { aggregate: { name: uniq('bl-agg') } } })).body.aggregate.id);
  });
  after(async () => {
    await call('DELETE', `/v2.1/os-aggregates/${aggregateId}`).catch(() => undefined);
    await api?.stop();
    await kova?.stop();
  });

  async function call(method: string, path: string, o: { version?: string; body?: unknown } = {}) {
    return api.call(method, path, { token: admin, version: o.version ?? 'latest', ...(o.body !== undefined ? { body: o.body } : {}) });
  }

  // Targets a request consumes: made fresh for each request.
  const freshServer = async () => ({ id: (await call('POST', '/v2.1/servers', { body: { server: { name: uniq('bl-gone'), flavorRef: 'bl-1', imageRef: imageId, networks: 'none' } } })).body.server.id as string });
  const freshFlavor = async () => {
    const id = uniq('bl-f');
    await call('POST', '/v2.1/flavors', { body: { flavor: { name: id, id, ram: 64, vcpus: 1, disk: 1 } } });
    return { id };
  };
  const freshKey = async () => {
    const name = uniq('bl-k');
    await call('POST', '/v2.1/os-keypairs', { body: { keypair: { name, public_key: TEST_PUBLIC_KEY } } });
    return { name };
  };
  const freshAggregate = async () => ({ id: String((await call('POST', '/v2.1/os-aggregates', { body: { aggregate: { name: uniq('bl-a') } } })).body.aggregate.id) });
  const freshGroup = async () => ({ id: (await call('POST', '/v2.1/os-server-groups', { body: { server_group: { name: uniq('bl-g'), policy: 'anti-affinity' } } })).body.server_group.id as string });
  const server = async () => ({ id: serverId });
  const withTag = (tag: string, present: boolean) => async () => {
    await call(present ? 'PUT' : 'DELETE', `/v2.1/servers/${serverId}/tags/${tag}`);
    return { id: serverId, tag };
  };

  const anyMethod = (path: string, e: Expectation): Record<string, Expectation> => Object.fromEntries([...METHODS].map((m) => [`${m} ${path}`, e]));

  /** What the routes outside the Compute API answer, by their full path. */
  const outside = (): Record<string, Expectation> => ({
    'GET /healthz': { status: 200 }, 'GET /readyz': { status: 200 }, 'GET /metrics': { status: 200 },
    'GET /': { status: 200 }, 'GET /v2.1': { status: 200 }, 'GET /v2.1/': { status: 200 }, 'GET /v2': { status: 200 }, 'GET /v2/': { status: 200 },
    ...anyMethod('/*', { status: 300, params: async () => ({ '*': 'no-such-thing' }) }),
    'GET /novnc/vnc_lite.html': { status: 200 },
    'GET /novnc/core/*': { status: 200, params: async () => ({ '*': 'rfb.js' }) },
    'GET /novnc/vendor/*': { status: 200, params: async () => ({ '*': 'pako/lib/zlib/adler32.js' }) },
    'GET /identity': { status: 300 }, 'GET /identity/v3': { status: 200 }, 'GET /identity/v3/': { status: 200 },
    'POST /identity/v3/auth/tokens': { status: 400, message: /^Expecting to find identity in auth\./ },
    'GET /identity/v3/auth/tokens': { status: 404 }, 'DELETE /identity/v3/auth/tokens': { status: 404 },
    'GET /identity/v3/auth/catalog': { status: 200 },
    ...Object.fromEntries(['GET', 'POST'].map((m) => [`${m} /identity/v3/OS-FEDERATION/identity_providers/:idp/protocols/:protocol/auth`, { status: 401, params: async () => ({ idp: 'corp', protocol: 'openid' }) }])),
    'POST /identity/v3/users/:user_id/application_credentials': { status: 400, message: /^Expecting to find application_credential in request body\./, params: async () => ({ user_id: 'root' }) },
    'GET /identity/v3/users/:user_id/application_credentials': { status: 200, params: async () => ({ user_id: 'root' }) },
    'GET /identity/v3/users/:user_id/application_credentials/:id': { status: 404, params: async () => ({ user_id: 'root', id: 'nope' }) },
    'DELETE /identity/v3/users/:user_id/application_credentials/:id': { status: 404, params: async () => ({ user_id: 'root', id: 'nope' }) },
    'GET /identity/v3/auth/projects': { status: 200 }, 'GET /identity/v3/projects': { status: 200 },
    'GET /identity/v3/users/:user_id/projects': { status: 200, params: async () => ({ user_id: 'root' }) },
    'GET /identity/v3/projects/:id': { status: 200, params: async () => ({ id: pid }) },
    'POST /identity/v3/projects': { status: 400, message: /^Expecting to find project in request body\./ },
    'DELETE /identity/v3/projects/:id': { status: 404, params: async () => ({ id: 'nope' }) },
    'PATCH /identity/v3/projects/:id': { status: 400, message: /^Expecting to find project in request body\./, params: async () => ({ id: pid }) },
    'GET /identity/v3/users/:user_id': { status: 200, params: async () => ({ user_id: 'root' }) },
    'GET /identity/v3/users': { status: 200 }, 'POST /identity/v3/users': { status: 400, message: /^Expecting to find user in request body\./ },
    'DELETE /identity/v3/users/:user_id': { status: 404, params: async () => ({ user_id: 'nope' }) },
    'GET /identity/v3/roles': { status: 200 }, 'GET /identity/v3/roles/:id': { status: 200, params: async () => ({ id: 'member' }) },
    'GET /identity/v3/auth/domains': { status: 200 }, 'GET /identity/v3/domains': { status: 200 },
    'GET /identity/v3/domains/:id': { status: 200, params: async () => ({ id: 'default' }) },
    'GET /identity/v3/role_assignments': { status: 200 },
    ...Object.fromEntries([['PUT', 400], ['GET', 404], ['DELETE', 404]].map(([m, status]) => [`${m} /identity/v3/projects/:id/users/:user_id/roles/:role_id`, { status: status as number, params: async () => ({ id: pid, user_id: uniq('nobody'), role_id: 'admin' }) }])),
    'GET /identity/v3/projects/:id/users/:user_id/roles': { status: 200, params: async () => ({ id: pid, user_id: 'root' }) },
    ...anyMethod('/identity/*', { status: 404, params: async () => ({ '*': 'no-such-thing' }) }),
    'GET /image': { status: 300 }, 'GET /image/versions': { status: 200 }, 'GET /image/v2/images': { status: 200 },
    'GET /image/v2/images/:id': { status: 200, params: async () => ({ id: imageId }) },
    'GET /image/v2/schemas/image': { status: 200 }, 'GET /image/v2/schemas/images': { status: 200 },
    ...anyMethod('/image/*', { status: 404, params: async () => ({ '*': 'no-such-thing' }) }),
    // Neutron, read-only: reads answer, writes are refused by policy, whatever the body.
    'GET /networking': { status: 200 }, 'GET /networking/': { status: 200 }, 'GET /networking/v2.0': { status: 200 }, 'GET /networking/v2.0/': { status: 200 },
    'GET /networking/v2.0/extensions': { status: 200 },
    'GET /networking/v2.0/extensions/:alias': { status: 200, params: async () => ({ alias: 'pagination' }) },
    ...Object.fromEntries(['networks', 'subnets', 'ports'].flatMap((c) => [
      [`GET /networking/v2.0/${c}`, { status: 200 }],
      [`GET /networking/v2.0/${c}/:id`, { status: 404, message: /could not be found\.$/, params: async () => ({ id: NIL_UUID }) }],
      [`POST /networking/v2.0/${c}`, { status: 403, message: /is disallowed by policy$/ }],
      [`PUT /networking/v2.0/${c}/:id`, { status: 403, message: /is disallowed by policy$/, params: async () => ({ id: NIL_UUID }) }],
      [`DELETE /networking/v2.0/${c}/:id`, { status: 403, message: /is disallowed by policy$/, params: async () => ({ id: NIL_UUID }) }],
    ])),
    ...anyMethod('/networking/*', { status: 404, params: async () => ({ '*': 'no-such-thing' }) }),
  });

  /** Nova's answer per Compute API route, by its path below the version (and project) prefix. */
  const compute = (): Record<string, Expectation> => ({
    // Flavors.
    'GET /flavors': { status: 200 }, 'GET /flavors/detail': { status: 200 },
    'GET /flavors/:id': { status: 200, params: async () => ({ id: 'bl-1' }) },
    'POST /flavors': { status: 400, message: NO_BODY },
    'PUT /flavors/:id': { status: 400, message: NO_BODY, params: async () => ({ id: 'bl-1' }) },
    'DELETE /flavors/:id': { status: 202, params: freshFlavor },
    'GET /flavors/:id/os-extra_specs': { status: 200, params: async () => ({ id: 'bl-1' }) },
    'GET /flavors/:id/os-extra_specs/:key': { status: 200, params: async () => ({ id: 'bl-1', key: 'hw:cpu_policy' }) },
    'POST /flavors/:id/os-extra_specs': { status: 400, message: NO_BODY, params: async () => ({ id: 'bl-1' }) },
    'PUT /flavors/:id/os-extra_specs/:key': { status: 400, message: NO_BODY, params: async () => ({ id: 'bl-1', key: 'hw:cpu_policy' }) },
    'DELETE /flavors/:id/os-extra_specs/:key': {
      status: 200, params: async () => {
        await call('POST', '/v2.1/flavors/bl-1/os-extra_specs', { body: { extra_specs: { 'hw:numa_nodes': '1' } } });
        return { id: 'bl-1', key: 'hw:numa_nodes' };
      },
    },
    'GET /flavors/:id/os-flavor-access': { status: 404, message: 'Access list not available for public flavors.', params: async () => ({ id: 'bl-1' }) },
    'POST /flavors/:id/action': { status: 400, message: MALFORMED, params: async () => ({ id: 'bl-1' }) },
    // Key pairs.
    'GET /os-keypairs': { status: 200 },
    'GET /os-keypairs/:name': { status: 200, params: async () => ({ name: 'bl-key' }) },
    'POST /os-keypairs': { status: 400, message: NO_BODY },
    'DELETE /os-keypairs/:name': { status: 204, params: freshKey },
    // Servers.
    'GET /servers': { status: 200 }, 'GET /servers/detail': { status: 200 },
    'GET /servers/:id': { status: 200, params: server },
    'POST /servers': { status: 400, message: NO_BODY },
    'PUT /servers/:id': { status: 400, message: NO_BODY, params: server },
    'DELETE /servers/:id': { status: 204, params: freshServer },
    'GET /servers/:id/ips': { status: 200, params: server },
    'GET /servers/:id/ips/:network': { status: 200, params: async () => ({ id: serverId, network: 'default' }) },
    'GET /servers/:id/metadata': { status: 200, params: server },
    'GET /servers/:id/metadata/:key': { status: 200, params: async () => ({ id: serverId, key: 'k' }) },
    'POST /servers/:id/metadata': { status: 400, message: NO_BODY, params: server },
    'PUT /servers/:id/metadata': { status: 400, message: NO_BODY, params: server },
    'PUT /servers/:id/metadata/:key': { status: 400, message: NO_BODY, params: async () => ({ id: serverId, key: 'k' }) },
    'DELETE /servers/:id/metadata/:key': {
      status: 204, params: async () => {
        await call('PUT', `/v2.1/servers/${serverId}/metadata/k2`, { body: { meta: { k2: 'v2' } } });
        return { id: serverId, key: 'k2' };
      },
    },
    'GET /servers/:id/os-server-password': { status: 200, params: server },
    'DELETE /servers/:id/os-server-password': { status: 204, params: server },
    'GET /servers/:id/tags': { status: 200, params: server },
    'PUT /servers/:id/tags': { status: 400, message: NO_BODY, params: server },
    'DELETE /servers/:id/tags': { status: 204, params: server },
    'GET /servers/:id/tags/:tag': { status: 204, params: withTag('t1', true) },
    'PUT /servers/:id/tags/:tag': { status: 201, params: withTag('t2', false) },
    'DELETE /servers/:id/tags/:tag': { status: 204, params: withTag('t3', true) },
    'POST /servers/:id/action': { status: 400, message: MALFORMED, params: server },
    'GET /servers/:id/os-instance-actions': { status: 200, params: server },
    'GET /servers/:id/os-instance-actions/:requestId': { status: 200, params: async () => ({ id: serverId, requestId }) },
    'GET /servers/:id/diagnostics': { status: 200, params: server },
    'POST /servers/:id/remote-consoles': { status: 400, message: NO_BODY, params: server },
    'GET /os-console-auth-tokens/:token': { status: 404, message: 'Token not found', params: async () => ({ token: 'no-such-token' }) },
    'GET /os-migrations': { status: 200 },
    'GET /servers/:id/migrations': { status: 200, params: server },
    'GET /servers/:id/migrations/:mid': { status: 404, params: async () => ({ id: serverId, mid: '1' }) },
    'POST /servers/:id/migrations/:mid/action': { status: 400, message: MALFORMED, params: async () => ({ id: serverId, mid: '1' }) },
    'DELETE /servers/:id/migrations/:mid': { status: 404, params: async () => ({ id: serverId, mid: '1' }) },
    // The image proxy (≤ 2.35).
    'GET /images': { status: 200, version: '2.35' }, 'GET /images/detail': { status: 200, version: '2.35' },
    'GET /images/:id': { status: 200, version: '2.35', params: async () => ({ id: imageId }) },
    'DELETE /images/:id': { status: 403, version: '2.35', params: async () => ({ id: imageId }) },
    // Aggregates.
    'GET /os-aggregates': { status: 200 },
    'POST /os-aggregates': { status: 400, message: NO_BODY },
    'GET /os-aggregates/:id': { status: 200, params: async () => ({ id: aggregateId }) },
    'PUT /os-aggregates/:id': { status: 400, message: NO_BODY, params: async () => ({ id: aggregateId }) },
    'DELETE /os-aggregates/:id': { status: 200, params: freshAggregate },
    'POST /os-aggregates/:id/images': { status: 400, message: NO_BODY, params: async () => ({ id: aggregateId }) },
    'POST /os-aggregates/:id/action': { status: 400, message: MALFORMED, params: async () => ({ id: aggregateId }) },
    // Services, hypervisors, hosts, zones.
    'GET /os-services': { status: 200 },
    ...Object.fromEntries(['enable', 'disable', 'disable-log-reason', 'force-down'].map((a) => [`PUT /os-services/${a}`, { status: 400, message: NO_BODY, version: '2.52' }])),
    'PUT /os-services/:id': { status: 400, message: NO_BODY, params: async () => ({ id: node.metadata.uid ?? '' }) },
    'DELETE /os-services/:id': { status: 404, message: `Service ${NIL_UUID} not found.`, params: async () => ({ id: NIL_UUID }) },
    'GET /os-hypervisors': { status: 200 }, 'GET /os-hypervisors/detail': { status: 200 },
    'GET /os-hypervisors/statistics': { status: 200, version: '2.87' },
    'GET /os-hypervisors/:id': { status: 200, params: async () => ({ id: node.metadata.uid ?? '' }) },
    'GET /os-hypervisors/:id/uptime': { status: 200, version: '2.87', params: async () => ({ id: node.metadata.uid ?? '' }) },
    'GET /os-hypervisors/:pattern/search': { status: 200, version: '2.52', params: async () => ({ pattern: node.metadata.name ?? '' }) },
    'GET /os-hypervisors/:pattern/servers': { status: 200, version: '2.52', params: async () => ({ pattern: node.metadata.name ?? '' }) },
    'GET /os-hosts': { status: 200, version: '2.42' },
    'GET /os-hosts/:host': { status: 200, version: '2.42', params: async () => ({ host: node.metadata.name ?? '' }) },
    'PUT /os-hosts/:host': { status: 400, message: NO_BODY, version: '2.42', params: async () => ({ host: node.metadata.name ?? '' }) },
    ...Object.fromEntries(['reboot', 'shutdown', 'startup'].map((a) => [`GET /os-hosts/:host/${a}`, { status: 501, version: '2.42', params: async () => ({ host: node.metadata.name ?? '' }) }])),
    'GET /os-availability-zone': { status: 200 }, 'GET /os-availability-zone/detail': { status: 200 },
    // Limits, quotas, usage, extensions.
    'GET /limits': { status: 200 },
    ...Object.fromEntries(['', '/detail', '/defaults'].map((x) => [`GET /os-quota-sets/:tenant${x}`, { status: 200, params: async () => ({ tenant: pid }) }])),
    'PUT /os-quota-sets/:tenant': { status: 400, message: NO_BODY, params: async () => ({ tenant: pid }) },
    'DELETE /os-quota-sets/:tenant': { status: 501, params: async () => ({ tenant: pid }) },
    'GET /os-server-groups': { status: 200 },
    'POST /os-server-groups': { status: 400, message: NO_BODY },
    'GET /os-server-groups/:id': { status: 200, params: freshGroup },
    'DELETE /os-server-groups/:id': { status: 204, params: freshGroup },
    'GET /os-simple-tenant-usage': { status: 200 },
    'GET /os-simple-tenant-usage/:tenant': { status: 200, params: async () => ({ tenant: pid }) },
    'GET /extensions': { status: 200 },
    'GET /extensions/:alias': { status: 200, params: async () => ({ alias: 'OS-DCF' }) },
    // Removed APIs: 410 (their action routes read the action first).
    'POST /os-fixed-ips/:id/action': { status: 400, message: MALFORMED, params: async () => ({ id: '1' }) },
    'POST /os-networks/:id/action': { status: 400, message: MALFORMED, params: async () => ({ id: '1' }) },
    // Anything else under a version is Nova's 404.
    ...anyMethod('/*', { status: 404, message: 'The resource could not be found.', params: async () => ({ '*': 'no-such-thing' }) }),
  });

  /** A compute route's path below its prefix, and its prefix; other routes (GET /v2.1/ too) are their own. */
  function split(url: string): { prefix: string; path: string } | undefined {
    const m = /^(\/v2(?:\.1)?(?:\/:project_id)?)(\/.+)$/.exec(url);
    return m ? { prefix: m[1]!, path: m[2]! } : undefined;
  }
  const removedKey = (path: string): boolean => /^\/(os-agents|os-cells|os-certificates|os-cloudpipe|os-fixed-ips|os-floating-ip-dns|os-floating-ips-bulk|os-fping|os-networks|os-tenant-networks|os-security-group-default-rules)(\/|$)|^\/servers\/:id\/(consoles|os-virtual-interfaces)/.test(path);

  async function send(method: string, path: string, version: string | undefined, json: boolean) {
    const headers: Record<string, string> = { 'x-auth-token': admin, ...(version ? { 'openstack-api-version': `compute ${version}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}) };
    const res = await fetch(api.url + path, { method, headers, ...(json && method !== 'GET' ? { body: '' } : {}) });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const fault = body && typeof body === 'object' ? Object.values(body as Record<string, { message?: string }>)[0] : undefined;
    return { status: res.status, message: fault?.message };
  }

  test('each route answers Nova\'s status for both', async () => {
    const [outsideTable, computeTable] = [outside(), compute()];
    const routes = [...new Map(api.facade.app.routeTable.filter((r) => METHODS.has(r.method)).map((r) => [`${r.method} ${r.url}`, r])).values()];
    assert.ok(routes.length > 500, `the route table has the app's routes, under every prefix (${routes.length})`);
    const failures: string[] = [];
    const missing = new Set<string>();
    for (const r of routes) {
      const c = split(r.url);
      const key = `${r.method} ${c ? c.path : r.url}`;
      const e: Expectation | undefined = c ? computeTable[key] ?? (removedKey(c.path) ? { status: 410, message: GONE, params: async () => ({ id: serverId, console_id: '1', domain_id: 'd' }) } : undefined) : outsideTable[key];
      if (!e) {
        missing.add(key);
        continue;
      }
      // The legacy /v2 API is 2.1 without microversions: there the two requests must agree.
      const legacy = c?.prefix.startsWith('/v2/') || c?.prefix === '/v2';
      const answers: { status: number; message?: string }[] = [];
      for (const json of [true, false]) {
        const params: Record<string, string> = { project_id: pid, ...(await e.params?.()) };
        const path = r.url.replace(/:([A-Za-z_]+)|\*/g, (m, name: string | undefined) => encodeURIComponent(params[name ?? '*'] ?? m)).replace(/%2F/g, '/');
        const got = await send(r.method, path, legacy ? undefined : e.version ?? 'latest', json);
        answers.push(got);
        const what = `${r.method} ${path} (${json ? 'JSON, empty body' : 'no content type'})`;
        if (e.message !== MALFORMED && got.message === MALFORMED) failures.push(`${what}: ${MALFORMED}`);
        if (!legacy && got.status !== e.status) failures.push(`${what}: ${got.status} ${got.message ?? ''}, Nova answers ${e.status}`);
        if (!legacy && e.message && !(typeof e.message === 'string' ? got.message === e.message : e.message.test(got.message ?? ''))) failures.push(`${what}: "${got.message}", Nova says "${e.message}"`);
      }
      if (answers[0]!.status !== answers[1]!.status) failures.push(`${r.method} ${r.url}: ${answers[0]!.status} with a JSON content type, ${answers[1]!.status} without`);
    }
    assert.deepEqual([...missing], [], 'every route has Nova\'s answer in the table');
    assert.deepEqual(failures, []);
  });
});
