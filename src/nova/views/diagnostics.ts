// GET /servers/{id}/diagnostics: what KubeVirt reports of a server's guest, in Nova's forms — the
// standard one from 2.48, the driver's own dictionary before. KubeVirt runs the guest with libvirt
// and KVM; its VirtualMachineInstance tells the vCPUs, disks, NICs (with MACs) and when it started
// running, not the per-device counters libvirt keeps (those are virt-handler's metrics), which are
// Nova's null. A server whose guest is not running (stopped) has no VMI: its flavor is all there is. Pure.
import type { Server } from '../../api/server.ts';
import type { Node } from '../../kube/types.ts';
import type { VirtualMachineInstance } from '../../kubevirt/types.ts';
import type { Version } from '../microversion.ts';

/** Nova's power state names, as diagnostics show them. */
const STATE: Record<string, string> = { NOSTATE: 'pending', Running: 'running', Paused: 'paused', Shutdown: 'shutdown', Crashed: 'crashed', Suspended: 'suspended' };

/** Seconds since the VMI last started running, at `now`. */
function uptime(vmi: VirtualMachineInstance | undefined, now: Date): number | null {
  if (vmi?.status?.phase !== 'Running') return null;
  const since = vmi.status.phaseTransitionTimestamps?.filter((p) => p.phase === 'Running').map((p) => Date.parse(p.phaseTransitionTimestamp)).sort().at(-1);
  return since === undefined ? null : Math.max(0, Math.floor((now.getTime() - since) / 1000));
}

export function diagnosticsView(v: Version, s: Server, vmi: VirtualMachineInstance | undefined, node: Node | undefined, now: Date): Record<string, unknown> {
  const flavor = s.status?.flavor;
  const memoryMiB = flavor?.ramMiB ?? null;
  if (!v.atLeast('2.48')) return memoryMiB === null ? {} : { memory: memoryMiB * 1024 };
  const vcpus = flavor?.vcpus ?? null;
  const disks = vmi?.spec.domain.devices.disks ?? [];
  const nics = vmi?.spec.domain.devices.interfaces ?? [];
  const macs = new Map((vmi?.status?.interfaces ?? []).map((i) => [i.name ?? '', i.mac ?? null]));
  const counters = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, null])) as Record<K, null>;
  return {
    config_drive: true,
    cpu_details: vmi ? Array.from({ length: vcpus ?? 0 }, (_, id) => ({ id, time: null, utilisation: null })) : [],
    disk_details: disks.map(() => counters(['errors_count', 'read_bytes', 'read_requests', 'write_bytes', 'write_requests'] as const)),
    driver: 'libvirt',
    hypervisor: 'kvm',
    hypervisor_os: node?.status?.nodeInfo?.operatingSystem ?? null,
    memory_details: { maximum: memoryMiB, used: null },
    nic_details: nics.map((n) => ({ mac_address: macs.get(n.name) ?? null, ...counters(['rx_drop', 'rx_errors', 'rx_octets', 'rx_packets', 'rx_rate', 'tx_drop', 'tx_errors', 'tx_octets', 'tx_packets', 'tx_rate'] as const) })),
    num_cpus: vcpus,
    num_disks: vmi ? disks.length : null,
    num_nics: vmi ? nics.length : null,
    state: STATE[s.status?.powerState ?? 'NOSTATE'] ?? 'pending',
    uptime: uptime(vmi, now),
  };
}
