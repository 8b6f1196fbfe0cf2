import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { FlavorSpec } from '../../src/api/flavor.ts';
import { instancetypeFor, type InstancetypeMapping } from '../../src/controllers/flavor-instancetype.ts';
import { type FlavorMappingConfig } from '../../src/cache/config.ts';
import { aggregateMetadataLabel } from '../../src/api/labels.ts';
import type { InstancetypeSpec } from '../../src/kubevirt/types.ts';

const flavor = (extraSpecs?: Record<string, string>, over: Partial<FlavorSpec> = {}): FlavorSpec => ({ name: 'm1.test', vcpus: 2, ramMiB: 4096, ...(extraSpecs ? { extraSpecs } : {}), ...over });
const map = (extraSpecs: Record<string, string>, cfg?: FlavorMappingConfig): InstancetypeMapping => instancetypeFor(flavor(extraSpecs), cfg);
const BASE: InstancetypeSpec = { cpu: { guest: 2 }, memory: { guest: '4096Mi' } };

/** Asserts that `m` is the base spec plus `spec` changes, and nothing is unsupported. */
function supported(m: InstancetypeMapping, spec: InstancetypeSpec): void {
  assert.deepEqual(m.unsupported, []);
  assert.deepEqual(m.spec, spec);
}

/** Asserts that exactly `keys` are unsupported (each with a reason) and that the spec is the base. */
function rejected(m: InstancetypeMapping, keys: string[], spec: InstancetypeSpec = BASE): void {
  assert.deepEqual(
    m.unsupported.map((u) => u.key),
    keys,
  );
  for (const u of m.unsupported) {
    assert.equal(typeof u.reason, 'string');
    assert.ok(u.reason.length > 0, `${u.key} has a reason`);
  }
  assert.deepEqual(m.spec, spec);
}

describe('base mapping', () => {
  test('vcpus → cpu.guest and ramMiB → memory.guest "<ram>Mi"', () => {
    supported(instancetypeFor(flavor()), BASE);
    supported(instancetypeFor({ name: 'big', vcpus: 64, ramMiB: 262144 }), { cpu: { guest: 64 }, memory: { guest: '262144Mi' } });
    supported(instancetypeFor({ name: 'tiny', vcpus: 1, ramMiB: 512 }), { cpu: { guest: 1 }, memory: { guest: '512Mi' } });
  });

  test('empty extraSpecs is the same as none', () => {
    supported(map({}), BASE);
  });

  test('disk, ephemeral and swap are not part of the instancetype', () => {
    supported(instancetypeFor(flavor(undefined, { diskGiB: 20, ephemeralGiB: 5, swapMiB: 1024 })), BASE);
  });

  test('does not mutate the flavor, and separate calls do not share state', () => {
    const f = flavor({ 'hw:cpu_policy': 'dedicated', 'aggregate_instance_extra_specs:ssd': 'true' });
    const before = structuredClone(f);
    const a = instancetypeFor(f);
    const b = instancetypeFor(f);
    assert.deepEqual(f, before);
    assert.deepEqual(a, b);
    assert.notEqual(a.spec, b.spec);
    a.spec.cpu.guest = 99;
    assert.equal(b.spec.cpu.guest, 2);
    supported(instancetypeFor(flavor()), BASE);
  });
});

describe('hw:cpu_policy', () => {
  test('dedicated → dedicatedCPUPlacement', () => {
    supported(map({ 'hw:cpu_policy': 'dedicated' }), { ...BASE, cpu: { guest: 2, dedicatedCPUPlacement: true } });
  });
  test('shared → nothing to do', () => {
    supported(map({ 'hw:cpu_policy': 'shared' }), BASE);
  });
  test('mixed and other values are unsupported', () => {
    rejected(map({ 'hw:cpu_policy': 'mixed' }), ['hw:cpu_policy']);
    rejected(map({ 'hw:cpu_policy': 'DEDICATED-ish' }), ['hw:cpu_policy']);
    assert.match(map({ 'hw:cpu_policy': 'mixed' }).unsupported[0]?.reason ?? '', /mixed/);
  });
});

