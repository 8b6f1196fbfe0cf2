import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION } from '../../src/api/group.ts';
import type { Server, ServerSpec } from '../../src/api/server.ts';
import { desiredVirtualMachine, hashOf, needsUefi, rootVolumeName, type VmInputs } from '../../src/controllers/server/vm.ts';
import { defaultHostname } from '../../src/nova/hostname.ts';
import { portMac } from '../../src/neutron/model.ts';
import { APPLIED_HASH, HOSTNAME_LABEL, SERVER_LABEL, ZONE_LABEL } from '../../src/api/labels.ts';
import type { ObjectMeta } from '../../src/kube/types.ts';
import type { VirtualMachine, VirtualMachineInstanceSpec } from '../../src/kubevirt/types.ts';

const server = (spec: Partial<ServerSpec> = {}, meta: Partial<ObjectMeta> = {}): Server => ({
  apiVersion: API_VERSION,
  kind: 'Server',
  metadata: { name: 'web-1', namespace: 'proj-a', uid: '5f0c-uid', resourceVersion: '100', generation: 1, ...meta },
  spec: { name: 'Web 1', flavor: 'm1.small', image: 'cirros', ...spec },
});

const inputs = (over: Partial<VmInputs> = {}): VmInputs => ({
  server: server(),
  instancetype: { kind: 'VirtualMachineClusterInstancetype', name: 'm1.small' },
  diskGiB: 10,
  ephemeralGiB: 0,
  swapMiB: 0,
  image: { name: 'cirros', namespace: 'kova-images' },
  ...over,
});

const tpl = (vm: VirtualMachine): VirtualMachineInstanceSpec => vm.spec.template.spec;
const volume = (vm: VirtualMachine, name: string) => tpl(vm).volumes?.find((v) => v.name === name);
const disk = (vm: VirtualMachine, name: string) => tpl(vm).domain.devices.disks?.find((d) => d.name === name);
const hash = (vm: VirtualMachine): string | undefined => vm.metadata.annotations?.[APPLIED_HASH];

