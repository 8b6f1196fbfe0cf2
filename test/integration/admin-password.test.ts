// Admin passwords end to end (docs/adr/016): the Compute API's adminPass → a request Secret the
// Server names → the controller's copy into <server>-credentials → the VM's userPassword access
// credential → the simulated guest agent, which must hold exactly the password the API returned.
// changePassword reaches the running guest without a restart; os-server-password shows the
// password encrypted with the key pair's RSA key and clears it; rebuild, rescue and unrescue, evacuate;
// enable_instance_password off; a member cannot read the Secrets; and the password is in no spec,
// status, Event or log line.
import assert from 'node:assert/strict';
import { constants, privateDecrypt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { PasswordUsers } from '../../src/identity/auth.ts';
import { KubeError } from '../../src/kube/client.ts';
import { CLUSTER_ROLE_TYPE, NODES, ROLE_BINDING_TYPE, SECRETS, type Secret } from '../../src/kube/types.ts';
import { roleBinding } from '../../src/api/rbac.ts';
import { DATA_SOURCES, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES, type VirtualMachine, type VirtualMachineInstance } from '../../src/kubevirt/types.ts';
import { createLogger } from '../../src/log.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { EVENTS, type KubeEvent } from '../support/events.ts';
import { ensureFlavor, project, rsaKeyPair, uniq } from '../support/fixtures.ts';
import { grant } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';

describe('admin passwords through the guest agent', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let zone: string;
  let member: string;
  let imageId: string;
  let rescueImageId: string;
  const logs: string[] = [];
  const key = rsaKeyPair();
  /** Every password the API handed out or was given in this file. */
  const passwords: string[] = [];

  before(async () => {
    const log = createLogger({}, 'debug', (line) => logs.push(line));
    kova = await startKova({ log });
    // Two hosts, so a server can be evacuated off one.
    ({ namespace: ns, zone } = await project(kova.client, { nodes: [{ name: uniq('node') }, { name: uniq('node') }] }));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureImage(kova.client, 'kova-images', 'cirros', 'cirros-0.6.3');
    // A rescue image whose guest user is not root (Nova's os_admin_user image property).
    await ensureImage(kova.client, 'kova-images', 'rescuer', 'rescuer');
    await kova.client.mergePatch(DATA_SOURCES, 'rescuer', 'kova-images', { metadata: { annotations: { 'image.kova.io/os_admin_user': 'rescuer' } } });
    api = await startApi(kova, { passwords: new PasswordUsers(), log });
    await grant(kova.client, 'root', 'kova-admin');
    await grant(kova.client, 'alice', 'kova-member', ns);
    await eventually('façade caches', async () => !!api.facade.caches.projectByIdOrName(ns) && api.facade.caches.image('rescuer')?.metadata.annotations?.['image.kova.io/os_admin_user']);
    member = api.token('alice', ns);
    imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
    rescueImageId = (await eventually('image', async () => api.facade.caches.image('rescuer')?.metadata.uid))!;
    const kp = await api.call('POST', '/v2.1/os-keypairs', { token: member, version: '2.2', body: { keypair: { name: 'rsa-key', public_key: key.line } } });
    assert.equal(kp.status, 201, JSON.stringify(kp.body));
  });
  after(async () => {
    kova.cfg.enableInstancePassword = true;
    await api?.stop();
    await kova?.stop();
  });

  const server = (id: string): Server => api.facade.caches.servers.byIndex('uid', id)[0]!;
  const show = async (id: string) => (await api.call('GET', `/v2.1/servers/${id}`, { token: member, version: '2.84' })).body.server;
  const settled = (id: string, want: string) => eventually(`server ${want}`, async () => {
    const s = await show(id);
    return s.status === want && s['OS-EXT-STS:task_state'] === null ? s : undefined;
  }, 60_000);
  const act = (id: string, body: unknown, token = member, version = '2.84') => api.call('POST', `/v2.1/servers/${id}/action`, { token, version, body });
  const create = async (name: string, extra: Record<string, unknown> = {}) => {
    const r = await api.call('POST', '/v2.1/servers', { token: member, version: '2.37', body: { server: { name, flavorRef: '1', imageRef: imageId, networks: 'auto', availability_zone: zone, ...extra } } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    if (typeof r.body.server.adminPass === 'string') passwords.push(r.body.server.adminPass);
    await settled(r.body.server.id, 'ACTIVE');
    return { id: r.body.server.id as string, adminPass: r.body.server.adminPass as string | undefined, name: server(r.body.server.id).metadata.name ?? '' };
  };
  const vmi = (name: string) => kova.client.get<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, name, ns);
  /** Waits until the simulated guest of the server's VMI has `password` for `user`. */
  const guestHas = (name: string, user: string, password: string | undefined) =>
    eventually(`the guest's ${user} password`, async () => kova.sim.guestPassword(ns, name, user) === password, 30_000);
  const condition = (id: string) => server(id).status?.conditions?.find((c) => c.type === 'PasswordSynchronized');

  test('create returns adminPass; the guest agent sets exactly it for root; the VM names only the stable Secret', async () => {
    const { id, adminPass, name } = await create(uniq('pw'), { key_name: 'rsa-key' });
    assert.match(adminPass ?? '', /^[2-9A-HJ-NP-Za-km-z]{12}$/, 'a Nova-style generated password');
    await guestHas(name, 'root', adminPass);
    const vm = await kova.client.get<VirtualMachine>(VIRTUAL_MACHINES, name, ns);
    const creds = vm.spec.template.spec.accessCredentials ?? [];
    assert.deepEqual(creds.find((c) => c.userPassword)?.userPassword, { source: { secret: { secretName: `${name}-credentials` } }, propagationMethod: { qemuGuestAgent: {} } });
    const copy = await kova.client.get<Secret>(SECRETS, `${name}-credentials`, ns);
    assert.deepEqual(Object.keys(copy.data ?? {}), ['root']);
    assert.equal(copy.metadata.ownerReferences?.[0]?.uid, id, 'owned by the Server');
    const request = await kova.client.get<Secret>(SECRETS, server(id).spec.adminPassword?.secretName ?? '', ns);
    assert.equal(request.metadata.ownerReferences?.[0]?.uid, id, 'the request Secret is owned by the Server');
    const v = await vmi(name);
    assert.deepEqual(v.status?.conditions?.find((c) => c.type === 'AccessCredentialsSynchronized')?.status, 'True');
    await eventually('PasswordSynchronized on the Server', async () => condition(id)?.status === 'True');
  });

  test('os-server-password: the password encrypted with the RSA key pair (nova get-password decrypts it); DELETE clears it; a key-less server shows ""', async () => {
    const { id, adminPass } = await create(uniq('pw'), { key_name: 'rsa-key' });
    const got = await eventually('the encrypted password', async () => {
      const r = await api.call('GET', `/v2.1/servers/${id}/os-server-password`, { token: member });
      return r.status === 200 && r.body.password ? r.body.password as string : undefined;
    });
    assert.equal(privateDecrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(got, 'base64')).toString(), adminPass);
    assert.equal((await api.call('DELETE', `/v2.1/servers/${id}/os-server-password`, { token: member })).status, 204);
    assert.deepEqual((await api.call('GET', `/v2.1/servers/${id}/os-server-password`, { token: member })).body, { password: '' });
    await guestHas(server(id).metadata.name ?? '', 'root', adminPass); // clearing does not change the guest's password
    const plain = await create(uniq('pw'));
    assert.deepEqual((await api.call('GET', `/v2.1/servers/${plain.id}/os-server-password`, { token: member })).body, { password: '' });
  });

  test('changePassword sets the running guest\'s password without a restart; the old request Secret goes; the instance action is recorded', async () => {
    const { id, name, adminPass } = await create(uniq('pw'), { key_name: 'rsa-key' });
    await guestHas(name, 'root', adminPass);
    const before = await vmi(name);
    const oldRequest = server(id).spec.adminPassword?.secretName ?? '';
    const next = `Chg-${uniq('pass')}`;
    passwords.push(next);
    const r = await act(id, { changePassword: { adminPass: next } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body, undefined, 'no body');
    await guestHas(name, 'root', next);
    assert.equal((await vmi(name)).metadata.uid, before.metadata.uid, 'the same VMI: no restart');
    await eventually('the superseded request Secret deleted', async () => !(await kova.client.find(SECRETS, oldRequest, ns)));
    await settled(id, 'ACTIVE');
    const actions = (await api.call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: member, version: '2.84' })).body.instanceActions;
    assert.equal(actions[0].action, 'changePassword');
    const enc = (await api.call('GET', `/v2.1/servers/${id}/os-server-password`, { token: member })).body.password as string;
    assert.equal(privateDecrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(enc, 'base64')).toString(), next, 'os-server-password follows the change');
    // Nova's state rule: ACTIVE only.
    assert.equal((await act(id, { 'os-stop': null })).status, 202);
    await settled(id, 'SHUTOFF');
    const refused = await act(id, { changePassword: { adminPass: 'x' } });
    assert.equal(refused.status, 409);
    assert.match(refused.body.conflictingRequest.message, /^Cannot 'changePassword' instance .* while it is in vm_state stopped$/);
    assert.equal((await act(id, { changePassword: {} })).status, 400, 'adminPass is required');
  });

  test('the guest agent offline: AccessCredentialsSynchronized False "Guest agent is offline"; changePassword answers 501 as Nova for an unresponsive agent; back online, it works', async () => {
    const { id, name } = await create(uniq('pw'));
    await kova.client.mergePatch(SERVERS, name, ns, { metadata: { annotations: { 'sim.kova.io/inject': 'no-guest-agent' } } });
    await eventually('the VMI reports the agent offline', async () => (await vmi(name)).status?.conditions?.find((c) => c.type === 'AccessCredentialsSynchronized')?.message === 'Guest agent is offline');
    await eventually('the Server says so', async () => condition(id)?.reason === 'GuestAgentOffline');
    const r = await act(id, { changePassword: { adminPass: 'never-set' } });
    assert.deepEqual([r.status, r.body.notImplemented?.message], [501, 'Unable to set password on instance']);
    await kova.client.mergePatch(SERVERS, name, ns, { metadata: { annotations: { 'sim.kova.io/inject': null } } });
    await eventually('the Server sees the agent', async () => condition(id)?.status === 'True');
    const next = `Back-${uniq('pass')}`;
    passwords.push(next);
    assert.equal((await act(id, { changePassword: { adminPass: next } })).status, 202);
    await guestHas(name, 'root', next);
  });

  test('rebuild with adminPass: returned, and the rebuilt guest has it; rescue: the rescue guest\'s user gets the rescue password, and after unrescue the server\'s own is back', async () => {
    const { id, name, adminPass } = await create(uniq('pw'));
    const given = `Rebuilt-${uniq('pass')}`;
    passwords.push(given);
    const rb = await act(id, { rebuild: { imageRef: imageId, adminPass: given } });
    assert.equal(rb.status, 202);
    assert.equal(rb.body.server.adminPass, given);
    await settled(id, 'ACTIVE');
    await guestHas(name, 'root', given);
    assert.notEqual(given, adminPass);

    const rs = await act(id, { rescue: { rescue_image_ref: rescueImageId } });
    assert.equal(rs.status, 200);
    const rescuePass = rs.body.adminPass as string;
    passwords.push(rescuePass);
    assert.match(rescuePass, /^[2-9A-HJ-NP-Za-km-z]{12}$/);
    await settled(id, 'RESCUE');
    await guestHas(name, 'rescuer', rescuePass);
    assert.equal((await act(id, { unrescue: null })).status, 202);
    await settled(id, 'ACTIVE');
    await guestHas(name, 'root', given);
    assert.equal(kova.sim.guestPassword(ns, name, 'rescuer'), undefined, 'the rescue password stayed on the rescue disk');
  });

  test('evacuate (its host forced down): the adminPass returned (≤ 2.13) is the evacuated guest\'s password', async () => {
    const { id, name, adminPass } = await create(uniq('pw'));
    await guestHas(name, 'root', adminPass);
    const admin = api.token('root', ns);
    const down = (await api.call('GET', `/v2.1/servers/${id}`, { token: admin })).body.server['OS-EXT-SRV-ATTR:host'] as string;
    await kova.client.mergePatch(NODES, down, undefined, { spec: { taints: [{ key: 'compute.kova.io/forced-down', value: 'true', effect: 'NoSchedule' }] } });
    try {
      await eventually('host down in the cache', async () => api.facade.caches.nodes.get(down)?.spec?.taints?.length);
      const ev = await act(id, { evacuate: { onSharedStorage: false } }, admin, '2.13');
      assert.equal(ev.status, 200, JSON.stringify(ev.body));
      const evacuatePass = ev.body.adminPass as string;
      passwords.push(evacuatePass);
      assert.match(evacuatePass, /^[2-9A-HJ-NP-Za-km-z]{12}$/);
      assert.notEqual(evacuatePass, adminPass);
      await settled(id, 'ACTIVE');
      assert.notEqual((await api.call('GET', `/v2.1/servers/${id}`, { token: admin })).body.server['OS-EXT-SRV-ATTR:host'], down, 'evacuated to the other host');
      await guestHas(name, 'root', evacuatePass);
    } finally {
      await kova.client.mergePatch(NODES, down, undefined, { spec: { taints: null } });
    }
  });

  test('enable_instance_password off (the Helm value): no adminPass anywhere and nothing set; a given adminPass is still set, not returned', async () => {
    kova.cfg.enableInstancePassword = false;
    try {
      const plain = await create(uniq('pw'));
      assert.equal(plain.adminPass, undefined);
      assert.equal(server(plain.id).spec.adminPassword, undefined);
      const creds = await eventually('the credentials Secret', async () => kova.client.find<Secret>(SECRETS, `${plain.name}-credentials`, ns));
      assert.deepEqual(creds.data ?? {}, {}, 'no password for the guest');
      const rs = await act(plain.id, { rescue: null });
      assert.deepEqual([rs.status, rs.body], [200, {}]);
      await settled(plain.id, 'RESCUE');
      assert.equal((await act(plain.id, { unrescue: null })).status, 202);
      await settled(plain.id, 'ACTIVE');
      const rb = await act(plain.id, { rebuild: { imageRef: imageId } });
      assert.equal(rb.body.server.adminPass, undefined);
      await settled(plain.id, 'ACTIVE');
      assert.equal(kova.sim.guestPassword(ns, plain.name, 'root'), undefined);

      const given = `Given-${uniq('pass')}`;
      passwords.push(given);
      const withPass = await create(uniq('pw'), { adminPass: given });
      assert.equal(withPass.adminPass, undefined, 'Nova returns adminPass only with enable_instance_password');
      await guestHas(withPass.name, 'root', given);
    } finally {
      kova.cfg.enableInstancePassword = true;
    }
  });

  test('a member creates password Secrets but cannot read them', async () => {
    const { id } = await create(uniq('pw'));
    const alice = kova.client.as('alice', []);
    const name = server(id).metadata.name ?? '';
    for (const secret of [server(id).spec.adminPassword?.secretName ?? '', `${name}-credentials`]) {
      await assert.rejects(alice.get(SECRETS, secret, ns), (e: unknown) => e instanceof KubeError && e.code === 403, `alice may not read ${secret}`);
    }
  });

  test('the spec door (kubectl): a password Secret owned by the Server is set; another Secret of the namespace is refused, so it cannot be read back through the guest or os-server-password', async () => {
    const { id, name, adminPass } = await create(uniq('pw'), { key_name: 'rsa-key' });
    await guestHas(name, 'root', adminPass);
    const alice = kova.client.as('alice', []);
    const s = server(id);
    const owner = [{ apiVersion: 'compute.kova.io/v1alpha1', kind: 'Server', name, uid: id }];
    const mine = `Kubectl-${uniq('pass')}`;
    passwords.push(mine);
    await alice.create(SECRETS, { metadata: { name: `${name}-mine`, namespace: ns, ownerReferences: owner }, data: { password: Buffer.from(mine).toString('base64') } });
    await alice.mergePatch(SERVERS, name, ns, { spec: { adminPassword: { secretName: `${name}-mine` } } });
    await guestHas(name, 'root', mine);
    // An application's Secret the member cannot read.
    const foreign = `Foreign-${uniq('pass')}`;
    passwords.push(foreign);
    await kova.client.create(SECRETS, { metadata: { name: `${name}-app`, namespace: ns }, data: { password: Buffer.from(foreign).toString('base64') } });
    await alice.mergePatch(SERVERS, name, ns, { spec: { adminPassword: { secretName: `${name}-app` } } });
    await eventually('a PasswordRefused Event', async () => (await kova.client.list<KubeEvent>(EVENTS, { namespace: ns })).items.some((e) => e.reason === 'PasswordRefused' && e.regarding?.name === name));
    assert.equal(kova.sim.guestPassword(ns, name, 'root'), mine, 'the guest keeps its password');
    const enc = (await api.call('GET', `/v2.1/servers/${s.metadata.uid}/os-server-password`, { token: member })).body.password as string;
    assert.equal(privateDecrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(enc, 'base64')).toString(), mine);
    assert.ok(await kova.client.find(SECRETS, `${name}-app`, ns), 'a foreign Secret is never deleted');
  });

  test('a create whose password Secret cannot be written leaves nothing behind', async () => {
    // A caller who may create Servers but not Secrets: the Server made first is removed again.
    await kova.client.apply(CLUSTER_ROLE_TYPE, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'kova-test-no-secrets' }, rules: [{ apiGroups: ['compute.kova.io'], resources: ['servers', 'keypairs', 'flavors'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }] });
    await kova.client.apply(ROLE_BINDING_TYPE, roleBinding(ns, 'kova-test-no-secrets-carol', 'kova-test-no-secrets', { kind: 'User', name: 'carol' }));
    const carol = api.token('carol', ns);
    const name = uniq('half');
    const r = await eventually('RBAC to take effect', async () => {
      const res = await api.call('POST', '/v2.1/servers', { token: carol, version: '2.37', body: { server: { name, flavorRef: '1', imageRef: imageId, networks: 'auto' } } });
      return res.status === 403 ? res : undefined;
    });
    assert.equal(r.status, 403);
    // The same request without a password to write is accepted: the 403 was the Secret's.
    kova.cfg.enableInstancePassword = false;
    try {
      const ok = await api.call('POST', '/v2.1/servers', { token: carol, version: '2.37', body: { server: { name: `${name}-ok`, flavorRef: '1', imageRef: imageId, networks: 'auto' } } });
      assert.equal(ok.status, 202, JSON.stringify(ok.body));
      assert.equal((await api.call('DELETE', `/v2.1/servers/${ok.body.server.id}`, { token: carol })).status, 204);
    } finally {
      kova.cfg.enableInstancePassword = true;
    }
    await eventually('the Server made first is gone', async () => !(await kova.client.list<Server>(SERVERS, { namespace: ns })).items.some((x) => x.spec.name === name && !x.metadata.deletionTimestamp));
  });

  test('no password in any Server, VM or VMI, Event or log line', async () => {
    assert.ok(passwords.length >= 8, `${passwords.length} passwords`);
    const servers = (await kova.client.list<Server>(SERVERS, { namespace: ns })).items;
    const vms = (await kova.client.list<VirtualMachine>(VIRTUAL_MACHINES, { namespace: ns })).items;
    const vmis = (await kova.client.list<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, { namespace: ns })).items;
    const events = (await kova.client.list<KubeEvent>(EVENTS, { namespace: ns })).items;
    assert.ok(events.some((e) => e.reason === 'PasswordSet'), 'the controller recorded setting passwords');
    assert.ok(logs.some((l) => l.includes('changePassword') || l.includes('/action')), 'the logs were captured');
    const haystacks: [string, string][] = [
      ['servers', JSON.stringify(servers)], ['VMs', JSON.stringify(vms)], ['VMIs', JSON.stringify(vmis)], ['events', JSON.stringify(events)], ['logs', logs.join('\n')],
    ];
    for (const p of passwords) {
      for (const [what, text] of haystacks) {
        assert.ok(!text.includes(p), `a password is in the ${what}`);
        assert.ok(!text.includes(Buffer.from(p).toString('base64')), `a password (base64) is in the ${what}`);
      }
    }
  });
});
