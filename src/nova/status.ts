// The Nova state of a KubeVirt VirtualMachine (kept in Server.status; HTTP bodies are nova/views/): status, vm_state, task_state, power_state, fault,
// host and addresses, computed from the VM, its VMI and its DataVolumes. Pure: no I/O.
// The mapping is the table in ../shared/design/architecture.md ("Server state: Nova view of KubeVirt").
import type { Address, Fault, ServerStatus, POWER_REQUESTS } from '../api/server.ts';
import { vmCondition, type DataVolume, type CachedVirtualMachineInstance, type CachedVirtualMachine } from '../kubevirt/types.ts';

export type NovaStatus = NonNullable<ServerStatus['status']>;
export type PowerState = NonNullable<ServerStatus['powerState']>;

/** Nova's power_state numbers, for the API (OS-EXT-STS:power_state). */
export const POWER_STATE_CODES: Record<PowerState, number> = { NOSTATE: 0, Running: 1, Paused: 3, Shutdown: 4, Crashed: 6, Suspended: 7 };

export const NO_VALID_HOST = 'No valid host was found. There are not enough hosts available.';

/** The part of Server.status that follows from KubeVirt's state. */
export interface NovaState {
  status: NovaStatus;
  vmState: string;
  taskState?: string;
  powerState: PowerState;
  progress: number;
  fault?: Omit<Fault, 'created'>;
  host?: string;
  addresses?: Record<string, Address[]>;
  /** True once the guest has been seen running (drives launchedAt and "Starting after a stop"). */
  running: boolean;
}

export interface NovaStateInput {
  desiredPower: (typeof POWER_REQUESTS)[number];
  /** Shelved and offloaded (the host released). */
  offloaded?: boolean;
  /** The server is being deleted. */
  deleting: boolean;
  /** The server has run before (status.launchedAt is set). */
  launched: boolean;
  previous?: Pick<ServerStatus, 'status' | 'vmState' | 'host' | 'addresses'>;
  /** A reference (flavor, image, key pair) that cannot be resolved: the server cannot be built. */
  referenceFault?: Omit<Fault, 'created'>;
  vm?: CachedVirtualMachine;
  vmi?: CachedVirtualMachineInstance;
  dataVolumes?: DataVolume[];
  /** Network name used for the pod network in `addresses`. */
  networkName?: string;
  /** A reboot in progress (the VMI is being replaced). */
  rebooting?: 'SOFT' | 'HARD';
}

const error = (fault: Omit<Fault, 'created'>, powerState: PowerState = 'NOSTATE'): Omit<NovaState, 'running'> => ({
  status: 'ERROR',
  vmState: 'error',
  powerState,
  progress: 0,
  fault,
});

/** Computes the Nova state. The first matching rule wins, as in KubeVirt's printableStatus. */
export function novaStateOf(i: NovaStateInput): NovaState {
  const running = i.vmi?.status?.phase === 'Running';
  const base = computeView(i);
  const view: NovaState = { ...base, running };
  // Nova keeps host and addresses while a server is stopped: fall back to what was last seen.
  const host = i.vmi?.status?.nodeName || i.previous?.host;
  if (host) view.host = host;
  const addresses = i.vmi ? addressesOf(i.vmi, i.networkName ?? 'default') : undefined;
  view.addresses = addresses && Object.keys(addresses).length ? addresses : i.previous?.addresses;
  if (!view.addresses) delete view.addresses;
  return view;
}