describe('rootVolumeName / defaultHostname', () => {
  test('rootVolumeName is "<server>-root"', () => {
    assert.equal(rootVolumeName('web-1'), 'web-1-root');
  });

  test('defaultHostname makes the display name DNS-safe', () => {
    assert.equal(defaultHostname('Web 1'), 'web-1');
    assert.equal(defaultHostname('My_Server.example!!'), 'my-server-example');
    assert.equal(defaultHostname('--lead and trail--'), 'lead-and-trail');
    assert.equal(defaultHostname('Ünïcödé box'), 'n-c-d-box');
    assert.equal(defaultHostname('already-fine-42'), 'already-fine-42');
  });

  test('defaultHostname falls back to "server" when nothing is left', () => {
    assert.equal(defaultHostname(''), 'server');
    assert.equal(defaultHostname('!!!'), 'server');
    assert.equal(defaultHostname('日本語'), 'server');
  });

  test('defaultHostname is at most 63 characters and does not end with a hyphen', () => {
    assert.equal(defaultHostname('a'.repeat(100)), 'a'.repeat(63));
    const h = defaultHostname(`${'a'.repeat(62)} bcd`);
    assert.equal(h, 'a'.repeat(62));
    for (const name of ['x'.repeat(70), `${'y'.repeat(63)}-z`, `${'q'.repeat(61)}  r`]) {
      const out = defaultHostname(name);
      assert.ok(out.length <= 63, out);
      assert.match(out, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });
});

describe('desiredVirtualMachine', () => {
  test('is a kubevirt.io/v1 VirtualMachine named and namespaced like the Server, labelled with it', () => {
    const vm = desiredVirtualMachine(inputs());
    assert.equal(vm.apiVersion, 'kubevirt.io/v1');
    assert.equal(vm.kind, 'VirtualMachine');
    assert.equal(vm.metadata.name, 'web-1');
    assert.equal(vm.metadata.namespace, 'proj-a');
    assert.deepEqual(vm.metadata.labels, { [SERVER_LABEL]: 'web-1' });
    assert.deepEqual(vm.spec.template.metadata?.labels, { [SERVER_LABEL]: 'web-1' });
    assert.deepEqual(vm.spec.dataVolumeTemplates?.[0]?.metadata.labels, { [SERVER_LABEL]: 'web-1' });
  });

  test('runStrategy follows spec.powerState', () => {
    assert.equal(desiredVirtualMachine(inputs({ server: server({ powerState: 'Running' }) })).spec.runStrategy, 'Always');
    assert.equal(desiredVirtualMachine(inputs({ server: server({ powerState: 'Shutoff' }) })).spec.runStrategy, 'Halted');
    assert.equal(desiredVirtualMachine(inputs()).spec.runStrategy, 'Always', 'Running is the default');
  });

  test('references the instancetype', () => {
    assert.deepEqual(desiredVirtualMachine(inputs()).spec.instancetype, { kind: 'VirtualMachineClusterInstancetype', name: 'm1.small' });
    const ns = desiredVirtualMachine(inputs({ instancetype: { kind: 'VirtualMachineInstancetype', name: 'private-1' } }));
    assert.deepEqual(ns.spec.instancetype, { kind: 'VirtualMachineInstancetype', name: 'private-1' });
  });

  test('the root disk is a DataVolume template from the image DataSource, sized "<disk>Gi"', () => {
    const vm = desiredVirtualMachine(inputs({ diskGiB: 20 }));
    assert.deepEqual(vm.spec.dataVolumeTemplates, [
      {
        metadata: { name: 'web-1-root', labels: { [SERVER_LABEL]: 'web-1' } },
        spec: {
          sourceRef: { kind: 'DataSource', name: 'cirros', namespace: 'kova-images' },
          storage: { resources: { requests: { storage: '20Gi' } } },
        },
      },
    ]);
    assert.deepEqual(volume(vm, 'root'), { name: 'root', dataVolume: { name: 'web-1-root' } });
    assert.deepEqual(disk(vm, 'root'), { name: 'root', disk: { bus: 'virtio' }, bootOrder: 1 });
  });

  test('disk 0 means the size of the image: storage is {}', () => {
    const vm = desiredVirtualMachine(inputs({ diskGiB: 0 }));
    assert.deepEqual(vm.spec.dataVolumeTemplates?.[0]?.spec.storage, {});
  });

  test('is owned by the Server (controller, blockOwnerDeletion)', () => {
    const vm = desiredVirtualMachine(inputs());
    assert.deepEqual(vm.metadata.ownerReferences, [{ apiVersion: 'compute.kova.io/v1alpha1', kind: 'Server', name: 'web-1', uid: '5f0c-uid', controller: true, blockOwnerDeletion: true }]);
  });

  test('accessCredentials: the key when keySecretName is given; always the password from the server\'s credentials Secret through the guest agent', () => {
    const password = { userPassword: { source: { secret: { secretName: 'web-1-credentials' } }, propagationMethod: { qemuGuestAgent: {} } } };
    assert.deepEqual(tpl(desiredVirtualMachine(inputs())).accessCredentials, [password]);
    const vm = desiredVirtualMachine(inputs({ keySecretName: 'kp-mykey' }));
    assert.deepEqual(tpl(vm).accessCredentials, [{ sshPublicKey: { source: { secret: { secretName: 'kp-mykey' } }, propagationMethod: { configDrive: {} } } }, password]);
    // No password in the VM, whatever the spec names.
    const withPassword = desiredVirtualMachine(inputs({ server: server({ adminPassword: { secretName: 'web-1-password-abc' } }) }));
    assert.deepEqual(tpl(withPassword).accessCredentials, [password], 'the VM names the stable Secret, not the request');
  });

  test('the config drive uses a secretRef when spec.userData is set, never inline user data', () => {
    const vm = desiredVirtualMachine(inputs({ server: server({ userData: { secretName: 'web-1-userdata' } }) }));
    const v = volume(vm, 'config-drive');
    assert.equal(v?.cloudInitConfigDrive?.userData, undefined);
    assert.deepEqual(v, { name: 'config-drive', cloudInitConfigDrive: { secretRef: { name: 'web-1-userdata' } } });
    assert.ok(disk(vm, 'config-drive'));
  });

  test('without spec.userData the config drive carries an empty cloud-config and no secretRef', () => {
    const v = volume(desiredVirtualMachine(inputs()), 'config-drive');
    assert.equal(v?.cloudInitConfigDrive?.secretRef, undefined);
    assert.deepEqual(v?.cloudInitConfigDrive, { userData: '#cloud-config\n' });
  });

  test('nodeSelector from availabilityZone and host', () => {
    assert.equal(tpl(desiredVirtualMachine(inputs())).nodeSelector, undefined);
    assert.deepEqual(tpl(desiredVirtualMachine(inputs({ server: server({ availabilityZone: 'zone-a' }) }))).nodeSelector, { [ZONE_LABEL]: 'zone-a' });
    assert.deepEqual(tpl(desiredVirtualMachine(inputs({ server: server({ host: 'node-3' }) }))).nodeSelector, { [HOSTNAME_LABEL]: 'node-3' });
    assert.deepEqual(tpl(desiredVirtualMachine(inputs({ server: server({ availabilityZone: 'zone-b', host: 'node-4' }) }))).nodeSelector, {
      'topology.kubernetes.io/zone': 'zone-b',
      'kubernetes.io/hostname': 'node-4',
    });
  });

  test('networks auto (and by default): one masquerade interface on the pod network', () => {
    for (const s of [server(), server({ networks: 'auto' })]) {
      const t = tpl(desiredVirtualMachine(inputs({ server: s })));
      assert.deepEqual(t.domain.devices.interfaces, [{ name: 'default', masquerade: {}, macAddress: portMac(s.metadata.uid ?? '') }]);
      assert.match(t.domain.devices.interfaces?.[0]?.macAddress ?? '', /^fa:16:3e(:[0-9a-f]{2}){3}$/);
      assert.deepEqual(t.networks, [{ name: 'default', pod: {} }]);
      assert.equal(t.domain.devices.autoattachPodInterface, undefined);
    }
  });

  test('networks none: no interfaces, no networks, autoattachPodInterface false', () => {
    const t = tpl(desiredVirtualMachine(inputs({ server: server({ networks: 'none' }) })));
    assert.deepEqual(t.domain.devices.interfaces, []);
    assert.deepEqual(t.networks, []);
    assert.equal(t.domain.devices.autoattachPodInterface, false);
  });

  test('the serial console is logged, for os-getConsoleOutput', () => {
    for (const s of [server(), server({ networks: 'none' })]) assert.equal(tpl(desiredVirtualMachine(inputs({ server: s }))).domain.devices.logSerialConsole, true);
  });

  test('no ephemeral or swap disks when the flavor has none', () => {
    const vm = desiredVirtualMachine(inputs());
    assert.deepEqual(
      tpl(vm).domain.devices.disks?.map((d) => d.name),
      ['root', 'config-drive'],
    );
    assert.deepEqual(
      tpl(vm).volumes?.map((v) => v.name),
      ['root', 'config-drive'],
    );
  });

  test('ephemeral and swap disks are emptyDisks', () => {
    const vm = desiredVirtualMachine(inputs({ ephemeralGiB: 5, swapMiB: 512 }));
    assert.deepEqual(volume(vm, 'ephemeral'), { name: 'ephemeral', emptyDisk: { capacity: '5Gi' } });
    assert.deepEqual(volume(vm, 'swap'), { name: 'swap', emptyDisk: { capacity: '512Mi' } });
    assert.deepEqual(disk(vm, 'ephemeral'), { name: 'ephemeral', disk: { bus: 'virtio' } });
    assert.deepEqual(disk(vm, 'swap'), { name: 'swap', disk: { bus: 'virtio' } });
    // every disk has a volume and vice versa; only the root disk boots
    assert.deepEqual(
      tpl(vm).domain.devices.disks?.map((d) => d.name),
      tpl(vm).volumes?.map((v) => v.name),
    );
    assert.deepEqual(
      tpl(vm).domain.devices.disks?.filter((d) => d.bootOrder !== undefined).map((d) => d.name),
      ['root'],
    );
  });

  test('only one of ephemeral / swap', () => {
    assert.deepEqual(
      tpl(desiredVirtualMachine(inputs({ swapMiB: 1024 }))).volumes?.map((v) => v.name),
      ['root', 'swap', 'config-drive'],
    );
    assert.deepEqual(
      tpl(desiredVirtualMachine(inputs({ ephemeralGiB: 1 }))).volumes?.map((v) => v.name),
      ['root', 'ephemeral', 'config-drive'],
    );
  });

  test('hostname: spec.hostname, else the default from the display name', () => {
    assert.equal(tpl(desiredVirtualMachine(inputs())).hostname, 'web-1');
    assert.equal(tpl(desiredVirtualMachine(inputs({ server: server({ name: 'Database Primary' }) }))).hostname, 'database-primary');
    assert.equal(tpl(desiredVirtualMachine(inputs({ server: server({ hostname: 'db0' }) }))).hostname, 'db0');
  });

  test('sim.kova.io/* annotations are copied, others are not', () => {
    const vm = desiredVirtualMachine(
      inputs({
        server: server({}, { annotations: { 'sim.kova.io/boot-seconds': '3', 'sim.kova.io/fail': 'crash', 'example.com/note': 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } }),
      }),
    );
    const ann = { ...vm.metadata.annotations };
    delete ann[APPLIED_HASH];
    assert.deepEqual(ann, { 'sim.kova.io/boot-seconds': '3', 'sim.kova.io/fail': 'crash' });
  });

  test('without annotations on the Server, the VM carries only the applied hash', () => {
    const vm = desiredVirtualMachine(inputs());
    assert.deepEqual(Object.keys(vm.metadata.annotations ?? {}), [APPLIED_HASH]);
  });
});

describe('applied hash', () => {
  test('is a short hex string', () => {
    assert.match(hash(desiredVirtualMachine(inputs())) ?? '', /^[0-9a-f]{16}$/);
  });

  test('is the hash of the VM as built, without the hash annotation itself', () => {
    const vm = desiredVirtualMachine(inputs({ server: server({}, { annotations: { 'sim.kova.io/x': '1' } }) }));
    const copy = structuredClone(vm);
    copy.metadata.annotations = { 'sim.kova.io/x': '1' };
    assert.equal(hash(vm), hashOf(copy));
  });

  test('is stable for equal input', () => {
    const a = desiredVirtualMachine(inputs({ keySecretName: 'k', ephemeralGiB: 1, server: server({ userData: { secretName: 'u' } }, { annotations: { 'sim.kova.io/a': '1' } }) }));
    const b = desiredVirtualMachine(inputs({ keySecretName: 'k', ephemeralGiB: 1, server: server({ userData: { secretName: 'u' } }, { annotations: { 'sim.kova.io/a': '1' } }) }));
    assert.equal(hash(a), hash(b));
    assert.deepEqual(a, b);
  });

  test('ignores Server fields that do not reach the VM (resourceVersion, generation, status, other annotations)', () => {
    const base = hash(desiredVirtualMachine(inputs()));
    const s = server({}, { resourceVersion: '999', generation: 7, annotations: { 'example.com/x': 'y' }, labels: { team: 'a' } });
    s.status = { status: 'ACTIVE', powerState: 'Running' };
    assert.equal(hash(desiredVirtualMachine(inputs({ server: s }))), base);
  });

  test('changes when the input changes', () => {
    const base = hash(desiredVirtualMachine(inputs()));
    const variants: [string, VmInputs][] = [
      ['powerState', inputs({ server: server({ powerState: 'Shutoff' }) })],
      ['instancetype', inputs({ instancetype: { kind: 'VirtualMachineClusterInstancetype', name: 'm1.large' } })],
      ['diskGiB', inputs({ diskGiB: 11 })],
      ['ephemeralGiB', inputs({ ephemeralGiB: 1 })],
      ['swapMiB', inputs({ swapMiB: 256 })],
      ['image', inputs({ image: { name: 'fedora', namespace: 'kova-images' } })],
      ['keySecretName', inputs({ keySecretName: 'kp' })],
      ['userData', inputs({ server: server({ userData: { secretName: 'ud' } }) })],
      ['availabilityZone', inputs({ server: server({ availabilityZone: 'z' }) })],
      ['host', inputs({ server: server({ host: 'n' }) })],
      ['networks', inputs({ server: server({ networks: 'none' }) })],
      ['hostname', inputs({ server: server({ hostname: 'other' }) })],
      ['sim annotation', inputs({ server: server({}, { annotations: { 'sim.kova.io/boot-seconds': '1' } }) })],
      ['uid', inputs({ server: server({}, { uid: 'another-uid' }) })],
    ];
    const seen = new Set([base]);
    for (const [what, i] of variants) {
      const h = hash(desiredVirtualMachine(i));
      assert.notEqual(h, base, what);
      seen.add(h);
    }
    assert.equal(seen.size, variants.length + 1, 'all variants hash differently');
  });

  test('hashOf is deterministic and sensitive to content', () => {
    assert.equal(hashOf({ a: 1, b: [1, 2] }), hashOf({ a: 1, b: [1, 2] }));
    assert.notEqual(hashOf({ a: 1 }), hashOf({ a: 2 }));
  });
});

describe('firmware', () => {
  test('BIOS unless the flavor encrypts memory or the image asks for UEFI; UEFI without Secure Boot (SEV)', () => {
    assert.equal(tpl(desiredVirtualMachine(inputs())).domain.firmware, undefined);
    assert.deepEqual(tpl(desiredVirtualMachine(inputs({ uefi: true }))).domain.firmware, { bootloader: { efi: { secureBoot: false } } });
    assert.equal(needsUefi({ 'hw:mem_encryption': 'true' }, {}), true);
    assert.equal(needsUefi({ 'hw:mem_encryption': 'no' }, {}), false);
    assert.equal(needsUefi({}, { hw_firmware_type: 'uefi' }), true);
    assert.equal(needsUefi({}, { hw_firmware_type: 'bios' }), false);
    assert.equal(needsUefi(undefined, undefined), false);
  });
});
