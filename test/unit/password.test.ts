// Admin passwords (docs/adr/016): Nova's generated password, the guest user, the encrypted copy
// os-server-password shows, the controller's plan (which request to copy, what to publish, what is
// superseded, rescue and back) and the condition mirrored from KubeVirt; the simulated guest agent.
import assert from 'node:assert/strict';
import { constants, privateDecrypt } from 'node:crypto';
import { describe, test } from 'node:test';
import type { KeyPair } from '../../src/api/keypair.ts';
import { defaultConfig } from '../../src/cache/config.ts';
import type { Server, ServerSpec, ServerStatus } from '../../src/api/server.ts';
import { COPIED, guestKind, passwordCondition, planPassword, PUBLISHED } from '../../src/controllers/server/password.ts';
import type { Lookups } from '../../src/controllers/server/references.ts';
import type { DataSource, VirtualMachineInstance } from '../../src/kubevirt/types.ts';
import { encryptedPassword, generatePassword, guestAdminUser, guestAgentOffline, PASSWORD_LENGTH } from '../../src/nova/password.ts';
import { GuestPasswords, syncPasswords } from '../../src/sim/guest-agent.ts';
import { rsaKeyPair } from '../support/fixtures.ts';
import { deploymentEnv, helmTemplate } from '../support/helm.ts';

describe('Nova\'s admin password rules', () => {
  test('a generated password: 12 characters from Nova\'s symbols, at least one digit, upper and lower case, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      assert.equal(p.length, PASSWORD_LENGTH);
      assert.match(p, /^[2-9A-HJ-NP-Za-km-z]+$/, 'no 0, 1, I, O or l');
      assert.match(p, /[2-9]/);
      assert.match(p, /[A-HJ-NP-Z]/);
      assert.match(p, /[a-km-z]/);
      seen.add(p);
    }
    assert.equal(seen.size, 200);
  });

  test('the guest user: os_admin_user, else Administrator for Windows, else root (Nova\'s libvirt driver)', () => {
    assert.equal(guestAdminUser(undefined), 'root');
    assert.equal(guestAdminUser({ os_type: 'linux' }), 'root');
    assert.equal(guestAdminUser({ os_type: 'windows' }), 'Administrator');
    assert.equal(guestAdminUser({ os_type: 'windows', os_admin_user: 'admin' }), 'admin');
    assert.equal(guestAdminUser({ os_admin_user: 'cirros' }), 'cirros');
  });

  test('os-server-password: RSA PKCS#1 v1.5 with the key pair\'s ssh-rsa key, base64 (what nova get-password decrypts); none for other keys', () => {
    const { line, privateKey } = rsaKeyPair();
    const enc = encryptedPassword('s3cret Pass', line);
    assert.ok(enc);
    assert.match(enc, /^[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(enc, 'base64').length, 256, 'one 2048-bit block');
    assert.equal(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(enc, 'base64')).toString(), 's3cret Pass');
    assert.notEqual(encryptedPassword('s3cret Pass', line), enc, 'randomly padded');
    assert.equal(encryptedPassword('x', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7YPSVrFLzimUTJXD8p1zJKThvDAKdD6l/JreXodUH6 demo@kova'), undefined);
    assert.equal(encryptedPassword('x', undefined), undefined);
    assert.equal(encryptedPassword('x', 'ssh-rsa !!!'), undefined);
  });

  test('changePassword is refused (501) only when the server\'s guest agent is offline', () => {
    const withCondition = (reason: string): Server => ({ metadata: {}, spec: { name: 'a', flavor: 'f', image: 'i' }, status: { conditions: [{ type: 'PasswordSynchronized', status: 'False', reason, message: '', lastTransitionTime: 'x' }] } });
    assert.equal(guestAgentOffline(withCondition('GuestAgentOffline')), true);
    assert.equal(guestAgentOffline(withCondition('SyncFailed')), false);
    assert.equal(guestAgentOffline({ metadata: {}, spec: { name: 'a', flavor: 'f', image: 'i' } }), false);
  });

  test('the Helm value enableInstancePassword reaches the API as KOVA_ENABLE_INSTANCE_PASSWORD, and the config loader follows it', () => {
    const apiEnv = (...set: string[]): string | undefined => deploymentEnv(helmTemplate(...set), 'kova-api', 'KOVA_ENABLE_INSTANCE_PASSWORD');
    const loaded = (value: string | undefined): boolean | undefined => {
      const before = process.env.KOVA_ENABLE_INSTANCE_PASSWORD;
      if (value === undefined) delete process.env.KOVA_ENABLE_INSTANCE_PASSWORD;
      else process.env.KOVA_ENABLE_INSTANCE_PASSWORD = value;
      try {
        return defaultConfig().enableInstancePassword;
      } finally {
        if (before === undefined) delete process.env.KOVA_ENABLE_INSTANCE_PASSWORD;
        else process.env.KOVA_ENABLE_INSTANCE_PASSWORD = before;
      }
    };
    const off = apiEnv('enableInstancePassword=false');
    assert.equal(off, 'false');
    assert.equal(loaded(off), false);
    const on = apiEnv();
    assert.equal(on, 'true', 'on by default, as Nova');
    assert.equal(loaded(on), true);
    assert.equal(loaded(undefined), true, 'no variable (kova dev): on');
  });
});

