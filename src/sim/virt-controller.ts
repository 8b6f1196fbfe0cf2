// The simulator's virt-controller, for VirtualMachines: a finalizer, the DataVolumes of the VM's
// dataVolumeTemplates, a VMI while its runStrategy wants one (from the VM's template and
// instancetype, once its volumes are imported; none while crash-loop backs off), and the VM's
// status: printableStatus in KubeVirt's order, conditions, startFailure. Also the launcher pod a
// VMI gets, sized as virt-controller sizes it and with the guest-console-log container when asked
// (createLauncherPod, which the VMI reconcile in virt-handler.ts calls).
import { isConflict, isNotFound, type KubeClient } from '../kube/client.ts';
import { ownerReference, PODS, splitKey, type KubeObject, type Pod, type ResourceType } from '../kube/types.ts';
import { writeStatus } from '../kube/status.ts';
import { DATA_VOLUMES, GUEST_CONSOLE_LOG, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES, type KubeVirtCondition, type PrintableStatus, type VirtualMachine, type VirtualMachineInstance } from '../kubevirt/types.ts';
import { isFinal, withCondition, type SimDeps } from './deps.ts';
import { held, injected } from './injections.ts';
import { HOSTNAME_POD_LABEL } from './kubelet-server.ts';

export const VM_FINALIZER = 'kubevirt.io/virtualMachineControllerFinalize';
export const VMI_FINALIZER = 'kubevirt.io/foregroundDeleteVirtualMachine';
/** The launcher pod label naming its VMI's uid. */
export const CREATED_BY = 'kubevirt.io/created-by';
/** Memory the launcher pod asks for on top of the guest's, as virt-controller adds overhead. */
const OVERHEAD_MIB = 200;
const LAUNCHER_IMAGE = 'quay.io/kubevirt/virt-launcher:sim';

const cond = (o: { status?: { conditions?: KubeVirtCondition[] } } | undefined, type: string): KubeVirtCondition | undefined => o?.status?.conditions?.find((c) => c.type === type);

/** The VirtualMachine: its finalizer, DataVolumes, a VMI per runStrategy, its status. */
export async function reconcileVM(d: SimDeps, key: string): Promise<{ requeueAfterMs?: number } | void> {
  const { namespace, name } = splitKey(key);
  const vm = d.vms.get(name, namespace);
  if (!vm) return;
  const vmi = d.vmis.get(name, namespace);

  if (vm.metadata.deletionTimestamp) {
    if (vmi && !vmi.metadata.deletionTimestamp) await d.vmiClient.delete(VIRTUAL_MACHINE_INSTANCES, name, namespace);
    await writeVMStatus(d, vm, vmi, false);
    if (!vmi && held(vm) !== 'terminating' && vm.metadata.finalizers?.includes(VM_FINALIZER)) {
      await removeFinalizer(d.client, VIRTUAL_MACHINES, vm, VM_FINALIZER);
    }
    return;
  }
  if (!vm.metadata.finalizers?.includes(VM_FINALIZER)) {
    await addFinalizer(d.client, VIRTUAL_MACHINES, vm, VM_FINALIZER);
    return;
  }
  for (const t of vm.spec.dataVolumeTemplates ?? []) {
    if (d.dvs.get(t.metadata.name, namespace)) continue;
    await createIgnoringExists(d.client, DATA_VOLUMES, {
      metadata: { name: t.metadata.name, namespace, labels: t.metadata.labels, ownerReferences: [ownerReference(vm, 'kubevirt.io/v1', 'VirtualMachine')] },
      spec: t.spec,
    });
  }

  const strategy = vm.spec.runStrategy ?? 'Halted';
  const wanted = strategy === 'Always' || strategy === 'RerunOnFailure' || strategy === 'Once';
  let startFailure = vm.status?.startFailure;
  const crashLooping = injected(vm) === 'crash-loop';
  if (wanted && vmi && isFinal(vmi.status?.phase) && !vmi.metadata.deletionTimestamp) {
    const everRan = vmi.status?.phaseTransitionTimestamps?.some((p) => p.phase === 'Running');
    if (vmi.status?.phase === 'Failed' && !everRan && startFailure?.lastFailedVMIUID !== vmi.metadata.uid) {
      startFailure = { consecutiveFailCount: (startFailure?.consecutiveFailCount ?? 0) + 1, lastFailedVMIUID: vmi.metadata.uid, retryAfterTimestamp: new Date(Date.now() + 10_000).toISOString().replace(/\.\d+Z$/, 'Z') };
    }
    await d.vmiClient.delete(VIRTUAL_MACHINE_INSTANCES, name, namespace);
  } else if (!wanted && vmi && !vmi.metadata.deletionTimestamp) {
    await d.vmiClient.delete(VIRTUAL_MACHINE_INSTANCES, name, namespace);
  }
  if (!crashLooping && startFailure) startFailure = undefined;
  const backingOff = crashLooping && (startFailure?.consecutiveFailCount ?? 0) > 0;
  const volumesReady = (vm.spec.dataVolumeTemplates ?? []).every((t) => d.dvs.get(t.metadata.name, namespace)?.status?.phase === 'Succeeded');
  if (wanted && !vmi && !backingOff && volumesReady) await createVMI(d, vm);
  await writeVMStatus(d, vm, d.vmis.get(name, namespace), wanted && !backingOff, startFailure);
}