describe('hw:emulator_threads_policy', () => {
  test('isolate → isolateEmulatorThread', () => {
    supported(map({ 'hw:emulator_threads_policy': 'isolate' }), { ...BASE, cpu: { guest: 2, isolateEmulatorThread: true } });
  });
  test('share is unsupported', () => {
    rejected(map({ 'hw:emulator_threads_policy': 'share' }), ['hw:emulator_threads_policy']);
  });
});

describe('hw:cpu_max_sockets', () => {
  test('a positive integer → cpu.maxSockets', () => {
    supported(map({ 'hw:cpu_max_sockets': '2' }), { ...BASE, cpu: { guest: 2, maxSockets: 2 } });
  });
  test('zero, negative, fractional and non-numbers are unsupported', () => {
    for (const v of ['0', '-1', '1.5', 'two', '']) rejected(map({ 'hw:cpu_max_sockets': v }), ['hw:cpu_max_sockets']);
  });
});

describe('hw:cpu_realtime and hw:cpu_realtime_mask', () => {
  // KubeVirt runs a real-time guest only on the host's NUMA mapping, which needs pinned CPUs and huge pages.
  const PINNED = { 'hw:cpu_policy': 'dedicated', 'hw:mem_page_size': '2MB' };
  const PINNED_SPEC = { cpu: { guest: 2, dedicatedCPUPlacement: true, numa: { guestMappingPassthrough: {} } }, memory: { guest: '4096Mi', hugepages: { pageSize: '2Mi' } } };
  test('realtime without a mask → cpu.realtime {} on the host NUMA mapping', () => {
    for (const v of ['yes', 'true', 'True', '1', 'on']) supported(map({ ...PINNED, 'hw:cpu_realtime': v }), { ...PINNED_SPEC, cpu: { ...PINNED_SPEC.cpu, realtime: {} } });
  });
  test('realtime with a mask → cpu.realtime.mask, and the mask is not reported', () => {
    supported(map({ ...PINNED, 'hw:cpu_realtime': 'yes', 'hw:cpu_realtime_mask': '^0-1' }), { ...PINNED_SPEC, cpu: { ...PINNED_SPEC.cpu, realtime: { mask: '^0-1' } } });
  });
  test('realtime without pinned CPUs and huge pages is unsupported, saying what it needs', () => {
    const m = map({ 'hw:cpu_realtime': 'yes' });
    assert.deepEqual(m.unsupported.map((u) => u.key), ['hw:cpu_realtime']);
    assert.match(m.unsupported[0]?.reason ?? '', /hw:cpu_policy=dedicated and huge pages/);
  });
  test('realtime=no → nothing to do', () => {
    for (const v of ['no', 'false', '0', 'off']) supported(map({ 'hw:cpu_realtime': v }), BASE);
  });
  test('a non-boolean realtime is unsupported', () => {
    rejected(map({ 'hw:cpu_realtime': 'maybe' }), ['hw:cpu_realtime']);
  });
  test('the mask alone is unsupported and says it needs hw:cpu_realtime', () => {
    const m = map({ 'hw:cpu_realtime_mask': '^0' });
    rejected(m, ['hw:cpu_realtime_mask']);
    assert.match(m.unsupported[0]?.reason ?? '', /hw:cpu_realtime/);
  });
  test('the mask with realtime=no is unsupported', () => {
    rejected(map({ 'hw:cpu_realtime': 'no', 'hw:cpu_realtime_mask': '^0' }), ['hw:cpu_realtime_mask']);
  });
});