function computeView(i: NovaStateInput): Omit<NovaState, 'running'> {
  const vm = i.vm;
  const printable = vm?.status?.printableStatus;
  if (i.deleting || printable === 'Terminating' || vm?.metadata.deletionTimestamp) {
    const prev = i.previous?.status ?? 'BUILD';
    return { status: prev, vmState: i.previous?.vmState ?? 'building', taskState: 'deleting', powerState: powerOf(prev), progress: 0 };
  }
  if (i.referenceFault) return error(i.referenceFault);
  if (!vm || !printable) return building('scheduling', 0);
  if (i.rebooting && !printable.startsWith('Err') && printable !== 'CrashLoopBackOff' && printable !== 'DataVolumeError') {
    const hard = i.rebooting === 'HARD';
    return { status: hard ? 'HARD_REBOOT' : 'REBOOT', vmState: 'active', taskState: hard ? 'rebooting_hard' : 'rebooting', powerState: 'Running', progress: 0 };
  }

  const want = i.desiredPower;
  const wantRunning = want === 'Running' || want === 'Paused' || want === 'Suspended';
  // The task Nova sets while a running guest is being stopped for this desired state.
  const stopTask = want === 'Shelved' || want === 'ShelvedOffloaded' ? 'shelving' : want === 'SoftDeleted' ? 'soft-deleting' : 'powering-off';
  const prevVm = i.previous?.vmState;
  const shelvedBefore = prevVm === 'shelved' || prevVm === 'shelved_offloaded';
  // On the way back from a shelve or a soft delete, the old status stays with Nova's task.
  const returning = (): Omit<NovaState, 'running'> | undefined => {
    if (shelvedBefore) return { status: prevVm === 'shelved' ? 'SHELVED' : 'SHELVED_OFFLOADED', vmState: prevVm, taskState: 'unshelving', powerState: 'Shutdown', progress: 0 };
    if (prevVm === 'soft-delete') return { status: 'SOFT_DELETED', vmState: 'soft-delete', taskState: 'restoring', powerState: 'Shutdown', progress: 0 };
    return undefined;
  };
  switch (printable) {
    case 'Provisioning':
    case 'WaitingForVolumeBinding':
      return building('block_device_mapping', importProgress(i.dataVolumes));
    case 'Starting':
    case 'WaitingForReceiver':
      if (!i.launched) return building('spawning', 90);
      return returning() ?? { status: 'SHUTOFF', vmState: 'stopped', taskState: 'powering-on', powerState: 'Shutdown', progress: 0 };
    case 'Running':
      if (i.desiredPower === 'Paused') return { status: 'ACTIVE', vmState: 'active', taskState: 'pausing', powerState: 'Running', progress: 0 };
      if (i.desiredPower === 'Suspended') return { status: 'ACTIVE', vmState: 'active', taskState: 'suspending', powerState: 'Running', progress: 0 };
      if (!wantRunning) return { status: 'ACTIVE', vmState: 'active', taskState: stopTask, powerState: 'Running', progress: 0 };
      return { status: 'ACTIVE', vmState: 'active', powerState: 'Running', progress: 0 };
    case 'Paused': {
      // A suspend is a pause shown as Nova's SUSPENDED (docs/adr/010-suspend-is-a-pause.md).
      const byUser = vmCondition(i.vmi, 'Paused')?.reason === 'PausedByUser';
      if (i.desiredPower === 'Suspended' && byUser) return { status: 'SUSPENDED', vmState: 'suspended', powerState: 'Suspended', progress: 0 };
      if (i.desiredPower === 'Running' && byUser && i.previous?.vmState === 'suspended') {
        return { status: 'SUSPENDED', vmState: 'suspended', taskState: 'resuming', powerState: 'Suspended', progress: 0 };
      }
      if (!wantRunning) return { status: 'PAUSED', vmState: 'paused', taskState: stopTask, powerState: 'Paused', progress: 0 };
      if (i.desiredPower === 'Running' && byUser) return { status: 'PAUSED', vmState: 'paused', taskState: 'unpausing', powerState: 'Paused', progress: 0 };
      return { status: 'PAUSED', vmState: 'paused', powerState: 'Paused', progress: 0 };
    }
    case 'Stopping':
      if (prevVm === 'stopped' || prevVm === 'shelved' || prevVm === 'shelved_offloaded' || prevVm === 'soft-delete') {
        // A stopped guest going to another stopped state: nothing runs.
        return { ...stoppedView(want, i.offloaded), taskState: stopTask };
      }
      return { status: 'ACTIVE', vmState: 'active', taskState: stopTask, powerState: 'Running', progress: 0 };
    case 'Stopped':
      if (wantRunning) {
        if (!i.launched) return building('spawning', 90);
        return returning() ?? { status: 'SHUTOFF', vmState: 'stopped', taskState: 'powering-on', powerState: 'Shutdown', progress: 0 };
      }
      return stoppedView(want, i.offloaded);
    case 'Migrating':
      return { status: 'MIGRATING', vmState: 'active', taskState: 'migrating', powerState: 'Running', progress: 0 };
    case 'ErrorUnschedulable':
      return error({ code: 500, message: NO_VALID_HOST, details: vmCondition(vm, 'PodScheduled')?.message ?? vmCondition(i.vmi, 'PodScheduled')?.message });
    case 'CrashLoopBackOff':
      return error(
        { code: 500, message: 'The server failed to start repeatedly (CrashLoopBackOff).', details: crashDetails(vm) },
        'Crashed',
      );
    case 'ErrImagePull':
    case 'ImagePullBackOff':
      return error({ code: 500, message: `Build of the server failed: the launcher image could not be pulled (${printable}).`, details: synchronizedMessage(i) });
    case 'ErrorPvcNotFound':
      return error({ code: 500, message: 'Build of the server failed: a volume of the server was not found (ErrorPvcNotFound).', details: synchronizedMessage(i) });
    case 'DataVolumeError':
      return error({ code: 500, message: 'Build of the server failed: the root disk could not be imported from the image (DataVolumeError).', details: dataVolumeMessage(i.dataVolumes) });
    case 'Unknown':
      return { status: 'UNKNOWN', vmState: i.previous?.vmState ?? 'active', powerState: 'NOSTATE', progress: 0 };
  }
  return { status: 'UNKNOWN', vmState: i.previous?.vmState ?? 'active', powerState: 'NOSTATE', progress: 0 };
}