describe('the controller\'s password plan', () => {
  const images: DataSource[] = [
    { metadata: { name: 'cirros', namespace: 'kova-images' }, spec: {} },
    { metadata: { name: 'windows', namespace: 'kova-images', annotations: { 'image.kova.io/os_type': 'windows' } }, spec: {} },
    { metadata: { name: 'rescue', namespace: 'kova-images', annotations: { 'image.kova.io/os_admin_user': 'rescuer' } }, spec: {} },
  ] as DataSource[];
  const keys = (publicKey: string, type: 'ssh' | 'x509' = 'ssh'): KeyPair[] => [{ metadata: { name: 'k', namespace: 'proj' }, spec: { name: 'k', publicKey, type } } as KeyPair];
  const refs = (kps: KeyPair[] = []): Lookups => ({
    image: (r: string) => images.find((d) => d.metadata.name === r),
    keyPair: (ns: string, r: string) => kps.find((k) => k.metadata.namespace === ns && (k.metadata.name === r || k.spec.name === r)),
    keyPairs: { list: (ns?: string) => kps.filter((k) => !ns || k.metadata.namespace === ns) },
  }) as unknown as Lookups;
  const server = (spec: Partial<ServerSpec>, handled: Record<string, string> = {}, st: Partial<ServerStatus> = {}): Server => ({
    metadata: { name: 'web', namespace: 'proj' }, spec: { name: 'web', flavor: 'f', image: 'cirros', ...spec }, status: { handledRequests: handled, ...st },
  });

  test('no password asked: nothing to do', () => {
    assert.equal(planPassword(refs(), server({}), 'own'), undefined);
  });

  test('a new request is copied for root, published (no key: a stale copy removed), recorded', () => {
    assert.deepEqual(planPassword(refs(), server({ adminPassword: { secretName: 'p1' } }), 'own'), {
      from: 'p1', user: 'root', publishWith: null, superseded: [], handled: { [COPIED]: 'p1', [PUBLISHED]: 'p1' },
    });
  });

  test('once copied, nothing more; a new request supersedes the last', () => {
    assert.equal(planPassword(refs(), server({ adminPassword: { secretName: 'p1' } }, { [COPIED]: 'p1', [PUBLISHED]: 'p1' }), 'own'), undefined);
    const p = planPassword(refs(), server({ adminPassword: { secretName: 'p2' } }, { [COPIED]: 'p1', [PUBLISHED]: 'p1' }), 'own');
    assert.deepEqual(p?.superseded, ['p1']);
    assert.equal(p?.from, 'p2');
  });

  test('published with the key pair\'s public key (an ssh key: os-server-password encrypts it if RSA; x509: none)', () => {
    assert.equal(planPassword(refs(keys('ssh-rsa AAAA')), server({ keyName: 'k', adminPassword: { secretName: 'p1' } }), 'own')?.publishWith, 'ssh-rsa AAAA');
    assert.equal(planPassword(refs(keys('-----BEGIN CERTIFICATE-----', 'x509')), server({ keyName: 'k', adminPassword: { secretName: 'p1' } }), 'own')?.publishWith, null);
  });

  test('the guest user follows the image (Windows: Administrator)', () => {
    assert.equal(planPassword(refs(), server({ image: 'windows', adminPassword: { secretName: 'p1' } }), 'own')?.user, 'Administrator');
    assert.equal(planPassword(refs(), server({ adminPassword: { secretName: 'p1' } }, {}, { image: { name: 'windows' } }), 'own')?.user, 'Administrator', 'the image the server was built from');
  });

  test('rescued: the rescue password for the rescue image\'s user, not published, the server\'s own kept; unrescued: the server\'s own back, the rescue one superseded', () => {
    const rescue = { requestId: 'r', image: 'rescue', adminPassword: { secretName: 'rp' } };
    const copiedOwn = { [COPIED]: 'p1', [PUBLISHED]: 'p1' };
    const inRescue = planPassword(refs(), server({ adminPassword: { secretName: 'p1' }, rescue }, copiedOwn), 'rescue');
    assert.deepEqual(inRescue, { from: 'rp', user: 'rescuer', superseded: [], handled: { [COPIED]: 'rp' } });
    assert.equal(planPassword(refs(), server({ adminPassword: { secretName: 'p1' }, rescue }, copiedOwn), 'own'), undefined, 'a rescue not yet under way changes nothing');
    assert.equal(planPassword(refs(), server({ adminPassword: { secretName: 'p1' } }, { [COPIED]: 'rp', [PUBLISHED]: 'p1' }), 'wait'), undefined, 'nothing while the guest being replaced runs');
    const back = planPassword(refs(), server({ adminPassword: { secretName: 'p1' } }, { [COPIED]: 'rp', [PUBLISHED]: 'p1' }), 'own');
    assert.deepEqual(back, { from: 'p1', user: 'root', superseded: ['rp'], handled: { [COPIED]: 'p1' } }, 'restored, not published again');
  });

  test('whose guest it is: the one an unfinished rescue replaces keeps its password; an unrescue restores the own at once', () => {
    const rescuing = server({ rescue: { requestId: 'r' } });
    assert.equal(guestKind(rescuing, { kind: 'rescue', fromVMI: 'old' }, 'old', 'web-rescue-r'), 'wait');
    assert.equal(guestKind(rescuing, { kind: 'rescue', fromVMI: 'old' }, 'new', 'web-rescue-r'), 'rescue');
    assert.equal(guestKind(rescuing, { kind: 'rescue', fromVMI: 'old' }, undefined, 'web-rescue-r'), 'rescue');
    assert.equal(guestKind(server({}), { kind: 'unrescue', fromVMI: 'resc' }, 'resc', 'web-rescue-r'), 'own', 'an unrescue switches back before the rescue guest stops');
    assert.equal(guestKind(server({}), { kind: 'unrescue', fromVMI: 'resc' }, 'back', 'web-rescue-r'), 'own');
    assert.equal(guestKind(server({}), { kind: 'rebuild', fromVMI: 'old' }, 'old', undefined), 'own', 'a rebuild\'s password is set at once');
  });

  test('the condition mirrors KubeVirt\'s AccessCredentialsSynchronized', () => {
    const vmi = (c?: { status: 'True' | 'False'; message?: string }): VirtualMachineInstance => ({ metadata: { name: 'web' }, spec: { domain: { devices: {} } }, status: { conditions: c ? [{ type: 'AccessCredentialsSynchronized', ...c }] : [] } });
    assert.deepEqual([passwordCondition(undefined, 1).status, passwordCondition(undefined, 1).reason], ['Unknown', 'NoGuest']);
    assert.equal(passwordCondition(vmi(), 1).reason, 'Pending');
    assert.equal(passwordCondition(vmi({ status: 'True', message: '' }), 1).reason, 'Synchronized');
    const offline = passwordCondition(vmi({ status: 'False', message: 'Guest agent is offline' }), 1);
    assert.deepEqual([offline.status, offline.reason, offline.message], ['False', 'GuestAgentOffline', 'Guest agent is offline']);
    assert.equal(passwordCondition(vmi({ status: 'False', message: 'Error encountered setting password for user [root]: x' }), 1).reason, 'SyncFailed');
  });
});

