// The Server controller's decision, one row per situation (as cluster-api's phase tests): what the
// caches show → the status written, the VM applied and the effects run after. Pure: no cluster.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Flavor } from '../../src/api/flavor.ts';
import type { KeyPair } from '../../src/api/keypair.ts';
import { APPLIED_HASH, REQUEST_ANNOTATION, REQUEST_STAMP_PREFIX, SERVER_LABEL } from '../../src/api/labels.ts';
import type { Server, ServerSpec, ServerStatus } from '../../src/api/server.ts';
import type { KovaConfig } from '../../src/cache/config.ts';
import { QUOTA_CONDITION } from '../../src/nova/quotas.ts';
import { decide, type Decision, type Effect, type ServerObservation } from '../../src/controllers/server/decide.ts';
import { snapshotOf, type Lookups } from '../../src/controllers/server/references.ts';
import { rebuildVolumeName } from '../../src/controllers/server/operations.ts';
import { slimVirtualMachine, slimVirtualMachineInstance, type CachedVirtualMachineInstance, type DataSource, type DataVolume, type CachedVirtualMachine, type VirtualMachine, type VirtualMachineInstance, type VirtualMachineInstanceMigration } from '../../src/kubevirt/types.ts';

const NOW = '2026-11-29T12:00:00Z';
const cfg: KovaConfig = { imagesNamespace: 'kova-images', networkName: 'default', podCidrs: ['10.244.0.0/16'], podMtu: 1500, shelvedOffloadTimeSeconds: 0, reclaimInstanceIntervalSeconds: 0 };
const ready = (generation = 1) => [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', observedGeneration: generation, lastTransitionTime: NOW }];

const flavor = (name: string, o: Partial<Flavor['spec']> = {}, st: Partial<NonNullable<Flavor['status']>> = {}): Flavor => ({
  metadata: { name, generation: 1 },
  spec: { id: name, name, vcpus: 1, ramMiB: 512, diskGiB: 1, ...o },
  status: { instancetype: { kind: 'VirtualMachineClusterInstancetype', name }, conditions: ready(), ...st },
} as Flavor);
const image = (name: string, uid = `${name}-uid`): DataSource => ({ metadata: { name, namespace: 'kova-images', uid }, spec: { source: {} } });
const keyPair = (name: string, o: Partial<KeyPair['status']> = {}): KeyPair => ({
  metadata: { name, namespace: 'proj', generation: 1 },
  spec: { name, publicKey: 'ssh-ed25519 AAAA', type: 'ssh' },
  status: { secretName: `${name}-key`, conditions: ready(), ...o },
} as KeyPair);

const FLAVORS = [flavor('small'), flavor('large', { vcpus: 2 }), flavor('private', { isPublic: false, projects: ['other'] }), flavor('shared', { isPublic: false, projects: ['proj-id'] })];
const IMAGES = [image('cirros'), image('fedora'), image('rescue')];
const KEYS = [keyPair('key')];
const refs = (o: { flavors?: Flavor[]; images?: DataSource[]; keys?: KeyPair[] } = {}): Lookups => {
  const flavors = o.flavors ?? FLAVORS;
  const images = o.images ?? IMAGES;
  const keys = o.keys ?? KEYS;
  return {
    flavor: (ref: string) => flavors.find((f) => f.metadata.name === ref || f.spec.id === ref),
    image: (ref: string) => images.find((d) => d.metadata.name === ref || d.metadata.uid === ref),
    keyPair: (ns: string, ref: string) => keys.find((k) => k.metadata.namespace === ns && (k.metadata.name === ref || k.spec.name === ref)),
    keyPairs: { list: (ns?: string) => keys.filter((k) => !ns || k.metadata.namespace === ns) },
    projectIdOf: (ns: string) => (ns === 'proj' ? 'proj-id' : undefined),
  } as unknown as Lookups;
};

const server = (spec: Partial<ServerSpec> = {}, status?: ServerStatus, meta: Partial<Server['metadata']> = {}): Server => ({
  metadata: { name: 'web', namespace: 'proj', uid: 'srv-uid', generation: 1, ...meta },
  spec: { name: 'web', flavor: 'small', image: 'cirros', ...spec },
  ...(status ? { status } : {}),
});
// VMs and VMIs as the controller's cache keeps them (slimmed): decide must need nothing more.
const vm = (printableStatus?: string, o: Partial<VirtualMachine['metadata']> = {}, volumes = ['web-root']): CachedVirtualMachine => slimVirtualMachine({
  metadata: { name: 'web', namespace: 'proj', ...o },
  spec: { template: { spec: { domain: { devices: {} } } }, dataVolumeTemplates: volumes.map((name) => ({ metadata: { name }, spec: {} })) },
  ...(printableStatus ? { status: { printableStatus: printableStatus as never } } : {}),
} satisfies VirtualMachine);
const vmi = (uid: string, phase = 'Running', o: Partial<NonNullable<VirtualMachineInstance['status']>> = {}): CachedVirtualMachineInstance => slimVirtualMachineInstance({
  metadata: { name: 'web', namespace: 'proj', uid },
  spec: { domain: { devices: {} } },
  status: { phase: phase as never, nodeName: 'node-1', interfaces: [{ name: 'default', ipAddress: '10.0.0.5', mac: 'aa' }], ...o },
} satisfies VirtualMachineInstance);
const dv = (name: string, phase = 'Succeeded', o: Partial<DataVolume['metadata']> = {}): DataVolume => ({ metadata: { name, namespace: 'proj', uid: `${name}-uid`, labels: { [SERVER_LABEL]: 'web' }, ...o }, spec: {}, status: { phase: phase as never } });

/** A server that is up: built, launched, ACTIVE, with the VM Kova would apply (same hash). */
const activeStatus = (o: Partial<ServerStatus> = {}): ServerStatus => ({
  observedGeneration: 1, status: 'ACTIVE', vmState: 'active', powerState: 'Running', launchedAt: NOW, host: 'node-1',
  flavor: snapshotOf(FLAVORS[0]!), image: { name: 'cirros', uid: 'cirros-uid' }, handledRequests: { powerState: 'Running' }, ...o,
});

const observe = (o: Partial<ServerObservation> & { server: Server }): ServerObservation => ({ dataVolumes: [dv('web-root')], now: NOW, ...o });
/** Decides twice when needed: the first time to learn the hash Kova applies, so the VM looks already applied. */
function applied(s: Server, base: Partial<ServerObservation> = {}, lookups = refs()): CachedVirtualMachine {
  const d = decide(observe({ server: s, vm: vm('Running'), vmi: vmi('vmi-1'), ...base }), lookups, cfg);
  const desired = d.apply?.vm ?? base.vm ?? vm('Running');
  return slimVirtualMachine({ ...desired, status: { printableStatus: (base.vm?.status?.printableStatus ?? 'Running') as never } });
}
const run = (o: Partial<ServerObservation> & { server: Server }, lookups = refs(), c = cfg): Decision => decide(observe(o), lookups, c);
const kinds = (effects: Effect[]): string[] => effects.map((e) => (e.kind === 'event' ? `event:${e.reason}` : e.kind));

describe('decide: building a server', () => {
  test('references resolved, no VM yet → the VM is applied (created), status BUILD/scheduling', () => {
    const d = run({ server: server(), dataVolumes: [] });
    assert.ok(d.apply, 'a VM to apply');
    assert.equal(d.apply.created, true);
    assert.equal(d.apply.vm.spec.instancetype?.name, 'small');
    assert.equal(d.status.status, 'BUILD');
    assert.equal(d.status.taskState, 'scheduling');
    assert.deepEqual(kinds(d.onWrite), ['event:StatusChanged']);
  });

  const faults: [string, Partial<ServerSpec>, number, RegExp][] = [
    ['a flavor that does not exist', { flavor: 'nope' }, 404, /^Flavor nope could not be found\.$/],
    ['a private flavor of other projects (no admin bypass: its instancetype is not here)', { flavor: 'private' }, 404, /^Flavor private could not be found\.$/],
    ['an image that does not exist', { image: 'nope' }, 404, /^Image nope could not be found\.$/],
    ['a key pair that does not exist', { keyName: 'nope' }, 400, /^Invalid key_name provided\.$/],
  ];
  test('a server the controller refused by quota → ERROR with Nova\'s 403, never built; one it admitted is built', () => {
    const refusal = 'Quota exceeded for instances: Requested 1, but already used 10 of 10 instances';
    const cond = (status: 'True' | 'False', message: string) => ({ type: QUOTA_CONDITION, status, reason: 'x', message, lastTransitionTime: NOW });
    const refused = run({ server: server({}, { conditions: [cond('False', refusal)] }), dataVolumes: [] });
    assert.equal(refused.apply, undefined);
    assert.deepEqual([refused.status.status, refused.status.fault?.code, refused.status.fault?.message], ['ERROR', 403, refusal]);
    assert.equal(refused.status.conditions?.find((c) => c.type === QUOTA_CONDITION)?.status, 'False', 'the refusal stays recorded');
    assert.deepEqual(kinds(refused.onWrite), ['event:Error']);
    const admitted = run({ server: server({}, { conditions: [cond('True', 'counted')] }), dataVolumes: [] });
    assert.equal(admitted.apply?.created, true);
  });

  for (const [what, spec, code, message] of faults) {
    test(`${what} → ERROR with Nova's fault, nothing applied`, () => {
      const d = run({ server: server(spec), dataVolumes: [] });
      assert.equal(d.apply, undefined);
      assert.equal(d.status.status, 'ERROR');
      assert.equal(d.status.fault?.code, code);
      assert.match(d.status.fault?.message ?? '', message);
      assert.equal(d.status.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
      assert.deepEqual(kinds(d.onWrite), ['event:Error']);
    });
  }

  test('a private flavor shared with the project is used', () => {
    assert.ok(run({ server: server({ flavor: 'shared' }), dataVolumes: [] }).apply);
  });

  test('a flavor or key pair its controller has not processed yet is waited for, not a fault', () => {
    const unprocessed = flavor('new', {}, { instancetype: undefined, conditions: [] });
    const d = run({ server: server({ flavor: 'new' }), dataVolumes: [] }, refs({ flavors: [unprocessed] }));
    assert.equal(d.apply, undefined);
    assert.notEqual(d.status.status, 'ERROR');
    const k = run({ server: server({ keyName: 'key' }), dataVolumes: [] }, refs({ keys: [keyPair('key', { conditions: [] })] }));
    assert.equal(k.apply, undefined);
    assert.notEqual(k.status.status, 'ERROR');
  });

  test('a key pair that is ready is shared with the VM (its Secret), a broken one is a fault', () => {
    const d = run({ server: server({ keyName: 'key' }), dataVolumes: [] });
    assert.equal(d.apply?.keySecretName, 'key-key');
    assert.equal(d.status.keyName, 'key');
    const broken = keyPair('key', { secretName: undefined, conditions: [{ ...ready()[0]!, status: 'False', message: 'bad key' }] });
    assert.equal(run({ server: server({ keyName: 'key' }), dataVolumes: [] }, refs({ keys: [broken] })).status.fault?.message, 'Invalid key_name provided.');
  });

  test('the VM already applied as desired is not applied again; a running one makes the server ACTIVE and launched', () => {
    const s = server({}, { observedGeneration: 1 });
    const d = run({ server: s, vm: applied(s), vmi: vmi('vmi-1') });
    assert.equal(d.apply, undefined);
    assert.equal(d.status.status, 'ACTIVE');
    assert.equal(d.status.launchedAt, NOW);
    assert.equal(d.status.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(d.status.addresses?.default?.map((a) => a.addr), ['10.0.0.5']);
    assert.equal(d.status.instanceName, 'web');
  });

  test('a Server being deleted shows its last status with task deleting and applies nothing', () => {
    const s = server({}, activeStatus(), { deletionTimestamp: NOW });
    const d = run({ server: s, vm: vm('Running'), vmi: vmi('vmi-1') });
    assert.equal(d.apply, undefined);
    assert.equal(d.status.status, 'ACTIVE');
    assert.equal(d.status.taskState, 'deleting');
  });
});

describe('decide: requests in spec', () => {
  const up = (spec: Partial<ServerSpec> = {}, st: Partial<ServerStatus> = {}, meta: Partial<Server['metadata']> = {}) => server(spec, activeStatus(st), meta);
  /** The server with a new request, its VM as applied before the request. */
  const withVm = (s: Server, o: Partial<ServerObservation> = {}) => run({ server: s, vm: applied(up(), o), vmi: vmi('vmi-1'), ...o });

  test('a new admin password: copied before the status records it, the VM unchanged (the guest agent applies it live); a deleted server\'s is not', () => {
    const s = up({ adminPassword: { secretName: 'web-password-1' } });
    const d = withVm(s);
    assert.deepEqual(d.password, { from: 'web-password-1', user: 'root', publishWith: null, superseded: [], handled: { 'adminPassword:copied': 'web-password-1', adminPassword: 'web-password-1' } });
    assert.equal(d.status.handledRequests?.['adminPassword:copied'], 'web-password-1');
    assert.equal(d.status.handledRequests?.powerState, 'Running', 'the other requests stay recorded');
    assert.equal(d.apply, undefined, 'no change of the VM: no restart');
    assert.equal(d.status.status, 'ACTIVE');
    const again = withVm(up({ adminPassword: { secretName: 'web-password-1' } }, { handledRequests: d.status.handledRequests }));
    assert.equal(again.password, undefined, 'once');
    assert.equal(run({ server: server({ adminPassword: { secretName: 'p' } }, activeStatus(), { deletionTimestamp: NOW }), vm: vm('Running'), vmi: vmi('vmi-1') }).password, undefined);
  });

  test('the password condition mirrors the VMI\'s AccessCredentialsSynchronized', () => {
    const d = withVm(up(), { vmi: vmi('vmi-1', 'Running', { conditions: [{ type: 'AccessCredentialsSynchronized', status: 'False', message: 'Guest agent is offline' }] }) });
    const c = d.status.conditions?.find((x) => x.type === 'PasswordSynchronized');
    assert.deepEqual([c?.status, c?.reason, c?.message], ['False', 'GuestAgentOffline', 'Guest agent is offline']);
  });

  test('a HARD reboot: recorded, the running VMI deleted (by uid); over when a new VMI runs', () => {
    const s = up({ reboot: { type: 'HARD', requestId: 'r1' } });
    const d = withVm(s);
    assert.deepEqual(d.status.rebooting, { type: 'HARD', fromVMI: 'vmi-1' });
    assert.equal(d.status.status, 'HARD_REBOOT');
    assert.deepEqual(d.effects.filter((e) => e.kind === 'deleteVMI'), [{ kind: 'deleteVMI', uid: 'vmi-1' }]);
    const after = up({ reboot: { type: 'HARD', requestId: 'r1' } }, { rebooting: { type: 'HARD', fromVMI: 'vmi-1' }, handledRequests: { powerState: 'Running', reboot: 'r1' } });
    const done = run({ server: after, vm: applied(after), vmi: vmi('vmi-2') });
    assert.equal(done.status.rebooting, undefined);
    assert.equal(done.status.status, 'ACTIVE');
  });

  test('a SOFT reboot is claimed in status before it is sent, and sent only if the write happened', () => {
    const s = up({ reboot: { type: 'SOFT', requestId: 'r2' } });
    const d = withVm(s);
    assert.deepEqual(d.status.rebooting, { type: 'SOFT', fromVMI: 'vmi-1', sent: true });
    assert.ok(d.onWrite.some((e) => e.kind === 'softReboot' && e.requestId === 'r2'), 'in onWrite, not effects');
    assert.ok(!d.effects.some((e) => e.kind === 'softReboot'));
    const sent = up({ reboot: { type: 'SOFT', requestId: 'r2' } }, { rebooting: { type: 'SOFT', fromVMI: 'vmi-1', sent: true }, handledRequests: { powerState: 'Running', reboot: 'r2' } });
    assert.equal(withVm(sent).status.rebooting, undefined);
  });

  test('a request the state rules refuse: Accepted=False with Nova\'s message, a RequestRefused event, the id handled', () => {
    const s = server({ reboot: { type: 'SOFT', requestId: 'r3' }, powerState: 'Shutoff' }, activeStatus({ status: 'SHUTOFF', vmState: 'stopped', powerState: 'Shutdown', handledRequests: { powerState: 'Shutoff' } }));
    const d = run({ server: s, vm: applied(s, { vm: vm('Stopped') }), vmi: undefined });
    const accepted = d.status.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'False');
    assert.match(accepted?.message ?? '', /^reboot r3: Cannot 'reboot' instance srv-uid while it is in vm_state stopped$/);
    assert.ok(d.onWrite.some((e) => e.kind === 'event' && e.reason === 'RequestRefused'));
    assert.equal(d.status.handledRequests?.reboot, 'r3');
  });

  test('a resize by changing spec.flavor: RESIZE, the old VMI replaced on the new flavor, then VERIFY_RESIZE; confirm keeps the new flavor', () => {
    const s = up({ flavor: 'large' });
    const d = withVm(s);
    assert.equal(d.status.operation?.kind, 'resize');
    assert.equal(d.status.status, 'RESIZE');
    assert.equal(d.apply?.vm.spec.instancetype?.name, 'large');
    assert.ok(d.effects.some((e) => e.kind === 'deleteVMI' && e.uid === 'vmi-1'));
    assert.equal(d.status.migrations?.[0]?.status, 'migrating');
    const migrated = up({ flavor: 'large' }, { operation: d.status.operation, handledRequests: d.status.handledRequests });
    const v = run({ server: migrated, vm: applied(migrated), vmi: vmi('vmi-2') });
    assert.equal(v.status.status, 'VERIFY_RESIZE');
    assert.equal(v.status.flavor?.id, 'large');
    const confirming = up({ flavor: 'large', confirmResize: { requestId: 'c1' } }, { operation: v.status.operation, handledRequests: v.status.handledRequests, flavor: v.status.flavor });
    const c = run({ server: confirming, vm: applied(confirming), vmi: vmi('vmi-2') });
    assert.equal(c.status.operation, undefined);
    assert.equal(c.status.flavor?.id, 'large');
    assert.equal(c.status.status, 'ACTIVE');
    assert.equal(c.status.migrations?.[0]?.status, 'confirmed');
  });

  test('a live migration creates its VirtualMachineInstanceMigration once queued, and ends with it', () => {
    const s = up({ migrate: { requestId: 'm1', live: true, host: 'node-2' } });
    const d = withVm(s);
    assert.equal(d.status.status, 'MIGRATING');
    const create = d.effects.find((e) => e.kind === 'createMigration');
    assert.ok(create && create.kind === 'createMigration' && create.toHost === 'node-2');
    const queued = up({ migrate: { requestId: 'm1', live: true, host: 'node-2' } }, { operation: d.status.operation, handledRequests: d.status.handledRequests });
    const m: VirtualMachineInstanceMigration = { metadata: { name: create.name, namespace: 'proj' }, spec: { vmiName: 'web' }, status: { phase: 'Succeeded' } };
    const done = run({ server: queued, vm: applied(queued), vmi: vmi('vmi-1'), migration: m });
    assert.equal(done.status.operation, undefined);
    assert.equal(done.status.migrations?.[0]?.status, 'completed');
  });

  test('createImage: the image is made (DataVolume + DataSource), done when its volume is; a backup rotates', () => {
    const s = up({ createImage: { requestId: 'i1', imageId: 'img-1', name: 'snap', backupType: 'daily', rotation: 2 } });
    const d = withVm(s);
    assert.equal(d.status.taskState, 'image_backup');
    assert.ok(d.effects.some((e) => e.kind === 'createImage'));
    const making = up(s.spec, { operation: d.status.operation, handledRequests: d.status.handledRequests });
    const inProgress = run({ server: making, vm: applied(making), vmi: vmi('vmi-1'), imageVolume: dv('image-img-1', 'CloneInProgress') });
    assert.equal(inProgress.status.taskState, 'image_backup');
    const done = run({ server: making, vm: applied(making), vmi: vmi('vmi-1'), imageVolume: dv('image-img-1', 'Succeeded') });
    assert.equal(done.status.operation, undefined);
    assert.deepEqual(done.effects.find((e) => e.kind === 'rotateBackups'), { kind: 'rotateBackups', backupType: 'daily', rotation: 2, imageId: 'img-1' });
  });

  test('an operation that fails is reported with an OperationFailed event and the server goes on', () => {
    const id = 'b1';
    const s = up({ image: 'fedora', rebuild: { requestId: id } }, { operation: { kind: 'rebuild', requestId: id, phase: 'rebuilding', image: 'fedora', rootVolume: rebuildVolumeName('web', id), fromVMI: 'vmi-1', startedAt: NOW }, handledRequests: { powerState: 'Running', rebuild: id, 'rebuild:image': 'fedora' } });
    const d = run({ server: s, vm: applied(s), vmi: vmi('vmi-1'), dataVolumes: [dv('web-root'), dv(rebuildVolumeName('web', id), 'Failed')] });
    assert.equal(d.status.operation, undefined);
    assert.ok(d.effects.some((e) => e.kind === 'event' && e.reason === 'OperationFailed'));
  });

  test('a rescue boots from a rescue disk; removing spec.rescue unrescues', () => {
    const s = up({ rescue: { requestId: 'x1', image: 'rescue' } });
    const d = withVm(s);
    assert.equal(d.status.operation?.kind, 'rescue');
    assert.ok(d.status.rescueVolume);
    assert.equal(d.apply?.vm.spec.template.spec.volumes?.[0]?.name, 'rescue');
    const rescued = up({}, { rescueVolume: d.status.rescueVolume, status: 'RESCUE', vmState: 'rescued', handledRequests: d.status.handledRequests });
    assert.equal(withVm(rescued).status.operation?.kind, 'unrescue');
  });

  test('a revert in VERIFY_RESIZE (by request id, or by setting spec.flavor back) goes back to the old flavor', () => {
    const verify = { kind: 'resize' as const, requestId: 'f1', phase: 'verify' as const, fromVMI: 'vmi-1', fromFlavor: snapshotOf(FLAVORS[0]!), toFlavor: snapshotOf(FLAVORS[1]!), startedAt: NOW };
    for (const spec of [{ flavor: 'large', revertResize: { requestId: 'v1' } }, { flavor: 'small' }]) {
      const s = up(spec, { operation: verify, status: 'VERIFY_RESIZE', vmState: 'resized' });
      const d = run({ server: s, vm: applied(up({ flavor: 'large' })), vmi: vmi('vmi-2') });
      assert.equal(d.status.operation?.phase, 'reverting', JSON.stringify(spec));
      assert.equal(d.status.status, 'REVERT_RESIZE');
      assert.equal(d.apply?.vm.spec.instancetype?.name, 'small');
    }
  });

  test('a new spec.image is a rebuild onto a new root disk; an image that does not exist is refused', () => {
    const d = withVm(up({ image: 'fedora' }));
    assert.equal(d.status.operation?.kind, 'rebuild');
    assert.equal(d.status.status, 'REBUILD');
    assert.ok(d.apply?.vm.spec.dataVolumeTemplates?.some((t) => t.metadata.name === d.status.operation?.rootVolume));
    const missing = withVm(up({ rebuild: { requestId: 'b2' }, image: 'nope' }));
    assert.equal(missing.status.operation, undefined);
    assert.match(missing.status.conditions?.find((c) => c.type === 'Accepted')?.message ?? '', /^rebuild b2: image nope could not be found$/);
  });

  test('an evacuation replaces the VMI at once (its host is down); a cold migration avoids the current host', () => {
    const e = withVm(up({ evacuate: { requestId: 'e1', host: 'node-2' } }));
    assert.equal(e.status.operation?.kind, 'evacuate');
    assert.deepEqual(e.effects.find((x) => x.kind === 'deleteVMI'), { kind: 'deleteVMI', uid: 'vmi-1', gracePeriodSeconds: 0 });
    const m = withVm(up({ migrate: { requestId: 'm2' } }));
    assert.equal(m.status.operation?.kind, 'migrate');
    assert.match(JSON.stringify(m.apply?.vm.spec.template.spec.affinity), /NotIn.*node-1/);
  });

  test('a rescue with an image that does not exist is refused, and the id is handled', () => {
    const d = withVm(up({ rescue: { requestId: 'x2', image: 'nope' } }));
    assert.equal(d.status.operation, undefined);
    assert.equal(d.status.handledRequests?.rescue, 'x2');
    assert.match(d.status.conditions?.find((c) => c.type === 'Accepted')?.message ?? '', /^rescue x2: image nope could not be found$/);
  });

  test('os-resetState to error forces ERROR until the power state changes', () => {
    const s = up({ resetState: { requestId: 'z1', state: 'error' } });
    const d = withVm(s);
    assert.equal(d.status.status, 'ERROR');
    assert.equal(d.status.resetToError, true);
  });

  test('pause and unpause go to KubeVirt\'s subresources; a pause KubeVirt made is left alone', () => {
    assert.deepEqual(kinds(withVm(up({ powerState: 'Paused' })).effects).filter((k) => k.includes('pause')), ['pause']);
    const paused = vmi('vmi-1', 'Running', { conditions: [{ type: 'Paused', status: 'True', reason: 'PausedByUser' }] });
    const s = up({}, { status: 'PAUSED', vmState: 'paused' });
    assert.deepEqual(kinds(run({ server: s, vm: applied(s), vmi: paused }).effects).filter((k) => k.includes('pause')), ['unpause']);
    const ioError = vmi('vmi-1', 'Running', { conditions: [{ type: 'Paused', status: 'True', reason: 'PausedIOError' }] });
    assert.deepEqual(kinds(run({ server: s, vm: applied(s), vmi: ioError }).effects).filter((k) => k.includes('pause')), []);
  });

  test('a change of powerState made with kubectl is recorded as an instance action (stop), with a derived request id', () => {
    const s = up({ powerState: 'Shutoff' }, {}, { generation: 2 });
    const d = withVm(s);
    assert.equal(d.status.instanceActions?.[0]?.action, 'stop');
    assert.match(d.status.instanceActions?.[0]?.requestId ?? '', /^req-[0-9a-f-]{36}$/);
    assert.equal(d.status.instanceActions?.[0]?.userId, '');
  });

  test('a request made through the Compute API is recorded under its own stamp', () => {
    const stamp = JSON.stringify({ requestId: 'req-11111111-2222-4333-8444-555555555555', action: 'stop', userId: 'alice', projectId: 'proj-id', at: NOW });
    const s = up({ powerState: 'Shutoff' }, {}, { generation: 2, annotations: { [REQUEST_ANNOTATION]: stamp } });
    const d = withVm(s);
    assert.deepEqual(d.status.instanceActions?.map((a) => [a.action, a.requestId, a.userId]), [['stop', 'req-11111111-2222-4333-8444-555555555555', 'alice']]);
  });

  test('requests made before the controller looks are all recorded, in order; recorded ones are not recorded again', () => {
    const stamp = (n: number, action: string, seq: number) => [`${REQUEST_STAMP_PREFIX}req-${n}`, JSON.stringify({ requestId: `req-${n}`, action, userId: 'alice', projectId: 'proj-id', at: NOW, seq })];
    // unlock, lock, unlock within one second, then a stop: four actions, the stop on top.
    const annotations = Object.fromEntries([stamp(4, 'stop', 40), stamp(2, 'lock', 20), stamp(1, 'unlock', 10), stamp(3, 'unlock', 30)]);
    const s = up({ powerState: 'Shutoff' }, {}, { generation: 2, annotations });
    const d = withVm(s);
    assert.deepEqual(d.status.instanceActions?.map((a) => [a.action, a.requestId]), [['stop', 'req-4'], ['unlock', 'req-3'], ['lock', 'req-2'], ['unlock', 'req-1']]);
    const again = withVm({ ...s, status: d.status });
    assert.deepEqual(again.status.instanceActions?.map((a) => a.requestId), ['req-4', 'req-3', 'req-2', 'req-1']);
  });
});

describe('decide: volumes and timers', () => {
  test('root and rescue disks the VM no longer names are deleted (by uid)', () => {
    const s = server({}, activeStatus());
    const d = run({ server: s, vm: applied(s), vmi: vmi('vmi-1'), dataVolumes: [dv('web-root'), dv('web-rescue-1')] });
    assert.deepEqual(d.effects.filter((e) => e.kind === 'deleteVolume'), [{ kind: 'deleteVolume', name: 'web-rescue-1', uid: 'web-rescue-1-uid' }]);
  });

  test('a soft-deleted server waits out the reclaim interval, then is reclaimed', () => {
    const c = { ...cfg, reclaimInstanceIntervalSeconds: 60 };
    const st = activeStatus({ status: 'SOFT_DELETED', vmState: 'soft-delete', powerState: 'Shutdown', handledRequests: { powerState: 'SoftDeleted' } });
    const fresh = server({ powerState: 'SoftDeleted' }, { ...st, deletedAt: NOW });
    const stopped = vm('Stopped');
    const d = run({ server: fresh, vm: applied(fresh, { vm: stopped }), vmi: undefined }, refs(), c);
    assert.equal(d.status.deletedAt, NOW);
    assert.equal(d.requeueAfterMs, 60_000);
    assert.ok(!d.effects.some((e) => e.kind === 'reclaim'));
    const old = server({ powerState: 'SoftDeleted' }, { ...st, deletedAt: '2026-11-29T11:58:00Z' });
    const r = run({ server: old, vm: applied(old, { vm: stopped }), vmi: undefined }, refs(), c);
    assert.deepEqual(kinds(r.effects).filter((k) => k === 'reclaim' || k === 'event:Reclaimed'), ['reclaim', 'event:Reclaimed']);
  });

  test('a shelved server keeps its host until the offload time, then is SHELVED_OFFLOADED without one', () => {
    const c = { ...cfg, shelvedOffloadTimeSeconds: 60 };
    const st = activeStatus({ status: 'SHELVED', vmState: 'shelved', powerState: 'Shutdown', handledRequests: { powerState: 'Shelved' } });
    const stopped = vm('Stopped');
    const fresh = server({ powerState: 'Shelved' }, { ...st, shelvedAt: NOW });
    const d = run({ server: fresh, vm: applied(fresh, { vm: stopped }), vmi: undefined }, refs(), c);
    assert.equal(d.status.status, 'SHELVED');
    assert.equal(d.requeueAfterMs, 60_000);
    const old = server({ powerState: 'Shelved' }, { ...st, shelvedAt: '2026-11-29T11:58:00Z' });
    const o = run({ server: old, vm: applied(old, { vm: stopped }), vmi: undefined }, refs(), c);
    assert.equal(o.status.status, 'SHELVED_OFFLOADED');
    assert.equal(o.status.host, undefined);
    assert.equal(o.status.offloaded, true);
  });

  test('the VM hash decides whether to apply: a changed VM is applied, not created', () => {
    const s = server({}, activeStatus());
    const stale = { ...vm('Running'), metadata: { ...vm('Running').metadata, annotations: { [APPLIED_HASH]: 'old' } } };
    const d = run({ server: s, vm: stale, vmi: vmi('vmi-1') });
    assert.equal(d.apply?.created, false);
  });
});
