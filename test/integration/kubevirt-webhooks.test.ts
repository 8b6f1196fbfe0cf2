// Real virt-api's admission webhooks accept every VirtualMachine Kova generates — each flavor extra
// spec Kova maps, rescue, ephemeral and swap disks, the config drive, a key, the admin password
// through the guest agent, a zone and a host, a
// migration's placement, a server group's pod affinity, no network — and refuse a wrong one, so they are provably on. The VMs are
// created with dryRun=All: admission runs in full, nothing is stored. The instancetypes they name
// are the ones Kova's flavor controller would apply (instancetypeFor), created for real.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { API_VERSION } from '../../src/api/group.ts';
import type { Server, ServerSpec } from '../../src/api/server.ts';
import { instancetypeFor } from '../../src/controllers/flavor-instancetype.ts';
import { desiredVirtualMachine, needsUefi, type VmInputs } from '../../src/controllers/server/vm.ts';
import { KubeError, type KubeClient } from '../../src/kube/client.ts';
import { CLUSTER_INSTANCETYPES, VIRTUAL_MACHINES, type VirtualMachine } from '../../src/kubevirt/types.ts';
import { client } from '../support/cluster.ts';
import { project, uniq } from '../support/fixtures.ts';

describe('real virt-api admits the VirtualMachines Kova generates', () => {
  let c: KubeClient;
  let ns: string;
  const made: string[] = [];

  before(async () => {
    assert.ok(process.env.KOVA_TEST_KUBEVIRT_HANDLER, 'the test setup starts real virt-api (test/support/setup.ts)');
    c = await client();
    ({ namespace: ns } = await project(c));
  });
  after(async () => {
    for (const name of made) await c.delete(CLUSTER_INSTANCETYPES, name).catch(() => undefined);
    c.close();
  });

  /** A cluster instancetype from a flavor, as Kova's flavor controller makes it. */
  const instancetype = async (extraSpecs: Record<string, string> = {}, o: { vcpus?: number; ramMiB?: number } = {}): Promise<string> => {
    const name = uniq('wh');
    const { spec, unsupported } = instancetypeFor({ id: name, name, vcpus: o.vcpus ?? 2, ramMiB: o.ramMiB ?? 2048, extraSpecs }, { pciAliases: { gpu: 'nvidia.com/GA102GL_A10' }, vgpuDeviceName: 'nvidia.com/GRID_T4_1Q' });
    assert.deepEqual(unsupported, [], `Kova maps ${JSON.stringify(extraSpecs)}`);
    await c.create(CLUSTER_INSTANCETYPES, { apiVersion: 'instancetype.kubevirt.io/v1beta1', kind: 'VirtualMachineClusterInstancetype', metadata: { name }, spec });
    made.push(name);
    return name;
  };

  const server = (spec: Partial<ServerSpec> = {}): Server => ({
    apiVersion: API_VERSION, kind: 'Server',
    metadata: { name: uniq('vm'), namespace: ns, uid: '00000000-0000-4000-8000-000000000001' },
    spec: { name: 'Web 1', flavor: 'f', image: 'cirros', ...spec },
  });

  const vmOf = (it: string, o: Partial<VmInputs> = {}): VirtualMachine => desiredVirtualMachine({
    server: server(), instancetype: { kind: 'VirtualMachineClusterInstancetype', name: it },
    diskGiB: 1, ephemeralGiB: 0, swapMiB: 0, image: { name: 'cirros', namespace: 'kova-images' }, ...o,
  });

  /** Admission's verdict on creating the VM: undefined when accepted, else virt-api's message. */
  const verdict = async (vm: VirtualMachine): Promise<string | undefined> => {
    try {
      await c.create(VIRTUAL_MACHINES, vm, { dryRun: true });
      return undefined;
    } catch (e) {
      if (e instanceof KubeError) return e.status?.message ?? e.message;
      throw e;
    }
  };

  const extraSpecs: [string, Record<string, string>][] = [
    ['no extra specs', {}],
    ['dedicated CPUs with an isolated emulator thread', { 'hw:cpu_policy': 'dedicated', 'hw:emulator_threads_policy': 'isolate' }],
    ['shared CPUs, at most 2 sockets', { 'hw:cpu_policy': 'shared', 'hw:cpu_max_sockets': '2' }],
    ['real-time CPUs with a mask', { 'hw:cpu_policy': 'dedicated', 'hw:cpu_realtime': 'yes', 'hw:cpu_realtime_mask': '^0', 'hw:mem_page_size': '2MB' }],
    ['huge pages', { 'hw:mem_page_size': '1GB' }],
    ['one NUMA node, passed through', { 'hw:cpu_policy': 'dedicated', 'hw:numa_nodes': '1', 'hw:mem_page_size': '2MB' }],
    ['memory encryption (SEV)', { 'hw:mem_encryption': 'true' }],
    ['a PCI device by alias', { 'pci_passthrough:alias': 'gpu:1' }],
    ['a vGPU', { 'resources:VGPU': '1' }],
    ['aggregate metadata and a CPU trait as node selectors', { 'aggregate_instance_extra_specs:ssd': 'true', 'trait:HW_CPU_X86_AVX2': 'required' }],
  ];
  for (const [what, specs] of extraSpecs) {
    test(`flavor with ${what}`, async () => {
      assert.equal(await verdict(vmOf(await instancetype(specs), { uefi: needsUefi(specs, {}) })), undefined);
    });
  }

  test('rescue, ephemeral and swap disks, a key, a zone and a host, user data, no network, a migration\'s placement', async () => {
    const it = await instancetype();
    const variants: [string, VirtualMachine][] = [
      ['rescue', vmOf(it, { rescue: { volume: 'vm-rescue-1', image: 'cirros' } })],
      ['ephemeral and swap', vmOf(it, { ephemeralGiB: 5, swapMiB: 512 })],
      ['a key', vmOf(it, { keySecretName: 'key-secret' })],
      ['a zone and a host', vmOf(it, { server: server({ availabilityZone: 'zone-a', host: 'node-1' }) })],
      ['user data', vmOf(it, { server: server({ userData: { secretName: 'ud' } }) })],
      ['no network', vmOf(it, { server: server({ networks: 'none' }) })],
      ['stopped', vmOf(it, { server: server({ powerState: 'Shutoff' }) })],
      ['anywhere but a host', vmOf(it, { placement: { excludeHost: 'node-1' } })],
      ['a rebuilt root disk', vmOf(it, { rootVolume: 'vm-root-2' })],
      ['a chosen hostname', vmOf(it, { server: server({ hostname: 'db-1' }) })],
      ['UEFI (an image with hw_firmware_type=uefi)', vmOf(it, { uefi: needsUefi({}, { hw_firmware_type: 'uefi' }) })],
      ['a server group, same_host and different_host, beside a host to leave (docs/adr/020)', vmOf(it, {
        placement: { excludeHost: 'node-1' },
        hints: { group: { uid: '00000000-0000-4000-8000-000000000002', policy: 'anti-affinity', slot: 1 }, sameHost: ['a'], differentHost: ['b'] },
      })],
      ['a soft-affinity server group', vmOf(it, { hints: { group: { uid: '00000000-0000-4000-8000-000000000002', policy: 'soft-affinity' } } })],
    ];
    const refused = [];
    for (const [what, vm] of variants) {
      const v = await verdict(vm);
      if (v) refused.push(`${what}: ${v}`);
    }
    assert.deepEqual(refused, []);
  });

  test('the admin password (docs/adr/016): a userPassword credential from the server\'s credentials Secret through the guest agent, beside a key, is admitted; one without a propagation method is refused', async () => {
    const it = await instancetype();
    const vm = vmOf(it, { keySecretName: 'key-secret' });
    const creds = vm.spec.template.spec.accessCredentials ?? [];
    assert.deepEqual(creds.map((c) => Object.keys(c)[0]), ['sshPublicKey', 'userPassword']);
    assert.deepEqual(creds[1]?.userPassword?.propagationMethod, { qemuGuestAgent: {} });
    assert.equal(await verdict(vm), undefined);
    const wrong = vmOf(it);
    wrong.spec.template.spec.accessCredentials = [{ userPassword: { source: { secret: { secretName: 'x' } }, propagationMethod: {} as never } }];
    assert.match(await verdict(wrong) ?? 'accepted', /must have exactly one propagationMethod set/);
  });

  test('a wrong VirtualMachine is refused, with virt-api\'s reason', async () => {
    const vm = vmOf(await instancetype());
    // A disk that names no volume: virt-api's validating webhook refuses it.
    vm.spec.template.spec.domain.devices.disks = [...(vm.spec.template.spec.domain.devices.disks ?? []), { name: 'nowhere', disk: { bus: 'virtio' } }];
    assert.match(await verdict(vm) ?? 'accepted', /nowhere/);
  });
});