async function createVMI(d: SimDeps, vm: VirtualMachine): Promise<void> {
  const spec = structuredClone(vm.spec.template.spec);
  const itRef = vm.spec.instancetype;
  if (itRef) {
    const it = itRef.kind === 'VirtualMachineInstancetype' ? d.instancetypes.get(itRef.name, vm.metadata.namespace) : d.clusterInstancetypes.get(itRef.name);
    if (!it) return; // virt-controller reports a Failure condition; writeVMStatus does
    spec.domain.cpu = { sockets: it.spec.cpu.guest, cores: 1, threads: 1 };
    spec.domain.memory = { guest: it.spec.memory.guest };
    if (it.spec.nodeSelector) spec.nodeSelector = { ...spec.nodeSelector, ...it.spec.nodeSelector };
  }
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(vm.metadata.annotations ?? {})) if (k.startsWith('sim.kova.io/')) annotations[k] = v;
  await createIgnoringExists(d.vmiClient, VIRTUAL_MACHINE_INSTANCES, {
    metadata: {
      name: vm.metadata.name,
      namespace: vm.metadata.namespace,
      labels: { ...vm.spec.template.metadata?.labels },
      annotations,
      ownerReferences: [ownerReference(vm, 'kubevirt.io/v1', 'VirtualMachine')],
      finalizers: [VMI_FINALIZER],
    },
    spec,
    status: { phase: 'Pending' },
  });
}

function missingInstancetype(d: SimDeps, vm: VirtualMachine): boolean {
  const r = vm.spec.instancetype;
  if (!r) return false;
  return !(r.kind === 'VirtualMachineInstancetype' ? d.instancetypes.get(r.name, vm.metadata.namespace) : d.clusterInstancetypes.get(r.name));
}

/** VM printableStatus, in the order KubeVirt evaluates it (reference/kubevirt.md §2). */
function printableStatusOf(d: SimDeps, vm: VirtualMachine, vmi: VirtualMachineInstance | undefined, startExpected: boolean, startFailure: { consecutiveFailCount?: number } | undefined): PrintableStatus {
  const phase = vmi?.status?.phase;
  const dvs = (vm.spec.dataVolumeTemplates ?? []).map((t) => d.dvs.get(t.metadata.name, vm.metadata.namespace));
  const sync = cond(vmi, 'Synchronized');
  if (vm.metadata.deletionTimestamp) return 'Terminating';
  if (vmi && !isFinal(phase) && (vmi.metadata.deletionTimestamp || !startExpected && !(startFailure?.consecutiveFailCount))) return 'Stopping';
  const mig = vmi?.status?.migrationState;
  if (mig?.startTimestamp && !mig.endTimestamp) return 'Migrating';
  if (phase === 'Running') return cond(vmi, 'Paused')?.status === 'True' ? 'Paused' : 'Running';
  if (sync?.status === 'False' && sync.reason === 'FailedPvcNotFound') return 'ErrorPvcNotFound';
  if (dvs.some((dv) => dv?.status?.phase === 'Failed' || (cond(dv, 'Running')?.status === 'False' && ['Error', 'ImagePullFailed'].includes(cond(dv, 'Running')?.reason ?? '')))) return 'DataVolumeError';
  const sched = cond(vmi, 'PodScheduled');
  if (sched?.status === 'False' && sched.reason === 'Unschedulable') return 'ErrorUnschedulable';
  if (dvs.some((dv) => dv?.status?.phase !== 'Succeeded')) return 'Provisioning';
  if (sync?.status === 'False' && sync.reason === 'ErrImagePull') return 'ErrImagePull';
  if (sync?.status === 'False' && sync.reason === 'ImagePullBackOff') return 'ImagePullBackOff';
  if ((!vmi && startExpected) || (vmi && ['', 'Pending', 'Scheduling', 'Scheduled'].includes(phase ?? ''))) return 'Starting';
  if ((!vmi || isFinal(phase)) && (startFailure?.consecutiveFailCount ?? 0) > 0) return 'CrashLoopBackOff';
  if (isFinal(phase) || !vmi) return 'Stopped';
  return 'Unknown';
}