describe('hw:mem_page_size', () => {
  test('2MB, 2048 and large → hugepages 2Mi (case-insensitive)', () => {
    for (const v of ['2MB', '2mb', '2048', 'large', 'LARGE']) supported(map({ 'hw:mem_page_size': v }), { ...BASE, memory: { guest: '4096Mi', hugepages: { pageSize: '2Mi' } } });
  });
  test('1GB and 1048576 → hugepages 1Gi', () => {
    for (const v of ['1GB', '1gb', '1048576']) supported(map({ 'hw:mem_page_size': v }), { ...BASE, memory: { guest: '4096Mi', hugepages: { pageSize: '1Gi' } } });
  });
  test('small and any → no hugepages', () => {
    for (const v of ['small', 'any', 'SMALL']) supported(map({ 'hw:mem_page_size': v }), BASE);
  });
  test('bogus sizes are unsupported', () => {
    for (const v of ['bogus', '4KB', '16MB', '']) rejected(map({ 'hw:mem_page_size': v }), ['hw:mem_page_size']);
  });
});

describe('hw:numa_nodes', () => {
  test('1 with pinned CPUs and huge pages → guestMappingPassthrough', () => {
    supported(map({ 'hw:numa_nodes': '1', 'hw:cpu_policy': 'dedicated', 'hw:mem_page_size': '1GB' }), { cpu: { guest: 2, dedicatedCPUPlacement: true, numa: { guestMappingPassthrough: {} } }, memory: { guest: '4096Mi', hugepages: { pageSize: '1Gi' } } });
  });
  test('1 without pinned CPUs or huge pages is unsupported (KubeVirt refuses such a VM)', () => {
    assert.deepEqual(map({ 'hw:numa_nodes': '1' }).unsupported.map((u) => u.key), ['hw:numa_nodes']);
    assert.deepEqual(map({ 'hw:numa_nodes': '1', 'hw:cpu_policy': 'dedicated' }).unsupported.map((u) => u.key), ['hw:numa_nodes']);
  });
  test('2 (or anything else) is unsupported', () => {
    for (const v of ['2', '4', '0', 'one']) rejected(map({ 'hw:numa_nodes': v }), ['hw:numa_nodes']);
  });
});

describe('hw:mem_encryption', () => {
  test('true → launchSecurity.sev', () => {
    for (const v of ['true', 'yes', 'True']) supported(map({ 'hw:mem_encryption': v }), { ...BASE, launchSecurity: { sev: {} } });
  });
  test('false → nothing to do', () => {
    for (const v of ['false', 'no']) supported(map({ 'hw:mem_encryption': v }), BASE);
  });
  test('a non-boolean is unsupported', () => {
    rejected(map({ 'hw:mem_encryption': 'sev' }), ['hw:mem_encryption']);
  });
});

describe('pci_passthrough:alias', () => {
  const cfg: FlavorMappingConfig = { pciAliases: { a1: 'vendor.com/GPU_A', nic: 'intel.com/X710_VF' } };

  test('an alias with a count → that many hostDevices', () => {
    supported(map({ 'pci_passthrough:alias': 'a1:2' }, cfg), {
      ...BASE,
      hostDevices: [
        { name: 'a1-1', deviceName: 'vendor.com/GPU_A' },
        { name: 'a1-2', deviceName: 'vendor.com/GPU_A' },
      ],
    });
  });

  test('an alias without a count → one hostDevice', () => {
    supported(map({ 'pci_passthrough:alias': 'nic' }, cfg), { ...BASE, hostDevices: [{ name: 'nic-1', deviceName: 'intel.com/X710_VF' }] });
  });

  test('several aliases, comma-separated, with unique device names', () => {
    const m = map({ 'pci_passthrough:alias': 'a1:1, nic:2' }, cfg);
    assert.deepEqual(m.unsupported, []);
    assert.deepEqual(
      m.spec.hostDevices?.map((d) => d.deviceName),
      ['vendor.com/GPU_A', 'intel.com/X710_VF', 'intel.com/X710_VF'],
    );
    const names = m.spec.hostDevices?.map((d) => d.name) ?? [];
    assert.equal(new Set(names).size, 3, `names are unique: ${names.join(',')}`);
  });

  test('an alias that is not configured is unsupported and names the alias', () => {
    const m = map({ 'pci_passthrough:alias': 'fpga:1' }, cfg);
    rejected(m, ['pci_passthrough:alias']);
    assert.match(m.unsupported[0]?.reason ?? '', /fpga/);
  });

  test('without any alias configuration it is unsupported', () => {
    rejected(map({ 'pci_passthrough:alias': 'a1:1' }), ['pci_passthrough:alias']);
  });

  test('an invalid count is unsupported', () => {
    for (const v of ['a1:0', 'a1:x', 'a1:1.5', 'a1:-1']) {
      const m = map({ 'pci_passthrough:alias': v }, cfg);
      assert.deepEqual(
        m.unsupported.map((u) => u.key),
        ['pci_passthrough:alias'],
        v,
      );
    }
  });
});