/** A halted VM, as the desired state names it. */
function stoppedView(want: NovaStateInput['desiredPower'], offloaded: boolean | undefined): Omit<NovaState, 'running'> {
  if (want === 'ShelvedOffloaded' || (want === 'Shelved' && offloaded)) return { status: 'SHELVED_OFFLOADED', vmState: 'shelved_offloaded', powerState: 'Shutdown', progress: 0 };
  if (want === 'Shelved') return { status: 'SHELVED', vmState: 'shelved', powerState: 'Shutdown', progress: 0 };
  if (want === 'SoftDeleted') return { status: 'SOFT_DELETED', vmState: 'soft-delete', powerState: 'Shutdown', progress: 0 };
  return { status: 'SHUTOFF', vmState: 'stopped', powerState: 'Shutdown', progress: 0 };
}

const building = (taskState: string, progress: number): Omit<NovaState, 'running'> => ({ status: 'BUILD', vmState: 'building', taskState, powerState: 'NOSTATE', progress });

function powerOf(status: NovaStatus): PowerState {
  switch (status) {
    case 'ACTIVE':
    case 'MIGRATING':
      return 'Running';
    case 'PAUSED':
      return 'Paused';
    case 'SHUTOFF':
    case 'SHELVED':
    case 'SHELVED_OFFLOADED':
    case 'SOFT_DELETED':
      return 'Shutdown';
    default:
      return 'NOSTATE';
  }
}

/** Average import progress of the DataVolumes, from CDI's "NN.N%" strings. */
export function importProgress(dvs: DataVolume[] | undefined): number {
  if (!dvs?.length) return 0;
  let sum = 0;
  for (const dv of dvs) {
    if (dv.status?.phase === 'Succeeded') sum += 100;
    else sum += Number.parseFloat(dv.status?.progress ?? '0') || 0;
  }
  return Math.max(0, Math.min(100, Math.floor(sum / dvs.length)));
}

function crashDetails(vm: CachedVirtualMachine): string | undefined {
  const f = vm.status?.startFailure;
  return f ? `consecutive start failures: ${f.consecutiveFailCount ?? 0}${f.retryAfterTimestamp ? `, next retry after ${f.retryAfterTimestamp}` : ''}` : undefined;
}

function synchronizedMessage(i: NovaStateInput): string | undefined {
  return vmCondition(i.vmi, 'Synchronized')?.message ?? vmCondition(i.vm, 'Synchronized')?.message;
}

function dataVolumeMessage(dvs: DataVolume[] | undefined): string | undefined {
  for (const dv of dvs ?? []) {
    if (dv.status?.phase === 'Succeeded') continue;
    // KubeVirt's own test for a failed DataVolume (printableStatus DataVolumeError).
    const c = dv.status?.conditions?.find((c) => c.type === 'Running' && c.status === 'False' && (c.reason === 'Error' || c.reason === 'ImagePullFailed'));
    if (dv.status?.phase === 'Failed' || c) return `${dv.metadata.name}: ${c?.message ?? 'import failed'}`;
  }
  return undefined;
}

/** Nova addresses from the VMI's interfaces: { <network>: [{addr, version, type, macAddr}] }. */
export function addressesOf(vmi: CachedVirtualMachineInstance, networkName: string): Record<string, Address[]> {
  const out: Record<string, Address[]> = {};
  for (const iface of vmi.status?.interfaces ?? []) {
    const ips = iface.ipAddresses?.length ? iface.ipAddresses : iface.ipAddress ? [iface.ipAddress] : [];
    if (!ips.length) continue;
    const net = !iface.name || iface.name === 'default' ? networkName : iface.name;
    const list = (out[net] ??= []);
    for (const ip of ips) list.push({ addr: ip, version: ip.includes(':') ? 6 : 4, type: 'fixed', ...(iface.mac ? { macAddr: iface.mac } : {}) });
  }
  return out;
}

/** One line of addresses, as `openstack server list` prints them: "net=10.0.0.3, fd00::3". */
export function networksSummary(addresses: Record<string, Address[]> | undefined): string | undefined {
  if (!addresses) return undefined;
  const parts = Object.entries(addresses).map(([net, list]) => `${net}=${list.map((a) => a.addr).join(', ')}`);
  return parts.length ? parts.join('; ') : undefined;
}
