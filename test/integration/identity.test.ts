// Keystone v3 against the real control plane (docs/adr/021): application credentials (raw HTTP for
// shapes and refusals, the stock openstack CLI for the flows, a v3applicationcredential clouds.yaml
// running `server list`), projects and role assignments from RBAC, and token revocation honoured by
// a second API replica. Cross-project: a token of project A never reaches project B.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { PROJECT_LABEL } from '../../src/api/labels.ts';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { hashSecret } from '../../src/identity/store.ts';
import { NAMESPACES, ROLE_BINDING_TYPE, SECRETS, type KubeObject, type Namespace, type Secret } from '../../src/kube/types.ts';
import { ensureImage, ensureProject } from '../../src/sim/seed.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { createServer, ensureFlavor, uniq } from '../support/fixtures.ts';
import { grant } from '../support/people.ts';
import { recordSecret } from '../support/secrets.ts';
import { eventually } from '../support/waiting.ts';
import { writeAuthenticationConfig } from '../../src/controlplane/controlplane.ts';
import { TestIssuer } from '../support/oidc.ts';
import { openstackCli } from './openstack-cli.ts';

const exec = promisify(execFile);
const KEY = Buffer.alloc(32, 7);
type RoleBinding = KubeObject & { roleRef: { name: string }; subjects?: { name: string }[] };