async function writeVMStatus(d: SimDeps, vm: VirtualMachine, vmi: VirtualMachineInstance | undefined, startExpected: boolean, startFailure?: NonNullable<VirtualMachine['status']>['startFailure']): Promise<void> {
  const printableStatus = printableStatusOf(d, vm, vmi, startExpected, startFailure);
  let conditions = (vm.status?.conditions ?? []).filter((c) => c.type === 'Ready' || c.type === 'Failure');
  for (const c of vmi?.status?.conditions ?? []) if (c.type !== 'Ready') conditions = withCondition(conditions, c);
  const vmiReady = cond(vmi, 'Ready');
  conditions = withCondition(conditions, vmi
    ? { type: 'Ready', status: vmiReady?.status === 'True' ? 'True' : 'False', reason: vmiReady ? vmiReady.reason : 'VMIConditionMissing' }
    : { type: 'Ready', status: 'False', reason: 'VMINotExists', message: 'VMI does not exist' });
  conditions = missingInstancetype(d, vm)
    ? withCondition(conditions, { type: 'Failure', status: 'True', reason: 'FailedCreate', message: `instancetype ${vm.spec.instancetype?.name} not found` })
    : withCondition(conditions, { type: 'Failure', remove: true });
  const status: NonNullable<VirtualMachine['status']> = {
    printableStatus,
    created: !!vmi,
    ready: vmiReady?.status === 'True',
    conditions,
    runStrategy: vm.spec.runStrategy,
    observedGeneration: vm.metadata.generation,
    desiredGeneration: vm.metadata.generation,
    ...(startFailure ? { startFailure } : {}),
  };
  await writeStatus(d.client, VIRTUAL_MACHINES, vm, status);
}

export async function createLauncherPod(d: SimDeps, vmi: VirtualMachineInstance): Promise<void> {
  const guest = vmi.spec.domain.memory?.guest ?? vmi.spec.domain.resources?.requests?.memory ?? '512Mi';
  const vcpus = (vmi.spec.domain.cpu?.sockets ?? 1) * (vmi.spec.domain.cpu?.cores ?? 1) * (vmi.spec.domain.cpu?.threads ?? 1);
  const containers: Pod['spec']['containers'] = [{ name: 'compute', image: LAUNCHER_IMAGE, resources: { requests: { cpu: `${vcpus * 100}m`, memory: `${toMiB(guest) + OVERHEAD_MIB}Mi` } } }];
  const initContainers: NonNullable<Pod['spec']['initContainers']> = [];
  if (vmi.spec.domain.devices.logSerialConsole) {
    // virt-controller's console logger, a native sidecar: it tails the serial console's log file to its stdout.
    initContainers.push({
      restartPolicy: 'Always',
      name: GUEST_CONSOLE_LOG,
      image: LAUNCHER_IMAGE,
      command: ['/usr/bin/virt-tail'],
      args: ['--logfile', `/var/run/kubevirt-private/${vmi.metadata.uid}/virt-serial0-log`],
      resources: { requests: { cpu: '5m', memory: '35M' }, limits: { cpu: '15m', memory: '60M' } },
    });
  }
  await createIgnoringExists(d.client, PODS, {
    metadata: {
      generateName: `virt-launcher-${vmi.metadata.name}-`,
      namespace: vmi.metadata.namespace,
      // virt-controller copies the VMI's labels and names the guest's hostname.
      labels: { ...vmi.metadata.labels, 'kubevirt.io': 'virt-launcher', [CREATED_BY]: vmi.metadata.uid ?? '', [HOSTNAME_POD_LABEL]: vmi.spec.hostname ?? vmi.metadata.name ?? '' },
      ownerReferences: [ownerReference(vmi, 'kubevirt.io/v1', 'VirtualMachineInstance')],
    },
    spec: {
      nodeSelector: { ...vmi.spec.nodeSelector, 'kubevirt.io/schedulable': 'true' },
      ...(vmi.spec.affinity ? { affinity: vmi.spec.affinity } : {}),
      ...(vmi.spec.tolerations ? { tolerations: vmi.spec.tolerations } : {}),
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 30,
      containers,
      ...(initContainers.length ? { initContainers } : {}),
    },
  });
}

async function createIgnoringExists(client: KubeClient, t: ResourceType, obj: KubeObject): Promise<void> {
  try {
    await client.create(t, obj);
  } catch (e) {
    if (!isConflict(e)) throw e;
  }
}

async function addFinalizer(client: KubeClient, t: ResourceType, o: KubeObject, finalizer: string): Promise<void> {
  await client.jsonPatch(t, o.metadata.name ?? '', o.metadata.namespace, [
    { op: 'test', path: '/metadata/resourceVersion', value: o.metadata.resourceVersion },
    o.metadata.finalizers ? { op: 'add', path: '/metadata/finalizers/-', value: finalizer } : { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
  ]);
}

async function removeFinalizer(client: KubeClient, t: ResourceType, o: KubeObject, finalizer: string): Promise<void> {
  try {
    await client.jsonPatch(t, o.metadata.name ?? '', o.metadata.namespace, [
      { op: 'test', path: '/metadata/resourceVersion', value: o.metadata.resourceVersion },
      { op: 'replace', path: '/metadata/finalizers', value: (o.metadata.finalizers ?? []).filter((f) => f !== finalizer) },
    ]);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

function toMiB(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) return 512;
  const n = Number(m[1]);
  const unit = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, k: 1000 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576, T: 1e12 / 1048576 }[m[2] ?? ''] ?? 1 / 1048576;
  return Math.ceil(n * unit);
}