describe('resources:VGPU', () => {
  const cfg: FlavorMappingConfig = { vgpuDeviceName: 'nvidia.com/GRID_T4_1Q' };

  test('with vgpuDeviceName → gpus', () => {
    supported(map({ 'resources:VGPU': '1' }, cfg), { ...BASE, gpus: [{ name: 'vgpu-1', deviceName: 'nvidia.com/GRID_T4_1Q' }] });
    supported(map({ 'resources:VGPU': '2' }, cfg), {
      ...BASE,
      gpus: [
        { name: 'vgpu-1', deviceName: 'nvidia.com/GRID_T4_1Q' },
        { name: 'vgpu-2', deviceName: 'nvidia.com/GRID_T4_1Q' },
      ],
    });
  });

  test('without vgpuDeviceName it is unsupported', () => {
    rejected(map({ 'resources:VGPU': '1' }), ['resources:VGPU']);
    rejected(map({ 'resources:VGPU': '1' }, { pciAliases: { a: 'b' } }), ['resources:VGPU']);
  });

  test('an invalid count is unsupported', () => {
    for (const v of ['0', '-1', 'one', '1.5']) rejected(map({ 'resources:VGPU': v }, cfg), ['resources:VGPU']);
  });
});

describe('trait:*', () => {
  test('trait:HW_CPU_X86_AVX2=required → nodeSelector cpu-feature.node.kubevirt.io/avx2', () => {
    supported(map({ 'trait:HW_CPU_X86_AVX2': 'required' }), { ...BASE, nodeSelector: { 'cpu-feature.node.kubevirt.io/avx2': 'true' } });
  });

  test('several CPU traits add several selectors', () => {
    supported(map({ 'trait:HW_CPU_X86_AVX2': 'required', 'trait:HW_CPU_X86_AVX512F': 'required' }), {
      ...BASE,
      nodeSelector: { 'cpu-feature.node.kubevirt.io/avx2': 'true', 'cpu-feature.node.kubevirt.io/avx512f': 'true' },
    });
  });

  test('a forbidden trait is unsupported', () => {
    const m = map({ 'trait:HW_CPU_X86_AVX2': 'forbidden' });
    rejected(m, ['trait:HW_CPU_X86_AVX2']);
    assert.match(m.unsupported[0]?.reason ?? '', /forbidden/);
  });

  test('a non-CPU trait is unsupported', () => {
    for (const key of ['trait:CUSTOM_FAST_STORAGE', 'trait:COMPUTE_STATUS_DISABLED', 'trait:HW_GPU_API_VULKAN']) {
      const m = map({ [key]: 'required' });
      rejected(m, [key]);
      assert.ok(m.unsupported[0]?.reason.includes(key.slice('trait:'.length)), m.unsupported[0]?.reason);
    }
  });
});

