// Nova flavor → KubeVirt instancetype spec, with extra specs mapped as in
// ../shared/reference/kubevirt.md §6. Pure: no I/O. An extra spec that cannot be honoured is
// returned in `unsupported` with the reason, never dropped silently.
import type { FlavorSpec } from '../api/flavor.ts';
import type { InstancetypeSpec } from '../kubevirt/types.ts';
import { aggregateMetadataLabel } from '../api/labels.ts';
import type { FlavorMappingConfig } from '../cache/config.ts';

export interface Unsupported {
  key: string;
  reason: string;
}

export interface InstancetypeMapping {
  spec: InstancetypeSpec;
  unsupported: Unsupported[];
}

const truthy = (v: string): boolean => ['true', 'yes', '1', 'on'].includes(v.toLowerCase());
const falsy = (v: string): boolean => ['false', 'no', '0', 'off'].includes(v.toLowerCase());

/** Placement's CPU trait names whose KubeVirt node-labeller feature name is not the lowercased trait. */
const CPU_FEATURE_NAMES: Record<string, string> = {
  SSE3: 'pni', SSSE3: 'ssse3', SSE41: 'sse4.1', SSE42: 'sse4.2', SSE4A: 'sse4a', AESNI: 'aes', AMD_SVM: 'svm', VMX: 'vmx',
  CLMUL: 'pclmulqdq', F16C: 'f16c', FMA3: 'fma', FMA4: 'fma4', ABM: 'abm', BMI: 'bmi1', BMI2: 'bmi2', SHA: 'sha-ni', MPX: 'mpx',
  AVX512VNNI: 'avx512-vnni', AVX512VBMI: 'avx512vbmi', AVX512IFMA: 'avx512ifma', AVX512BITALG: 'avx512bitalg',
  AVX512VPOPCNTDQ: 'avx512-vpopcntdq', AVX512GFNI: 'gfni', AVX512VAES: 'vaes', AVX512VPCLMULQDQ: 'vpclmulqdq',
};

/** KubeVirt's node label for a Placement CPU trait (HW_CPU_X86_<NAME>). */
export const cpuFeatureLabel = (name: string): string => `cpu-feature.node.kubevirt.io/${CPU_FEATURE_NAMES[name] ?? name.toLowerCase().replaceAll('_', '-')}`;

type Rule = (value: string, spec: InstancetypeSpec, all: Record<string, string>, cfg: FlavorMappingConfig) => string | undefined;

