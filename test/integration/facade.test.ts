// The Compute API façade against the real control plane: protocol (versions, microversions, faults,
// request ids, auth), Keystone tokens, and the flavor, key pair, server and image resources, with
// Kubernetes RBAC deciding through impersonation. Bad input gives Nova's fault and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FLAVORS, type Flavor } from '../../src/api/flavor.ts';
import { KEYPAIRS } from '../../src/api/keypair.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, type VirtualMachine, type VirtualMachineInstance } from '../../src/kubevirt/types.ts';
import { SECRETS, type Secret } from '../../src/kube/types.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { people } from '../support/people.ts';
import { eventually, wentThrough } from '../support/waiting.ts';
import { ensureFlavor, project, TEST_PUBLIC_KEY as PUBLIC_KEY } from '../support/fixtures.ts';

describe('Compute API façade', () => {
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
  const passwords = new PasswordUsers();

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client));
    ({ namespace: other } = await project(kova.client));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureImage(kova.client, 'kova-images', 'cirros', 'cirros-0.6.3');
    passwords.add('alice', 's3cret', 'alice');
    api = await startApi(kova, { passwords });
    ({ admin, member, reader, stranger } = await people(kova, api, ns, other));
    imageId = (await eventually('image in cache', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  describe('protocol', () => {
    test('GET / and GET /v2.1 are the version documents; a path without a version is 300', async () => {
      const root = await api.call('GET', '/');
      assert.equal(root.status, 200);
      assert.deepEqual(root.body.versions.map((v: { id: string; status: string; version: string }) => [v.id, v.status, v.version]), [['v2.0', 'DEPRECATED', ''], ['v2.1', 'CURRENT', '2.104']]);
      const v21 = await api.call('GET', '/v2.1');
      assert.equal(v21.body.version.min_version, '2.1');
      assert.equal(v21.body.version['media-types'][0].type, 'application/vnd.openstack.compute+json;version=2.1');
      const choices = await api.call('GET', '/servers');
      assert.equal(choices.status, 300);
      assert.equal(choices.body.choices[1].links[0].href, `${api.url}/v2.1/servers`);
    });

    test('the media type selects the version when the URI names none', async () => {
      const r = await api.call('GET', '/flavors', { token: member, headers: { accept: 'application/vnd.openstack.compute+json;version=2.1' } });
      assert.equal(r.status, 200);
      assert.ok(Array.isArray(r.body.flavors));
    });

    test('no or a bad token → 401 unauthorized', async () => {
      for (const token of [undefined, 'nonsense', `${member}x`]) {
        const r = await api.call('GET', '/v2.1/servers', { token });
        assert.equal(r.status, 401);
        assert.equal(r.body.unauthorized.code, 401);
      }
    });

    test('microversions: headers on every response, latest, 400 malformed, 406 out of range, 404 where a route does not exist yet', async () => {
      const ok = await api.call('GET', '/v2.1/flavors', { token: member, version: 'latest' });
      assert.equal(ok.headers.get('openstack-api-version'), 'compute 2.104');
      assert.equal(ok.headers.get('x-openstack-nova-api-version'), '2.104');
      assert.match(ok.headers.get('vary') ?? '', /OpenStack-API-Version/);
      const legacy = await api.call('GET', '/v2.1/flavors', { token: member, headers: { 'x-openstack-nova-api-version': '2.30' } });
      assert.equal(legacy.headers.get('x-openstack-nova-api-version'), '2.30');
      const both = await api.call('GET', '/v2.1/flavors', { token: member, version: '2.40', headers: { 'x-openstack-nova-api-version': '2.30' } });
      assert.equal(both.headers.get('openstack-api-version'), 'compute 2.40');
      const none = await api.call('GET', '/v2.1/flavors', { token: member });
      assert.equal(none.headers.get('openstack-api-version'), 'compute 2.1');
      const bad = await api.call('GET', '/v2.1/flavors', { token: member, version: '2.x' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.badRequest.message, 'API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum.');
      assert.equal(bad.headers.get('openstack-api-version'), 'compute 2.1');
      const high = await api.call('GET', '/v2.1/flavors', { token: member, version: '2.105' });
      assert.equal(high.status, 406);
      assert.equal(high.body.computeFault.message, 'Version 2.105 is not supported by the API. Minimum is 2.1 and maximum is 2.104.');
      const early = await api.call('GET', '/v2.1/servers/x/tags', { token: member, version: '2.25' });
      assert.equal(early.status, 404);
      const proxy = await api.call('GET', '/v2.1/images', { token: member, version: '2.36' });
      assert.equal(proxy.status, 404);
    });

    test('request ids: one per response, a valid incoming one is echoed', async () => {
      const r = await api.call('GET', '/v2.1/flavors', { token: member });
      assert.match(r.headers.get('x-compute-request-id') ?? '', /^req-[0-9a-f-]{36}$/);
      assert.equal(r.headers.get('x-openstack-request-id'), r.headers.get('x-compute-request-id'));
      const mine = 'req-12345678-1234-1234-1234-123456789012';
      const echoed = await api.call('GET', '/v2.1/flavors', { token: member, headers: { 'x-openstack-request-id': mine } });
      assert.equal(echoed.headers.get('x-openstack-request-id'), mine);
    });

    test('bad bodies: malformed JSON, wrong content type, too large, unknown path', async () => {
      const malformed = await api.call('POST', '/v2.1/os-keypairs', { token: member, body: '{"keypair":', version: '2.2' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.badRequest.message, 'Malformed request body');
      const xml = await api.call('POST', '/v2.1/os-keypairs', { token: member, body: '<keypair/>', headers: { 'content-type': 'application/xml' } });
      assert.equal(xml.status, 415);
      assert.equal(xml.body.badMediaType.code, 415);
      const huge = await api.call('POST', '/v2.1/os-keypairs', { token: member, body: { keypair: { name: 'x', public_key: 'a'.repeat(2 * 1024 * 1024) } } });
      assert.equal(huge.status, 413);
      assert.ok(huge.body.overLimit);
      const unknown = await api.call('GET', '/v2.1/no-such-thing', { token: member });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.itemNotFound.message, 'The resource could not be found.');
      assert.equal((await kova.client.list(KEYPAIRS, { namespace: ns })).items.length, 0, 'nothing was created');
    });

    test('/v2.1/{project_id}/… works like /v2.1/… and links keep the prefix', async () => {
      const pid = api.facade.caches.projectIdOf(ns) ?? '';
      const r = await api.call('GET', `/v2.1/${pid}/flavors/1`, { token: member });
      assert.equal(r.status, 200);
      assert.equal(r.body.flavor.links[0].href, `${api.url}/v2.1/${pid}/flavors/1`);
      assert.equal(r.body.flavor.links[1].href, `${api.url}/${pid}/flavors/1`);
      const wrong = await api.call('GET', `/v2.1/${api.facade.caches.projectIdOf(other)}/flavors`, { token: member });
      assert.equal(wrong.status, 400);
    });
  });

  describe('identity', () => {
    test('Keystone password login returns a scoped token and a catalog the CLI can use', async () => {
      const r = await fetch(`${api.url}/identity/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'alice', password: 's3cret', domain: { name: 'Default' } } } }, scope: { project: { name: ns, domain: { name: 'Default' } } } } }),
      });
      assert.equal(r.status, 201);
      const token = r.headers.get('x-subject-token') ?? '';
      const body = (await r.json()) as { token: { project: { name: string }; roles: { name: string }[]; catalog: { type: string; endpoints: { url: string }[] }[] } };
      assert.equal(body.token.project.name, ns);
      assert.deepEqual(body.token.roles.map((x) => x.name).sort(), ['member', 'reader']);
      assert.deepEqual(body.token.catalog.map((x) => x.type).sort(), ['compute', 'identity', 'image', 'network']);
      assert.equal(body.token.catalog.find((x) => x.type === 'compute')?.endpoints[0]?.url, `${api.url}/v2.1`);
      const use = await api.call('GET', '/v2.1/servers', { token });
      assert.equal(use.status, 200);
      const wrong = await fetch(`${api.url}/identity/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'alice', password: 'nope' } } } } }),
      });
      assert.equal(wrong.status, 401);
      const noAccess = await fetch(`${api.url}/identity/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'alice', password: 's3cret' } } }, scope: { project: { name: other } } } }),
      });
      assert.equal(noAccess.status, 401);
    });
  });

  describe('flavors', () => {
    test('list, detail and show follow the microversion (swap "" → 0 at 2.75, description 2.55, extra_specs 2.61, rxtx gone 2.102)', async () => {
      const old = await api.call('GET', '/v2.1/flavors/1', { token: member });
      assert.equal(old.body.flavor.swap, '');
      assert.equal(old.body.flavor.rxtx_factor, 1);
      assert.equal('description' in old.body.flavor, false);
      const v75 = await api.call('GET', '/v2.1/flavors/1', { token: member, version: '2.75' });
      assert.equal(v75.body.flavor.swap, 0);
      assert.deepEqual(v75.body.flavor.extra_specs, {});
      assert.equal(v75.body.flavor.description, null);
      const latest = await api.call('GET', '/v2.1/flavors/1', { token: member, version: 'latest' });
      assert.equal('rxtx_factor' in latest.body.flavor, false);
      assert.equal('OS-FLV-DISABLED:disabled' in latest.body.flavor, false);
      const list = await api.call('GET', '/v2.1/flavors/detail?limit=1', { token: member });
      assert.equal(list.body.flavors.length, 1);
      assert.match(list.body.flavors_links[0].href, /\/v2\.1\/flavors\/detail\?limit=1&marker=/);
      const unknownQuery = await api.call('GET', '/v2.1/flavors?color=red', { token: member, version: '2.102' });
      assert.equal(unknownQuery.status, 400, 'unknown query parameters are refused from 2.102');
      assert.equal((await api.call('GET', '/v2.1/flavors?color=red', { token: member, version: '2.101' })).status, 200);
      const missing = await api.call('GET', '/v2.1/flavors/nope', { token: member });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.itemNotFound.message, 'Flavor nope could not be found.');
    });

    test('admins create, describe, extra-spec and delete flavors; members may not (403, nothing created)', async () => {
      const body = { flavor: { name: 'api.small', ram: 1024, vcpus: 2, disk: 10, id: 'api-small' } };
      const denied = await api.call('POST', '/v2.1/flavors', { token: member, body });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.forbidden.message, "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.");
      const made = await api.call('POST', '/v2.1/flavors', { token: admin, body, version: '2.61' });
      assert.equal(made.status, 200);
      assert.equal(made.body.flavor.id, 'api-small');
      assert.equal(made.body.flavor.ram, 1024);
      const f = await kova.client.get<Flavor>(FLAVORS, 'api.small');
      assert.equal(f.spec.vcpus, 2);
      const dup = await api.call('POST', '/v2.1/flavors', { token: admin, body });
      assert.equal(dup.status, 409);
      const described = await api.call('PUT', '/v2.1/flavors/api-small', { token: admin, version: '2.55', body: { flavor: { description: 'two cores' } } });
      assert.equal(described.body.flavor.description, 'two cores');
      const tooEarly = await api.call('PUT', '/v2.1/flavors/api-small', { token: admin, version: '2.54', body: { flavor: { description: 'x' } } });
      assert.equal(tooEarly.status, 404);
      const specs = await api.call('POST', '/v2.1/flavors/api-small/os-extra_specs', { token: admin, body: { extra_specs: { 'hw:cpu_policy': 'dedicated' } } });
      assert.deepEqual(specs.body.extra_specs, { 'hw:cpu_policy': 'dedicated' });
      const one = await api.call('GET', '/v2.1/flavors/api-small/os-extra_specs/hw:cpu_policy', { token: member });
      assert.deepEqual(one.body, { 'hw:cpu_policy': 'dedicated' });
      assert.equal((await api.call('DELETE', '/v2.1/flavors/api-small/os-extra_specs/hw:cpu_policy', { token: admin })).status, 200);
      assert.equal((await api.call('DELETE', '/v2.1/flavors/api-small', { token: admin })).status, 202);
      assert.equal((await api.call('GET', '/v2.1/flavors/api-small', { token: admin })).status, 404);
    });

    test('invalid flavor bodies give badRequest naming the field', async () => {
      const r = await api.call('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'x', ram: 'lots', vcpus: 1, disk: 1 } } });
      assert.equal(r.status, 400);
      assert.match(r.body.badRequest.message, /^Invalid input for field\/attribute ram\. Value: lots\./);
      const extra = await api.call('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 1, color: 'red' } } });
      assert.equal(extra.body.badRequest.message, "Additional properties are not allowed ('color' was unexpected)");
      const missing = await api.call('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'x', vcpus: 1, disk: 1 } } });
      assert.equal(missing.body.badRequest.message, "'ram' is a required property");
    });

    test('flavor access: a private flavor is visible to the projects it was shared with', async () => {
      const made = await api.call('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'secret.flavor', ram: 256, vcpus: 1, disk: 1, id: 'secret', 'os-flavor-access:is_public': false } } });
      assert.equal(made.status, 200);
      const pid = api.facade.caches.projectIdOf(ns) ?? '';
      const before = await api.call('GET', '/v2.1/flavors', { token: member });
      assert.equal(before.body.flavors.some((f: { id: string }) => f.id === 'secret'), false);
      const added = await api.call('POST', '/v2.1/flavors/secret/action', { token: admin, body: { addTenantAccess: { tenant: pid } } });
      assert.deepEqual(added.body.flavor_access, [{ flavor_id: 'secret', tenant_id: pid }]);
      const after = await api.call('GET', '/v2.1/flavors', { token: member });
      assert.equal(after.body.flavors.some((f: { id: string }) => f.id === 'secret'), true);
      const strangers = await api.call('GET', '/v2.1/flavors', { token: stranger });
      assert.equal(strangers.body.flavors.some((f: { id: string }) => f.id === 'secret'), false);
      await api.call('DELETE', '/v2.1/flavors/secret', { token: admin });
    });
  });

  describe('key pairs', () => {
    test('import (201 from 2.2), list, show, delete (204); duplicates 409; bad keys 400', async () => {
      const made = await api.call('POST', '/v2.1/os-keypairs', { token: member, version: '2.2', body: { keypair: { name: 'my key', public_key: PUBLIC_KEY } } });
      assert.equal(made.status, 201);
      assert.equal(made.body.keypair.fingerprint, '27:4b:35:cf:3a:2f:85:82:1e:94:89:8a:64:98:06:5e');
      assert.equal(made.body.keypair.type, 'ssh');
      assert.equal(made.body.keypair.user_id, 'alice');
      const list = await api.call('GET', '/v2.1/os-keypairs', { token: member, version: '2.2' });
      assert.deepEqual(list.body.keypairs.map((k: { keypair: { name: string } }) => k.keypair.name), ['my key']);
      const bobs = await api.call('GET', '/v2.1/os-keypairs', { token: reader });
      assert.deepEqual(bobs.body.keypairs, [], 'key pairs belong to their user');
      const show = await api.call('GET', '/v2.1/os-keypairs/my%20key', { token: member });
      assert.equal(show.body.keypair.public_key, PUBLIC_KEY);
      const dup = await api.call('POST', '/v2.1/os-keypairs', { token: member, version: '2.2', body: { keypair: { name: 'my key', public_key: PUBLIC_KEY } } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.conflictingRequest.message, "Key pair 'my key' already exists.");
      const bad = await api.call('POST', '/v2.1/os-keypairs', { token: member, version: '2.2', body: { keypair: { name: 'bad', public_key: 'ssh-rsa AAAA' } } });
      assert.equal(bad.status, 400);
      assert.match(bad.body.badRequest.message, /^Keypair data is invalid/);
      const name = await api.call('POST', '/v2.1/os-keypairs', { token: member, version: '2.91', body: { keypair: { name: 'a@b', public_key: PUBLIC_KEY } } });
      assert.equal(name.status, 400, '"@" is allowed only from 2.92');
      const required = await api.call('POST', '/v2.1/os-keypairs', { token: member, version: '2.92', body: { keypair: { name: 'gen' } } });
      assert.equal(required.body.badRequest.message, "'public_key' is a required property");
      assert.equal((await kova.client.list(KEYPAIRS, { namespace: ns })).items.length, 1, 'no half-made key pairs');
      assert.equal((await api.call('DELETE', '/v2.1/os-keypairs/my%20key', { token: member, version: '2.2' })).status, 204);
      assert.equal((await api.call('GET', '/v2.1/os-keypairs/my%20key', { token: member })).status, 404);
    });

    test('before 2.92 a key pair can be generated: the private key is returned once', async () => {
      const r = await api.call('POST', '/v2.1/os-keypairs', { token: member, version: '2.10', body: { keypair: { name: 'generated' } } });
      assert.equal(r.status, 201);
      assert.match(r.body.keypair.private_key, /BEGIN RSA PRIVATE KEY/);
      assert.match(r.body.keypair.public_key, /^ssh-rsa \S+ Generated-by-Nova$/);
      assert.match(r.body.keypair.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
      const show = await api.call('GET', '/v2.1/os-keypairs/generated', { token: member });
      assert.equal('private_key' in show.body.keypair, false);
      await api.call('DELETE', '/v2.1/os-keypairs/generated', { token: member, version: '2.2' });
    });
  });

  describe('servers', () => {
    const create = (token: string, server: Record<string, unknown>, version = '2.37') =>
      api.call('POST', '/v2.1/servers', { token, version, body: { server: { name: 'vm', flavorRef: '1', imageRef: imageId, networks: 'auto', availability_zone: zone, ...server } } });

    test('create → 202 with Location; the next GET sees it; it goes ACTIVE with addresses; the VM and user data Secret exist', async () => {
      const r = await create(member, { name: 'web 1', metadata: { role: 'web' }, user_data: Buffer.from('#cloud-config\n').toString('base64') });
      assert.equal(r.status, 202);
      const id = r.body.server.id as string;
      assert.equal(r.headers.get('location'), `${api.url}/v2.1/servers/${id}`);
      assert.equal(r.body.server.links[0].href, `${api.url}/v2.1/servers/${id}`);
      assert.match(r.body.server.adminPass, /^[2-9A-HJ-NP-Za-km-z]{12}$/, 'Nova\'s generated admin password (enable_instance_password)');
      const first = await api.call('GET', `/v2.1/servers/${id}`, { token: member });
      assert.equal(first.status, 200, 'read-your-writes');
      const active = await eventually('server ACTIVE through the API', async () => {
        const s = await api.call('GET', `/v2.1/servers/${id}`, { token: member, version: '2.47' });
        return s.body.server.status === 'ACTIVE' ? s.body.server : undefined;
      });
      assert.equal(active.name, 'web 1');
      assert.equal(active['OS-EXT-STS:power_state'], 1);
      assert.equal(active['OS-EXT-STS:vm_state'], 'active');
      assert.equal(active['OS-EXT-AZ:availability_zone'], zone);
      assert.match(active.addresses.default[0].addr, /^10\.244\./);
      assert.deepEqual(active.flavor, { vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, original_name: 'm1.tiny', extra_specs: {} });
      assert.equal(active.image.id, imageId);
      assert.equal(active.user_id, 'alice');
      assert.equal(active.tenant_id, api.facade.caches.projectIdOf(ns));
      assert.equal('OS-EXT-SRV-ATTR:host' in active, false, 'admin-only field hidden from members');
      const asAdmin = await api.call('GET', `/v2.1/servers/${id}`, { token: admin });
      assert.ok(asAdmin.body.server['OS-EXT-SRV-ATTR:host']);
      const servers = (await kova.client.list<Server>(SERVERS, { namespace: ns })).items;
      const s = servers.find((x) => x.metadata.uid === id);
      assert.ok(s);
      const vm = await kova.client.get<VirtualMachine>(VIRTUAL_MACHINES, s.metadata.name ?? '', ns);
      const cd = vm.spec.template.spec.volumes?.find((v) => v.cloudInitConfigDrive)?.cloudInitConfigDrive;
      assert.equal(cd?.secretRef?.name, `${s.metadata.name}-user-data`);
      assert.equal(JSON.stringify(s.spec).includes('cloud-config'), false, 'user data is not in the spec');
      const secret = await kova.client.get<Secret>(SECRETS, cd?.secretRef?.name ?? '', ns);
      assert.equal(Buffer.from(secret.data?.userdata ?? '', 'base64').toString(), '#cloud-config\n');
    });

    test('list and detail: paging with servers_links, filters, another project sees nothing, all_tenants is admin-only', async () => {
      for (const n of ['p1', 'p2', 'p3']) assert.equal((await create(member, { name: n })).status, 202);
      const page1 = await api.call('GET', '/v2.1/servers?limit=2', { token: member });
      assert.equal(page1.body.servers.length, 2);
      assert.match(page1.body.servers_links[0].href, /\/v2\.1\/servers\?limit=2&marker=/);
      const marker = new URL(page1.body.servers_links[0].href).searchParams.get('marker');
      const page2 = await api.call('GET', `/v2.1/servers?limit=2&marker=${marker}`, { token: member });
      assert.ok(page2.body.servers.length >= 1);
      assert.equal(page2.body.servers.some((s: { id: string }) => page1.body.servers.some((x: { id: string }) => x.id === s.id)), false);
      const byName = await api.call('GET', '/v2.1/servers/detail?name=^p2$', { token: member });
      assert.deepEqual(byName.body.servers.map((s: { name: string }) => s.name), ['p2']);
      const badMarker = await api.call('GET', '/v2.1/servers?marker=nope', { token: member });
      assert.equal(badMarker.body.badRequest.message, 'marker [nope] not found');
      const badStatus = await api.call('GET', '/v2.1/servers?status=SLEEPING', { token: member, version: '2.38' });
      assert.equal(badStatus.body.badRequest.message, 'Invalid status value');
      const unknown = await api.call('GET', '/v2.1/servers?color=red', { token: member, version: '2.75' });
      assert.equal(unknown.status, 400);
      const ignored = await api.call('GET', '/v2.1/servers?color=red', { token: member, version: '2.74' });
      assert.equal(ignored.status, 200);
      const theirs = await api.call('GET', '/v2.1/servers', { token: stranger });
      assert.deepEqual(theirs.body.servers, []);
      const id = page1.body.servers[0].id as string;
      assert.equal((await api.call('GET', `/v2.1/servers/${id}`, { token: stranger })).status, 404, 'another project: 404, never 403');
      assert.equal((await api.call('GET', '/v2.1/servers?all_tenants=1', { token: member })).status, 403);
      const all = await api.call('GET', '/v2.1/servers?all_tenants=1', { token: admin });
      assert.ok(all.body.servers.length >= 4);
    });

    test('RBAC decides writes: a reader may list but not create', async () => {
      assert.equal((await api.call('GET', '/v2.1/servers', { token: reader })).status, 200);
      const before = (await kova.client.list(SERVERS, { namespace: ns })).items.length;
      const r = await create(reader, { name: 'nope' });
      assert.equal(r.status, 403);
      assert.ok(r.body.forbidden);
      assert.equal((await kova.client.list(SERVERS, { namespace: ns })).items.length, before);
    });

    test('bad create requests give Nova\'s 400 and create nothing', async () => {
      const before = (await kova.client.list(SERVERS, { namespace: ns })).items.length;
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ flavorRef: '999' }, '2.37', /^Flavor 999 could not be found\.$/],
        [{ imageRef: '00000000-0000-0000-0000-000000000000' }, '2.37', /^Can not find requested image$/],
        [{ imageRef: 'not-a-uuid' }, '2.37', /imageRef/],
        [{ key_name: 'missing' }, '2.37', /^Invalid key_name provided\.$/],
        [{ networks: undefined }, '2.37', /'networks' is a required property/],
        [{ color: 'red' }, '2.37', /Additional properties are not allowed \('color' was unexpected\)/],
        [{ min_count: 3, max_count: 2 }, '2.37', /^min_count must be <= max_count$/],
        [{ name: '' }, '2.37', /name/],
        [{ tags: ['a/b'] }, '2.52', /tags/],
        [{ hostname: 'bad_host' }, '2.90', /hostname/],
        [{ personality: [] }, '2.57', /personality/],
        [{ user_data: 'not base64!' }, '2.37', /user_data/],
      ];
      for (const [server, version, message] of cases) {
        const r = await create(member, server, version);
        assert.equal(r.status, 400, `${JSON.stringify(server)} → ${JSON.stringify(r.body)}`);
        assert.match(r.body.badRequest.message, message);
      }
      const forced = await create(member, { host: 'somewhere' }, '2.74');
      assert.equal(forced.status, 403, 'requested destination is admin-only');
      assert.equal((await kova.client.list(SERVERS, { namespace: ns })).items.length, before);
    });

    test('boot from an image volume: block_device_mapping_v2 volume_size sizes the root disk', async () => {
      const r = await create(member, { name: 'bfv', imageRef: undefined, block_device_mapping_v2: [{ boot_index: 0, uuid: imageId, source_type: 'image', destination_type: 'volume', volume_size: 7 }] });
      assert.equal(r.status, 202);
      const s = (await kova.client.list<Server>(SERVERS, { namespace: ns })).items.find((x) => x.metadata.uid === r.body.server.id);
      const vm = await eventually('its VM', () => kova.client.find<VirtualMachine>(VIRTUAL_MACHINES, s?.metadata.name ?? '', ns));
      assert.equal(vm.spec.dataVolumeTemplates?.[0]?.spec.storage?.resources?.requests?.storage, '7Gi');
      const two = await create(member, { name: 'bfv2', block_device_mapping_v2: [{ boot_index: 0, uuid: imageId, source_type: 'image', destination_type: 'volume' }, { source_type: 'blank', destination_type: 'volume', volume_size: 1 }] });
      assert.equal(two.status, 400);
    });

    test('multi-create with reservation ids', async () => {
      const r = await create(member, { name: 'batch', min_count: 2, max_count: 2, return_reservation_id: true });
      assert.equal(r.status, 202);
      assert.match(r.body.reservation_id, /^r-[0-9a-f]{8}$/);
      const list = await api.call('GET', `/v2.1/servers?reservation_id=${r.body.reservation_id}`, { token: member });
      assert.deepEqual(list.body.servers.map((s: { name: string }) => s.name).sort(), ['batch-1', 'batch-2']);
    });

    test('actions: os-stop / os-start obey Nova\'s state rules; a lock refuses non-admins', async () => {
      const made = await create(member, { name: 'actions' });
      const id = made.body.server.id as string;
      const act = (token: string, body: unknown, version?: string) => api.call('POST', `/v2.1/servers/${id}/action`, { token, body, version });
      const status = async (want: string) => eventually(`server ${want}`, async () => {
        const s = (await api.call('GET', `/v2.1/servers/${id}`, { token: member, version: '2.73' })).body.server;
        return s.status === want && s['OS-EXT-STS:task_state'] === null ? s : undefined;
      });
      await status('ACTIVE');
      const early = await act(member, { 'os-start': null });
      assert.equal(early.status, 409);
      assert.equal(early.body.conflictingRequest.message, `Cannot 'os-start' instance ${id} while it is in vm_state active`);
      assert.equal((await act(member, { 'os-stop': null })).status, 202);
      const off = await status('SHUTOFF');
      assert.equal(off['OS-EXT-STS:power_state'], 4);
      assert.equal((await act(member, { 'os-stop': null })).status, 409);
      assert.equal((await act(member, { 'os-start': null })).status, 202);
      await status('ACTIVE');

      assert.equal((await act(member, { lock: { locked_reason: 'change freeze' } }, '2.73')).status, 202);
      const locked = await status('ACTIVE');
      assert.deepEqual([locked.locked, locked.locked_reason], [true, 'change freeze']);
      const refused = await act(member, { 'os-stop': null });
      assert.equal(refused.status, 409);
      assert.equal(refused.body.conflictingRequest.message, `Instance ${id} is locked`);
      assert.equal((await api.call('POST', `/v2.1/servers/${id}/metadata`, { token: member, body: { metadata: { a: 'b' } } })).status, 409);
      assert.equal((await act(admin, { 'os-stop': null })).status, 202, 'an admin overrides the lock');
      await status('SHUTOFF');
      assert.equal((await act(member, { unlock: null })).status, 202);
      assert.equal((await act(admin, { lock: null })).status, 202);
      assert.equal((await act(member, { unlock: null })).status, 403, "only an admin lifts an admin's lock");
      assert.equal((await act(admin, { unlock: null })).status, 202);

      // What was asked, newest first, with the compute events finished once the server got there.
      const actions = await eventually('instance actions recorded', async () => {
        const l = (await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: member, version: '2.58' })).body.instanceActions;
        return l.length >= 8 ? l : undefined;
      });
      assert.deepEqual(actions.map((a: { action: string }) => a.action).slice(-4), ['lock', 'start', 'stop', 'create']);
      assert.equal(actions.at(-1).user_id, 'alice');
      const stop = actions.find((a: { action: string }) => a.action === 'stop');
      const detail = await api.call('GET', `/v2.1/servers/${id}/os-instance-actions/${stop.request_id}`, { token: member, version: '2.84' });
      const ev = detail.body.instanceAction.events[0];
      assert.deepEqual([ev.event, ev.result], ['compute_stop_instance', 'Success']);
      assert.ok(ev.finish_time);
      assert.equal('host' in ev, false, 'the event host is admin-only');
      const paged = await api.call('GET', `/v2.1/servers/${id}/os-instance-actions?limit=2`, { token: member, version: '2.58' });
      assert.equal(paged.body.instanceActions.length, 2);
      assert.match(paged.body.links[0].href, /os-instance-actions\?limit=2&marker=req-/);
      assert.equal((await api.call('GET', `/v2.1/servers/${id}/os-instance-actions/req-nope`, { token: member })).status, 404);

      assert.equal((await act(member, { frobnicate: null })).body.badRequest.message, 'There is no such action: frobnicate');
      assert.equal((await act(member, { resize: { flavorRef: '1' } })).body.badRequest.message, 'When resizing, instances must change flavor!');
      assert.equal((await act(stranger, { 'os-start': null })).status, 404);
    });

    test('reboot: a request acted on once; the VMI is replaced and the server goes HARD_REBOOT → ACTIVE', async () => {
      const made = await create(member, { name: 'reboots' });
      const id = made.body.server.id as string;
      const s = await eventually('ACTIVE', async () => {
        const x = (await kova.client.list<Server>(SERVERS, { namespace: ns })).items.find((y) => y.metadata.uid === id);
        return x?.status?.status === 'ACTIVE' ? x : undefined;
      });
      const name = s.metadata.name ?? '';
      const before = await kova.client.get<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, name, ns);
      assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: member, body: { reboot: { type: 'sideways' } } })).status, 400);
      const r = await api.call('POST', `/v2.1/servers/${id}/action`, { token: member, body: { reboot: { type: 'hard' } } });
      assert.equal(r.status, 202);
      const after = await eventually('a new VMI running and the server ACTIVE', async () => {
        const x = await kova.client.get<Server>(SERVERS, name, ns);
        const vmi = await kova.client.find<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, name, ns);
        return x.status?.status === 'ACTIVE' && !x.status.taskState && vmi && vmi.metadata.uid !== before.metadata.uid && vmi.status?.phase === 'Running' ? x : undefined;
      }, 30_000);
      await wentThrough(kova.client, ns, name, /^HARD_REBOOT\/rebooting_hard$/);
      assert.equal(after.status?.handledRequests?.reboot, r.headers.get('x-openstack-request-id'));
      // Acted on once: nothing more happens for the same request id.
      const vmiNow = await kova.client.get<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, name, ns);
      await new Promise((res) => setTimeout(res, 500));
      assert.equal((await kova.client.get<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, name, ns)).metadata.uid, vmiNow.metadata.uid);
    });

    test('pause / unpause go through KubeVirt\'s subresource API behind the kube-apiserver', async () => {
      const made = await create(member, { name: 'pauses' });
      const id = made.body.server.id as string;
      const act = (body: unknown) => api.call('POST', `/v2.1/servers/${id}/action`, { token: member, body });
      const settled = (want: string) => eventually(`server ${want}`, async () => {
        const x = (await api.call('GET', `/v2.1/servers/${id}`, { token: member })).body.server;
        return x.status === want && x['OS-EXT-STS:task_state'] === null ? x : undefined;
      });
      await settled('ACTIVE');
      assert.equal((await act({ unpause: null })).status, 409, 'not paused');
      assert.equal((await act({ pause: null })).status, 202);
      const paused = await settled('PAUSED');
      assert.equal(paused['OS-EXT-STS:power_state'], 3);
      const s = (await kova.client.list<Server>(SERVERS, { namespace: ns })).items.find((x) => x.metadata.uid === id);
      const vmi = await kova.client.get<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, s?.metadata.name ?? '', ns);
      assert.equal(vmi.status?.conditions?.find((c) => c.type === 'Paused')?.reason, 'PausedByUser', 'paused through the subresource');
      assert.equal((await act({ 'os-stop': null })).status, 409, 'Nova does not stop a paused server');
      assert.equal((await act({ unpause: null })).status, 202);
      await settled('ACTIVE');
      // Suspend is a pause shown as Nova's SUSPENDED (docs/adr/010).
      assert.equal((await act({ resume: null })).status, 409);
      assert.equal((await act({ suspend: null })).status, 202);
      const suspended = await settled('SUSPENDED');
      assert.deepEqual([suspended['OS-EXT-STS:vm_state'], suspended['OS-EXT-STS:power_state']], ['suspended', 7]);
      assert.equal((await act({ unpause: null })).status, 409, 'a suspended server is resumed, not unpaused');
      assert.equal((await act({ resume: null })).status, 202);
      await settled('ACTIVE');
      // The subresource is authorized by RBAC for the caller: a reader may not pause.
      const asReader = kova.client.as('bob');
      const denied = await asReader.request('PUT', `/apis/subresources.kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances/${s?.metadata.name}/pause`, { body: {} }).then(() => 200, (e: { code?: number }) => e.code);
      assert.equal(denied, 403);
    });

    test('update, metadata, tags, ips and delete', async () => {
      const made = await create(member, { name: 'edit me' }, '2.52');
      const id = made.body.server.id as string;
      await eventually('ACTIVE', async () => (await api.call('GET', `/v2.1/servers/${id}`, { token: member })).body.server.status === 'ACTIVE');
      const upd = await api.call('PUT', `/v2.1/servers/${id}`, { token: member, version: '2.19', body: { server: { name: 'edited', description: 'hello' } } });
      assert.equal(upd.body.server.name, 'edited');
      assert.equal(upd.body.server.description, 'hello');
      const md = await api.call('POST', `/v2.1/servers/${id}/metadata`, { token: member, body: { metadata: { a: '1', b: '2' } } });
      assert.deepEqual(md.body.metadata, { a: '1', b: '2' });
      const replaced = await api.call('PUT', `/v2.1/servers/${id}/metadata`, { token: member, body: { metadata: { c: '3' } } });
      assert.deepEqual(replaced.body.metadata, { c: '3' });
      assert.deepEqual((await api.call('GET', `/v2.1/servers/${id}/metadata/c`, { token: member })).body, { meta: { c: '3' } });
      assert.equal((await api.call('DELETE', `/v2.1/servers/${id}/metadata/c`, { token: member })).status, 204);
      assert.equal((await api.call('GET', `/v2.1/servers/${id}/metadata/c`, { token: member })).status, 404);
      const tag = await api.call('PUT', `/v2.1/servers/${id}/tags/blue`, { token: member, version: '2.26' });
      assert.equal(tag.status, 201);
      assert.equal((await api.call('PUT', `/v2.1/servers/${id}/tags/blue`, { token: member, version: '2.26' })).status, 204);
      assert.deepEqual((await api.call('GET', `/v2.1/servers/${id}/tags`, { token: member, version: '2.26' })).body, { tags: ['blue'] });
      const tagged = await api.call('GET', '/v2.1/servers?tags=blue', { token: member, version: '2.26' });
      assert.deepEqual(tagged.body.servers.map((s: { id: string }) => s.id), [id]);
      const ips = await api.call('GET', `/v2.1/servers/${id}/ips`, { token: member });
      assert.match(ips.body.addresses.default[0].addr, /^10\.244\./);
      assert.equal((await api.call('DELETE', `/v2.1/servers/${id}`, { token: stranger })).status, 404);
      assert.equal((await api.call('DELETE', `/v2.1/servers/${id}`, { token: member })).status, 204);
      await eventually('server gone', async () => (await api.call('GET', `/v2.1/servers/${id}`, { token: member })).status === 404, 30_000);
    });
  });

  describe('images', () => {
    test('Glance v2 lists the DataSources; Nova\'s image proxy serves them up to 2.35', async () => {
      const glance = await fetch(`${api.url}/image/v2/images?name=cirros-0.6.3`, { headers: { 'x-auth-token': member } });
      const g = (await glance.json()) as { images: { id: string; name: string; status: string }[] };
      assert.deepEqual(g.images.map((i) => [i.id, i.name, i.status]), [[imageId, 'cirros-0.6.3', 'active']]);
      assert.equal((await fetch(`${api.url}/image/v2/images`)).status, 401);
      const nova = await api.call('GET', `/v2.1/images/${imageId}`, { token: member, version: '2.35' });
      assert.equal(nova.body.image.name, 'cirros-0.6.3');
      assert.equal(nova.body.image.status, 'ACTIVE');
    });
  });
});