describe('aggregate_instance_extra_specs:*', () => {
  test('aggregateMetadataLabel is the Kova node label of an aggregate metadata key', () => {
    assert.equal(aggregateMetadataLabel('ssd'), 'metadata.aggregate.compute.kova.io/ssd');
  });

  test('ssd=true → nodeSelector on aggregateMetadataLabel("ssd")', () => {
    supported(map({ 'aggregate_instance_extra_specs:ssd': 'true' }), { ...BASE, nodeSelector: { [aggregateMetadataLabel('ssd')]: 'true' } });
  });

  test('an empty value selects the empty label value', () => {
    supported(map({ 'aggregate_instance_extra_specs:gpu': '' }), { ...BASE, nodeSelector: { [aggregateMetadataLabel('gpu')]: '' } });
  });

  test('aggregate and trait selectors combine', () => {
    supported(map({ 'aggregate_instance_extra_specs:ssd': 'true', 'trait:HW_CPU_X86_AVX2': 'required' }), {
      ...BASE,
      nodeSelector: { [aggregateMetadataLabel('ssd')]: 'true', 'cpu-feature.node.kubevirt.io/avx2': 'true' },
    });
  });

  test('a key or value that cannot be a node label is unsupported', () => {
    rejected(map({ 'aggregate_instance_extra_specs:bad key': 'true' }), ['aggregate_instance_extra_specs:bad key']);
    rejected(map({ 'aggregate_instance_extra_specs:-ssd': 'true' }), ['aggregate_instance_extra_specs:-ssd']);
    rejected(map({ 'aggregate_instance_extra_specs:': 'true' }), ['aggregate_instance_extra_specs:']);
    rejected(map({ 'aggregate_instance_extra_specs:ssd': '<in> true' }), ['aggregate_instance_extra_specs:ssd']);
    rejected(map({ 'aggregate_instance_extra_specs:ssd': 'x'.repeat(64) }), ['aggregate_instance_extra_specs:ssd']);
  });
});

describe('unknown keys', () => {
  test('are unsupported, with the key named', () => {
    for (const key of ['quota:cpu_shares', 'hw:cpu_thread_policy', 'hw:watchdog_action', 'hw:cpu_sockets', 'capabilities:cpu_arch']) {
      const m = map({ [key]: 'whatever' });
      rejected(m, [key]);
      assert.equal(m.unsupported[0]?.reason, 'KubeVirt has no equivalent');
    }
  });

  test('every unsupported extra spec is reported, sorted by key, and the supported ones still apply', () => {
    const m = map({
      'quota:cpu_shares': '1024',
      'hw:cpu_policy': 'dedicated',
      'hw:cpu_thread_policy': 'isolate',
      'hw:numa_nodes': '2',
      'trait:HW_CPU_X86_AVX2': 'required',
    });
    rejected(m, ['hw:cpu_thread_policy', 'hw:numa_nodes', 'quota:cpu_shares'], {
      ...BASE,
      cpu: { guest: 2, dedicatedCPUPlacement: true },
      nodeSelector: { 'cpu-feature.node.kubevirt.io/avx2': 'true' },
    });
  });

  test('every unsupported entry carries a key present in the extra specs and a reason', () => {
    const extra = {
      'hw:cpu_policy': 'mixed',
      'hw:mem_page_size': 'bogus',
      'hw:numa_nodes': '2',
      'hw:cpu_realtime_mask': '^0',
      'hw:mem_encryption': 'perhaps',
      'pci_passthrough:alias': 'x:1',
      'resources:VGPU': '1',
      'trait:HW_CPU_X86_AVX2': 'forbidden',
      'trait:CUSTOM_X': 'required',
      'aggregate_instance_extra_specs:a b': 'c',
      'quota:cpu_shares': '1',
    };
    const m = map(extra);
    assert.equal(m.unsupported.length, Object.keys(extra).length);
    assert.deepEqual(
      m.unsupported.map((u) => u.key),
      Object.keys(extra).sort(),
    );
    for (const u of m.unsupported) {
      assert.ok(Object.hasOwn(extra, u.key), u.key);
      assert.ok(u.reason.length > 0, u.key);
    }
    assert.deepEqual(m.spec, BASE);
  });
});