/** Each rule applies its extra spec to `spec` and returns undefined, or returns why it cannot. */
const RULES: Record<string, Rule> = {
  'hw:cpu_policy': (v, s) => {
    if (v === 'dedicated') s.cpu.dedicatedCPUPlacement = true;
    else if (v !== 'shared') return `"${v}" is not supported (dedicated or shared)`;
    return undefined;
  },
  'hw:emulator_threads_policy': (v, s) => {
    if (v !== 'isolate') return `"${v}" is not supported: KubeVirt can only isolate the emulator thread`;
    s.cpu.isolateEmulatorThread = true;
    return undefined;
  },
  'hw:cpu_max_sockets': (v, s) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) return `"${v}" is not a positive integer`;
    s.cpu.maxSockets = n;
    return undefined;
  },
  'hw:cpu_realtime': (v, s, all) => {
    if (falsy(v)) return undefined;
    if (!truthy(v)) return `"${v}" is not a boolean`;
    const mask = all['hw:cpu_realtime_mask'];
    s.cpu.realtime = mask ? { mask } : {};
    // KubeVirt runs a real-time guest only on the host's NUMA mapping (its validation says so).
    s.cpu.numa = { guestMappingPassthrough: {} };
    return undefined;
  },
  'hw:cpu_realtime_mask': (_v, _s, all) => (all['hw:cpu_realtime'] && truthy(all['hw:cpu_realtime']) ? undefined : 'needs hw:cpu_realtime=yes'),
  'hw:mem_page_size': (v, s) => {
    const k = v.toLowerCase();
    if (['2mb', '2048', 'large'].includes(k)) s.memory.hugepages = { pageSize: '2Mi' };
    else if (['1gb', '1048576'].includes(k)) s.memory.hugepages = { pageSize: '1Gi' };
    else if (!['small', 'any'].includes(k)) return `"${v}" is not supported (small, any, large, 2MB or 1GB)`;
    return undefined;
  },
  'hw:numa_nodes': (v, s) => {
    if (v !== '1') return `"${v}" is not supported: KubeVirt can only pass the host NUMA mapping through (1)`;
    s.cpu.numa = { guestMappingPassthrough: {} };
    return undefined;
  },
  'hw:mem_encryption': (v, s) => {
    if (falsy(v)) return undefined;
    if (!truthy(v)) return `"${v}" is not a boolean`;
    s.launchSecurity = { sev: {} };
    return undefined;
  },
  'pci_passthrough:alias': (v, s, _all, cfg) => {
    for (const part of v.split(',')) {
      const [alias = '', countText = '1'] = part.trim().split(':');
      const count = Number(countText);
      const deviceName = cfg.pciAliases?.[alias];
      if (!deviceName) return `PCI alias "${alias}" has no KubeVirt host device configured`;
      if (!Number.isInteger(count) || count < 1) return `"${part}" has no valid count`;
      for (let i = 0; i < count; i++) (s.hostDevices ??= []).push({ name: `${alias}-${(s.hostDevices?.length ?? 0) + 1}`, deviceName });
    }
    return undefined;
  },
  'resources:VGPU': (v, s, _all, cfg) => {
    const count = Number(v);
    if (!cfg.vgpuDeviceName) return 'no vGPU device is configured';
    if (!Number.isInteger(count) || count < 1) return `"${v}" is not a positive integer`;
    for (let i = 0; i < count; i++) (s.gpus ??= []).push({ name: `vgpu-${i + 1}`, deviceName: cfg.vgpuDeviceName });
    return undefined;
  },
};

/** Maps one flavor. Keys matched by prefix (trait:, aggregate_instance_extra_specs:) are handled here too. */
export function instancetypeFor(flavor: FlavorSpec, cfg: FlavorMappingConfig = {}): InstancetypeMapping {
  const spec: InstancetypeSpec = { cpu: { guest: flavor.vcpus }, memory: { guest: `${flavor.ramMiB}Mi` } };
  const unsupported: Unsupported[] = [];
  const extra = flavor.extraSpecs ?? {};
  for (const key of Object.keys(extra).sort()) {
    const value = extra[key] ?? '';
    let reason: string | undefined;
    const rule = RULES[key];
    if (rule) reason = rule(value, spec, extra, cfg);
    else if (key.startsWith('aggregate_instance_extra_specs:')) {
      const label = key.slice('aggregate_instance_extra_specs:'.length);
      if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(label)) reason = `"${label}" cannot be a node label name`;
      else if (!/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(value)) reason = `"${value}" cannot be a node label value`;
      else (spec.nodeSelector ??= {})[aggregateMetadataLabel(label)] = value;
    } else if (key.startsWith('trait:')) {
      const trait = key.slice('trait:'.length);
      const feature = /^HW_CPU_X86_([A-Z0-9_]+)$/.exec(trait)?.[1];
      if (value !== 'required') reason = `"${value}" is not supported: only required traits can become node selectors`;
      else if (!feature) reason = `trait ${trait} has no KubeVirt node label (only HW_CPU_X86_* CPU features do)`;
      else (spec.nodeSelector ??= {})[cpuFeatureLabel(feature)] = 'true';
    } else reason = 'KubeVirt has no equivalent';
    if (reason) unsupported.push({ key, reason });
  }
  // KubeVirt passes the host's NUMA mapping through only to pinned CPUs backed by huge pages.
  if (spec.cpu.numa && (!spec.cpu.dedicatedCPUPlacement || !spec.memory.hugepages)) {
    const key = extra['hw:numa_nodes'] !== undefined ? 'hw:numa_nodes' : 'hw:cpu_realtime';
    unsupported.push({ key, reason: 'KubeVirt passes the NUMA mapping through only with hw:cpu_policy=dedicated and huge pages (hw:mem_page_size)' });
  }
  return { spec, unsupported };
}