describe('the simulated guest agent (virt-launcher\'s access credentials)', () => {
  const vmi = (): VirtualMachineInstance => ({
    metadata: { name: 'web', namespace: 'proj' },
    spec: {
      domain: { devices: { disks: [{ name: 'rescue', bootOrder: 1 }, { name: 'root', bootOrder: 2 }] } },
      volumes: [{ name: 'rescue', dataVolume: { name: 'web-rescue' } }, { name: 'root', dataVolume: { name: 'web-root' } }],
      accessCredentials: [{ userPassword: { source: { secret: { secretName: 'web-credentials' } }, propagationMethod: { qemuGuestAgent: {} } } }],
    },
  } as VirtualMachineInstance);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');

  test('sets each user\'s password (trimmed; empty skipped) on the boot disk\'s guest and reports success with an empty message', () => {
    const guests = new GuestPasswords();
    const c = syncPasswords(vmi(), { agentConnected: true, secret: () => ({ metadata: {}, data: { root: b64(' pw1\n'), nobody: b64('  ') } }), guests });
    assert.deepEqual(c, { type: 'AccessCredentialsSynchronized', status: 'True', message: '' });
    assert.equal(guests.get('proj/web-rescue', 'root'), 'pw1');
    assert.equal(guests.get('proj/web-rescue', 'nobody'), undefined);
    assert.equal(guests.get('proj/web-root', 'root'), undefined, 'the disk that did not boot is untouched');
  });

  test('agent offline: KubeVirt\'s "Guest agent is offline", nothing set; a missing Secret: the read error', () => {
    const guests = new GuestPasswords();
    assert.deepEqual(syncPasswords(vmi(), { agentConnected: false, secret: () => ({ metadata: {}, data: { root: b64('pw') } }), guests }), { type: 'AccessCredentialsSynchronized', status: 'False', message: 'Guest agent is offline' });
    assert.equal(guests.get('proj/web-rescue', 'root'), undefined);
    const missing = syncPasswords(vmi(), { agentConnected: true, secret: () => undefined, guests });
    assert.equal(missing?.status, 'False');
    assert.match(missing?.message ?? '', /web-credentials-access-cred: no such file or directory$/);
  });

  test('no userPassword credential through the agent: no condition', () => {
    const v = vmi();
    v.spec.accessCredentials = [];
    assert.equal(syncPasswords(v, { agentConnected: true, secret: () => undefined, guests: new GuestPasswords() }), undefined);
  });
});