describe('Keystone: application credentials, projects, revocation', () => {
  let kova: Kova;
  let api: Api;
  let api2: Api;
  let osc: string;
  let dir: string;
  let a: string;
  let b: string;
  let aId: string;
  let bId: string;
  const alice = uniq('alice');
  const bob = uniq('bob');
  const root = uniq('root');
  const eve = uniq('eve');
  const erin = uniq('erin');
  const STATIC_USERS = uniq('static-users');
  const passwords = new PasswordUsers();

  before(async () => {
    osc = await openstackCli();
    dir = mkdtempSync(join(tmpdir(), 'kova-identity-'));
    kova = await startKova({ controller: false });
    await kova.client.apply(NAMESPACES, { metadata: { name: 'kova-system' } });
    a = uniq('proj-a');
    b = uniq('proj-b');
    await ensureProject(kova.client, a);
    await ensureProject(kova.client, b);
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureImage(kova.client, 'kova-images', 'cirros');
    for (const u of [alice, bob, root, eve]) passwords.add(u, `${u}-pw`);
    // The final secrets scan looks for these everywhere but in Secrets.
    for (const x of ['sup3r-s3cret-value', 'dave-pw-1', `${erin}-pw`]) recordSecret(x);
    api = await startApi(kova, { passwords, tokenKey: KEY });
    await kova.client.apply(SECRETS, { metadata: { name: STATIC_USERS, namespace: 'kova-system' }, stringData: { [erin]: await hashSecret(`${erin}-pw`) } } as Secret);
    api2 = await startApi(kova, { tokenKey: KEY, staticUsersSecret: STATIC_USERS });
    await grant(kova.client, alice, 'kova-member', a);
    await grant(kova.client, bob, 'kova-reader', a);
    await grant(kova.client, root, 'kova-admin');
    await grant(kova.client, eve, 'kova-member', b);
    await grant(kova.client, `kova:${erin}`, 'kova-reader', b);
    await createServer(kova.client, a, 'vm-a');
    await createServer(kova.client, b, 'vm-b');
    await eventually('both projects and servers in the caches', async () =>
      [api, api2].every((x) => x.facade.caches.projectByIdOrName(a) && x.facade.caches.projectByIdOrName(b) && x.facade.caches.servers.list().length >= 2));
    aId = api.facade.caches.projectByIdOrName(a)!.id;
    bId = api.facade.caches.projectByIdOrName(b)!.id;
  });
  after(async () => {
    await api2?.stop();
    await api?.stop();
    await kova?.stop();
  });

  /** A password login of `user`, scoped to `project` unless null: the token and its body. */
  const login = async (user: string, project: string | null = a, on = api) => {
    const r = await on.call('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password: `${user}-pw` } } }, ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}) } },
    });
    return { status: r.status, token: r.headers.get('x-subject-token') ?? '', body: r.body };
  };
  const appCredLogin = (auth: unknown, on = api) => on.call('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: auth } } } });
  const creds = (user: string) => `/identity/v3/users/${encodeURIComponent(user)}/application_credentials`;
  const serverNames = async (token: string, on = api) => {
    const r = await on.call('GET', '/v2.1/servers', { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.servers.map((s: { name: string }) => s.name).sort();
  };

  // The stock CLI with a clouds.yaml of its own.
  const cli = async (cloud: Record<string, unknown>, ...args: string[]): Promise<string> => {
    const file = join(dir, `${uniq('clouds')}.yaml`);
    const { auth_type: authType, ...auth } = cloud;
    writeFileSync(file, stringify({ clouds: { t: { auth: { auth_url: `${api.url}/identity/v3`, ...auth }, region_name: 'RegionOne', identity_api_version: 3, interface: 'public', ...(authType ? { auth_type: authType } : {}) } } }), { mode: 0o600 });
    try {
      const { stdout } = await exec(osc, args, { env: { ...process.env, OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: 't' }, timeout: 120_000 });
      return stdout;
    } catch (e) {
      throw new Error(`openstack ${args.join(' ')} failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
    }
  };
  const passwordCloud = (user: string, project = a) => ({ username: user, password: `${user}-pw`, project_name: project, user_domain_name: 'Default', project_domain_name: 'Default' });
  const cliJson = async <T = any>(cloud: Record<string, unknown>, ...args: string[]): Promise<T> => JSON.parse(await cli(cloud, ...args, '-f', 'json')) as T;

  describe('application credentials (HTTP)', () => {
    test('create shows the secret once; list and show never; the stored Secret holds only an scrypt hash', async () => {
      const { token } = await login(alice);
      const made = await api.call('POST', creds(alice), { token, body: { application_credential: { name: 'ci', description: 'for CI', secret: 'sup3r-s3cret-value' } } });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const c = made.body.application_credential;
      assert.deepEqual(Object.keys(c).sort(), ['access_rules', 'description', 'expires_at', 'id', 'links', 'name', 'project_id', 'roles', 'secret', 'system', 'unrestricted', 'user_id']);
      assert.deepEqual([c.name, c.secret, c.project_id, c.unrestricted, c.expires_at], ['ci', 'sup3r-s3cret-value', aId, false, null]);
      assert.deepEqual(c.roles.map((r: { name: string }) => r.name), ['member', 'reader'], 'all the creating token\'s roles');
      const list = await api.call('GET', creds(alice), { token });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.application_credentials.map((x: { id: string; secret?: string }) => [x.id, x.secret]), [[c.id, undefined]]);
      const one = await api.call('GET', `${creds(alice)}/${c.id}`, { token });
      assert.equal(one.status, 200);
      assert.equal(one.body.application_credential.secret, undefined);
      // Nowhere in Kubernetes is the secret readable: only a salted scrypt hash.
      const stored = (await kova.client.list<Secret>(SECRETS, { namespace: 'kova-system', labelSelector: 'identity.kova.io/kind=application-credential' })).items;
      const mine = stored.filter((s) => Buffer.from(s.data?.id ?? '', 'base64').toString() === c.id);
      assert.equal(mine.length, 1);
      const everything = JSON.stringify(stored.map((s) => [s.metadata, Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString())]));
      assert.ok(!everything.includes('sup3r-s3cret-value'));
      assert.match(Buffer.from(mine[0]!.data!.hash!, 'base64').toString(), /^scrypt\$/);

      const dup = await api.call('POST', creds(alice), { token, body: { application_credential: { name: 'ci' } } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.title, 'Conflict');
    });

    test('authenticating by id or by name + user gives a token of the credential\'s project and roles; refusals are Keystone\'s', async () => {
      const { token } = await login(alice);
      const made = (await api.call('POST', creds(alice), { token, body: { application_credential: { name: 'login', roles: [{ name: 'reader' }] } } })).body.application_credential;
      assert.ok(made.secret.length >= 64, 'a generated secret');
      recordSecret(made.secret);
      assert.deepEqual(made.roles.map((r: { name: string }) => r.name), ['reader']);
      const byId = await appCredLogin({ id: made.id, secret: made.secret });
      assert.equal(byId.status, 201, JSON.stringify(byId.body));
      const t = byId.body.token;
      assert.deepEqual([t.methods, t.user.id, t.project.id, t.roles.map((r: { name: string }) => r.name)], [['application_credential'], alice, aId, ['reader']]);
      assert.deepEqual(t.application_credential, { id: made.id, name: 'login', restricted: true });
      const readerToken = byId.headers.get('x-subject-token')!;
      assert.deepEqual(await serverNames(readerToken), ['vm-a']);
      // The credential's roles bound the token: a reader credential does not create servers.
      const create = await api.call('POST', '/v2.1/servers', { token: readerToken, body: { server: { name: 'x', flavorRef: '1', imageRef: 'cirros' } } });
      assert.equal(create.status, 403);
      const byName = await appCredLogin({ name: 'login', user: { name: alice, domain: { id: 'default' } }, secret: made.secret });
      assert.equal(byName.status, 201);
      const wrong = await appCredLogin({ id: made.id, secret: 'nope' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.title, 'Unauthorized');
      assert.match(wrong.headers.get('www-authenticate') ?? '', /^Keystone uri="/);
      assert.equal((await appCredLogin({ name: 'login', secret: made.secret })).status, 400, 'by name needs the user');
      assert.equal((await appCredLogin({ secret: made.secret })).status, 400);
      const scoped = await api.call('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: made.id, secret: made.secret } }, scope: { project: { id: bId } } } } });
      assert.equal(scoped.status, 401);
      // A restricted credential's token manages no credentials.
      assert.equal((await api.call('POST', creds(alice), { token: readerToken, body: { application_credential: { name: 'more' } } })).status, 403);
      assert.equal((await api.call('DELETE', `${creds(alice)}/${made.id}`, { token: readerToken })).status, 403);
      // Deleting the credential kills its tokens, on every replica.
      assert.equal((await api.call('DELETE', `${creds(alice)}/${made.id}`, { token })).status, 204);
      assert.equal((await api.call('GET', `${creds(alice)}/${made.id}`, { token })).status, 404);
      await eventually('replica 2 to forget the credential', async () => (await api2.call('GET', '/v2.1/servers', { token: readerToken })).status === 401);
      assert.equal((await api.call('GET', '/v2.1/servers', { token: readerToken })).status, 401);
      assert.equal((await appCredLogin({ id: made.id, secret: made.secret })).status, 401);
    });

    test('roles beyond the creator\'s, other users, unscoped tokens and past expiry are refused; expiry bounds the token', async () => {
      const { token } = await login(alice);
      const tooMuch = await api.call('POST', creds(alice), { token, body: { application_credential: { name: 'root', roles: [{ name: 'admin' }] } } });
      assert.equal(tooMuch.status, 400);
      assert.match(tooMuch.body.error.message, /unassigned role/);
      assert.equal((await api.call('POST', creds(bob), { token, body: { application_credential: { name: 'x' } } })).status, 403);
      assert.equal((await api.call('GET', creds(bob), { token })).status, 403);
      const unscoped = (await login(alice, null)).token;
      assert.equal((await api.call('POST', creds(alice), { token: unscoped, body: { application_credential: { name: 'x' } } })).status, 403);
      assert.equal((await api.call('POST', creds(alice), { token, body: { application_credential: { name: 'old', expires_at: '2001-01-01T00:00:00' } } })).status, 400);
      assert.equal((await api.call('POST', creds(alice), { token, body: { application_credential: {} } })).status, 400);
      assert.equal((await api.call('POST', creds(alice), { body: { application_credential: { name: 'x' } } })).status, 401);
      const soon = new Date(Date.now() + 600_000).toISOString().slice(0, 19);
      const made = await api.call('POST', creds(alice), { token, body: { application_credential: { name: 'short', expires_at: soon, unrestricted: true } } });
      assert.equal(made.status, 201);
      assert.equal(made.body.application_credential.expires_at, `${soon}.000000`);
      const t = await appCredLogin({ id: made.body.application_credential.id, secret: made.body.application_credential.secret });
      assert.ok(Date.parse(t.body.token.expires_at) <= Date.parse(`${soon}Z`), 'the token does not outlive its credential');
      // An unrestricted credential's token may make another.
      const more = await api.call('POST', creds(alice), { token: t.headers.get('x-subject-token')!, body: { application_credential: { name: 'child' } } });
      assert.equal(more.status, 201);
    });
  });

  describe('the openstack CLI', () => {
    test('application credential create / list / delete, and a v3applicationcredential clouds.yaml runs server list', async () => {
      const me = passwordCloud(alice);
      const shown = await cliJson<{ ID: string; Secret: string; Name: string; 'Project ID': string; Roles: { name: string }[] }>(me, 'application', 'credential', 'create', '--description', 'cli', 'cli-cred');
      assert.deepEqual([shown.Name, shown['Project ID'], shown.Roles.map((r) => r.name)], ['cli-cred', aId, ['member', 'reader']]);
      const made = { id: shown.ID, secret: shown.Secret };
      recordSecret(made.secret);
      const list = await cliJson<{ ID: string; Name: string }[]>(me, 'application', 'credential', 'list');
      assert.ok(list.some((c) => c.ID === made.id && c.Name === 'cli-cred'));
      const cred = { auth_type: 'v3applicationcredential', application_credential_id: made.id, application_credential_secret: made.secret };
      const servers = await cliJson<{ Name: string }[]>(cred, 'server', 'list');
      assert.deepEqual(servers.map((s) => s.Name), ['vm-a'], 'project A\'s servers only');
      const byName = { auth_type: 'v3applicationcredential', application_credential_name: 'cli-cred', username: alice, user_domain_name: 'Default', application_credential_secret: made.secret };
      assert.deepEqual((await cliJson<{ Name: string }[]>(byName, 'server', 'list')).map((s) => s.Name), ['vm-a']);
      await cli(me, 'application', 'credential', 'delete', 'cli-cred');
      await assert.rejects(cli(cred, 'server', 'list'), /401|authenticat/i);
    });

    test('project list (a member falls back to their own), project create / show / delete as admin', async () => {
      const mine = await cliJson<{ ID: string; Name: string }[]>(passwordCloud(alice), 'project', 'list');
      assert.deepEqual(mine.map((p) => [p.ID, p.Name]), [[aId, a]]);
      const admin = passwordCloud(root);
      const name = uniq('made');
      const made = await cliJson<{ id: string; name: string; domain_id: string }>(admin, 'project', 'create', '--description', 'via keystone', name);
      assert.deepEqual([made.name, made.domain_id], [name, 'default']);
      const ns = await kova.client.get<Namespace>(NAMESPACES, name);
      assert.equal(ns.metadata.labels?.[PROJECT_LABEL], made.id);
      const all = await cliJson<{ Name: string }[]>(admin, 'project', 'list');
      assert.ok([a, b, name].every((n) => all.some((p) => p.Name === n)));
      assert.equal((await cliJson<{ id: string }>(admin, 'project', 'show', name)).id, made.id);
      await cli(admin, 'project', 'set', '--description', 'changed', name);
      assert.equal((await cliJson<{ description: string }>(admin, 'project', 'show', name)).description, 'changed');
      await assert.rejects(cli(admin, 'project', 'set', '--disable', name), /cannot be disabled/);
      await cli(admin, 'project', 'delete', name);
      await eventually('the namespace to go', async () => (await kova.client.find<Namespace>(NAMESPACES, name))?.status?.phase === 'Terminating' || !(await kova.client.find(NAMESPACES, name)));
      await assert.rejects(cli(passwordCloud(alice), 'project', 'create', uniq('nope')), /403|not authorized/i);
    });

    test('token revoke', async () => {
      const { token } = await login(alice);
      await cli(passwordCloud(alice), 'token', 'revoke', token);
      assert.equal((await api.call('GET', '/v2.1/servers', { token })).status, 401);
    });
  });

  describe('static users', () => {
    test('an admin makes a password user (openstack user create / list / delete); it logs in as kova:<name>; its tokens die with it', async () => {
      const admin = passwordCloud(root);
      const dave = uniq('dave');
      const made = await cliJson<{ id: string; name: string; domain_id: string }>(admin, 'user', 'create', '--password', 'dave-pw-1', '--email', 'dave@example.com', dave);
      assert.deepEqual([made.id, made.name, made.domain_id], [`kova:${dave}`, dave, 'default']);
      const stored = JSON.stringify((await kova.client.list<Secret>(SECRETS, { namespace: 'kova-system', labelSelector: 'identity.kova.io/kind=user' })).items.map((x) => Object.values(x.data ?? {}).map((v) => Buffer.from(v, 'base64').toString())));
      assert.ok(stored.includes(dave) && !stored.includes('dave-pw-1'), 'only a hash of the password is stored');
      assert.ok((await cliJson<{ Name: string }[]>(admin, 'user', 'list')).some((u) => u.Name === dave));
      // Granting a role is a RoleBinding, made as the admin.
      await cli(admin, 'role', 'add', '--project', a, '--user', dave, 'member');
      const bindings = (await kova.client.list<RoleBinding>(ROLE_BINDING_TYPE, { namespace: a })).items.filter((x) => x.subjects?.some((su) => su.name === `kova:${dave}`));
      assert.deepEqual(bindings.map((x) => x.roleRef.name), ['kova-member']);
      const assigned = await cliJson<{ Role: string; Project: string }[]>(admin, 'role', 'assignment', 'list', '--user', dave, '--project', a, '--names');
      assert.deepEqual(assigned.map((x) => x.Role).sort(), ['member', 'reader']);
      // Only an admin grants (the CLI reports no failure here: openstacksdk ignores the status of a grant).
      const byMember = await api.call('PUT', `/identity/v3/projects/${aId}/users/kova:${dave}/roles/reader`, { token: (await login(alice)).token });
      assert.equal(byMember.status, 403);
      assert.equal((await api.call('PUT', `/identity/v3/projects/${aId}/users/kova:${dave}/roles/admin`, { token: (await login(root)).token })).status, 400, 'admin is cluster-wide');
      const cloud = { username: dave, password: 'dave-pw-1', project_name: a, user_domain_name: 'Default', project_domain_name: 'Default' };
      assert.deepEqual((await cliJson<{ Name: string }[]>(cloud, 'server', 'list')).map((x) => x.Name), ['vm-a']);
      await cli(admin, 'role', 'remove', '--project', a, '--user', dave, 'member');
      assert.equal((await kova.client.list<RoleBinding>(ROLE_BINDING_TYPE, { namespace: a })).items.filter((x) => x.subjects?.some((su) => su.name === `kova:${dave}`)).length, 0);
      await grant(kova.client, `kova:${dave}`, 'kova-member', a);
      const r = await api.call('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: dave, domain: { id: 'default' }, password: 'dave-pw-1' } } }, scope: { project: { id: aId } } } } });
      assert.equal(r.status, 201);
      assert.equal(r.body.token.user.id, `kova:${dave}`);
      const token = r.headers.get('x-subject-token')!;
      const dup = await api.call('POST', '/identity/v3/users', { token: (await login(root)).token, body: { user: { name: dave, password: 'x' } } });
      assert.equal(dup.status, 409);
      assert.equal((await api.call('POST', '/identity/v3/users', { token, body: { user: { name: uniq('x'), password: 'x' } } })).status, 403, 'a member makes no users');
      await cli(admin, 'user', 'delete', dave);
      await eventually('replica 2 to see the user gone', async () => (await api2.call('GET', '/v2.1/servers', { token })).status === 401);
      assert.equal((await api.call('GET', '/v2.1/servers', { token })).status, 401);
      assert.equal((await login(dave)).status, 401);
    });

    test('the install\'s static users Secret (name → scrypt hash) logs its users in', async () => {
      const r = await api2.call('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: erin, domain: { id: 'default' }, password: `${erin}-pw` } } }, scope: { project: { name: b, domain: { id: 'default' } } } } } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.token.user.id, `kova:${erin}`);
      assert.deepEqual(r.body.token.roles.map((x: { name: string }) => x.name), ['reader']);
      assert.deepEqual(await serverNames(r.headers.get('x-subject-token')!, api2), ['vm-b']);
      const wrong = await api2.call('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'], password: { user: { name: erin, password: 'nope' } } } } } });
      assert.equal(wrong.status, 401);
      const rootToken = (await login(root)).token;
      assert.equal((await api2.call('DELETE', `/identity/v3/users/kova:${erin}`, { token: rootToken })).status, 403, 'changed in the Secret, not through Keystone');
    });
  });

  describe('projects, users, roles (HTTP)', () => {
    test('auth/projects lists only the caller\'s; /v3/projects is the admin\'s; a project token never reaches another project', async () => {
      const { token } = await login(alice);
      const mine = await api.call('GET', '/identity/v3/auth/projects', { token });
      assert.equal(mine.status, 200);
      assert.deepEqual(mine.body.projects.map((p: { id: string; name: string; domain_id: string }) => [p.id, p.name, p.domain_id]), [[aId, a, 'default']]);
      assert.equal((await api.call('GET', '/identity/v3/projects', { token })).status, 403);
      assert.equal((await api.call('GET', `/identity/v3/projects/${bId}`, { token })).status, 403);
      assert.equal((await api.call('GET', `/identity/v3/projects/${aId}`, { token })).body.project.name, a);
      // Scoping to B, or naming B in the URL, fails; B's servers are never listed.
      assert.equal((await login(alice, b)).status, 401);
      const rescope = await api.call('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: token } }, scope: { project: { id: bId } } } } });
      assert.equal(rescope.status, 401);
      assert.equal((await api.call('GET', `/v2.1/${bId}/servers`, { token })).status, 400);
      assert.deepEqual(await serverNames(token), ['vm-a']);
      assert.deepEqual(await serverNames((await login(eve, b)).token), ['vm-b']);
      const rootToken = (await login(root)).token;
      const all = await api.call('GET', `/identity/v3/projects?name=${b}`, { token: rootToken });
      assert.deepEqual(all.body.projects.map((p: { id: string }) => p.id), [bId]);
    });

    test('users (self), roles, domains and role assignments from RBAC', async () => {
      const { token } = await login(alice);
      const me = await api.call('GET', `/identity/v3/users/${alice}`, { token });
      assert.deepEqual([me.status, me.body.user.id, me.body.user.domain_id], [200, alice, 'default']);
      assert.equal((await api.call('GET', `/identity/v3/users/${bob}`, { token })).status, 403);
      const roles = await api.call('GET', '/identity/v3/roles', { token });
      assert.deepEqual(roles.body.roles.map((r: { name: string }) => r.name), ['admin', 'member', 'reader']);
      const domains = await api.call('GET', '/identity/v3/auth/domains', { token });
      assert.deepEqual(domains.body.domains.map((d: { id: string; name: string }) => [d.id, d.name]), [['default', 'Default']]);
      const ra = await api.call('GET', `/identity/v3/role_assignments?user.id=${alice}&scope.project.id=${aId}&effective`, { token });
      assert.equal(ra.status, 200);
      assert.deepEqual(ra.body.role_assignments.map((x: { role: { id: string }; scope: { project: { id: string } } }) => [x.role.id, x.scope.project.id]), [['member', aId], ['reader', aId]]);
      const rootToken = (await login(root)).token;
      const bobs = await api.call('GET', `/identity/v3/role_assignments?user.id=${bob}&include_names`, { token: rootToken });
      assert.deepEqual(bobs.body.role_assignments.map((x: { role: { name: string }; scope: { project: { name: string } } }) => [x.role.name, x.scope.project.name]), [['reader', a]]);
      assert.equal((await api.call('GET', `/identity/v3/role_assignments?user.id=${bob}`, { token })).status, 403);
    });
  });

  describe('token validation and revocation (two replicas)', () => {
    test('validate: 200 for a live token, 404 for a bad subject, 401 for a bad caller', async () => {
      const { token } = await login(alice);
      const ok = await api2.call('GET', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': token } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('x-subject-token'), token);
      assert.equal(ok.body.token.project.id, aId);
      const bad = await api2.call('GET', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': 'kova1.bogus.sig' } });
      assert.deepEqual([bad.status, bad.body.error.code, bad.body.error.title], [404, 404, 'Not Found']);
      const noCaller = await api2.call('GET', '/identity/v3/auth/tokens', { token: 'nope', headers: { 'x-subject-token': token } });
      assert.equal(noCaller.status, 401);
      assert.equal(noCaller.body.error.title, 'Unauthorized');
      // Someone else's token is not theirs to read.
      const other = (await login(bob)).token;
      assert.equal((await api2.call('GET', '/identity/v3/auth/tokens', { token: other, headers: { 'x-subject-token': token } })).status, 403);
    });

    test('a token revoked on one replica is refused by the other at once', async () => {
      const { token } = await login(alice);
      const keep = (await login(alice)).token;
      assert.deepEqual(await serverNames(token, api2), ['vm-a']);
      const del = await api.call('DELETE', '/identity/v3/auth/tokens', { token, headers: { 'x-subject-token': token } });
      assert.equal(del.status, 204);
      await eventually('replica 2 to see the revocation', async () => (await api2.call('GET', '/v2.1/servers', { token })).status === 401, 5000);
      assert.equal((await api.call('GET', '/v2.1/servers', { token })).status, 401);
      const v = await api2.call('GET', '/identity/v3/auth/tokens', { token: keep, headers: { 'x-subject-token': token } });
      assert.equal(v.status, 404);
      assert.equal((await api2.call('DELETE', '/identity/v3/auth/tokens', { token: keep, headers: { 'x-subject-token': token } })).status, 404);
      assert.deepEqual(await serverNames(keep, api2), ['vm-a'], 'another token of the same user lives');
      // Rescoping a revoked token gives nothing.
      const rescope = await api2.call('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: token } } } } });
      assert.equal(rescope.status, 401);
    });
  });

  describe('OIDC federation (v3oidcaccesstoken; the apiserver\'s JWT authenticator decides)', () => {
    const issuer = new TestIssuer();
    const carol = uniq('carol');
    const authnConfig = (): string => {
      const f = process.env.KOVA_TEST_AUTHENTICATION_CONFIG;
      if (!f) throw new Error('KOVA_TEST_AUTHENTICATION_CONFIG is not set: run through the global setup');
      return f;
    };
    const federated = (bearer: string, on = api) =>
      on.call('POST', '/identity/v3/OS-FEDERATION/identity_providers/corp/protocols/openid/auth', { headers: { authorization: `Bearer ${bearer}` } });

    before(async () => {
      await issuer.start();
      writeAuthenticationConfig(authnConfig(), [issuer.jwtAuthenticator()]);
      await grant(kova.client, `oidc:${carol}`, 'kova-member', a);
      // The apiserver reloads the file by itself; a fresh token each time (denials are cached by token).
      await eventually('the apiserver to accept the issuer\'s tokens', async () => (await federated(issuer.token(carol))).status === 201, 180_000);
    });
    after(async () => {
      writeAuthenticationConfig(authnConfig(), []);
      await issuer.stop();
    });

    test('an access token gives an unscoped token (OS-FEDERATION), which scopes to the user\'s project only', async () => {
      for (const alg of ['RS256', 'ES256'] as const) {
        const r = await federated(issuer.token(carol, { alg }));
        assert.equal(r.status, 201, JSON.stringify(r.body));
        const t = r.body.token;
        assert.deepEqual(t.methods, ['openid']);
        assert.equal(t.user.id, `oidc:${carol}`);
        assert.deepEqual(t.user['OS-FEDERATION'], { groups: [], identity_provider: { id: 'corp' }, protocol: { id: 'openid' } });
        assert.equal(t.catalog, undefined);
        assert.equal(t.project, undefined);
      }
      const unscoped = (await federated(issuer.token(carol))).headers.get('x-subject-token')!;
      const projects = await api.call('GET', '/identity/v3/auth/projects', { token: unscoped });
      assert.deepEqual(projects.body.projects.map((p: { id: string }) => p.id), [aId]);
      const scoped = await api.call('POST', '/identity/v3/auth/tokens', { token: unscoped, body: { auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { id: aId } } } } });
      assert.equal(scoped.status, 201);
      assert.deepEqual(scoped.body.token.methods, ['token', 'openid']);
      assert.equal(scoped.body.token.user['OS-FEDERATION'].identity_provider.id, 'corp');
      assert.deepEqual(await serverNames(scoped.headers.get('x-subject-token')!), ['vm-a']);
      const other = await api.call('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { id: bId } } } } });
      assert.equal(other.status, 401);
    });

    test('a forged, foreign-audience or missing bearer is 401; a Kova token is not an IdP\'s', async () => {
      for (const bad of [issuer.token(carol, { badSignature: true }), issuer.token(carol, { audience: 'someone-else' }), issuer.token(carol, { claims: { exp: Math.floor(Date.now() / 1000) - 60 } })]) {
        const r = await federated(bad);
        assert.equal(r.status, 401);
        assert.equal(r.body.error.title, 'Unauthorized');
      }
      const none = await api.call('POST', '/identity/v3/OS-FEDERATION/identity_providers/corp/protocols/openid/auth');
      assert.equal(none.status, 401);
      assert.equal((await federated((await login(alice)).token)).status, 401);
    });

    test('the stock CLI: --os-auth-type v3oidcaccesstoken … server list', async () => {
      const run = async (project: string) => {
        const env: Record<string, string | undefined> = { ...process.env, OS_CLOUD: undefined, OS_CLIENT_CONFIG_FILE: join(dir, 'none.yaml') };
        const { stdout } = await exec(osc, [
          '--os-auth-type', 'v3oidcaccesstoken', '--os-auth-url', `${api.url}/identity/v3`, '--os-access-token', issuer.token(carol),
          '--os-identity-provider', 'corp', '--os-protocol', 'openid', '--os-project-name', project, '--os-project-domain-name', 'Default',
          '--os-identity-api-version', '3', '--os-region-name', 'RegionOne', '--os-interface', 'public', 'server', 'list', '-f', 'json',
        ], { env: env as NodeJS.ProcessEnv, timeout: 120_000 });
        return JSON.parse(stdout) as { Name: string }[];
      };
      assert.deepEqual((await run(a)).map((x) => x.Name), ['vm-a']);
      await assert.rejects(run(b), /401|authoriz|authenticat/i);
    });
  });
});
