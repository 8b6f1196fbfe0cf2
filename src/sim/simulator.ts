// The KubeVirt simulator (`kova sim`): plays the hypervisor side of a KubeVirt cluster against a
// real kube-apiserver, the way Nova's fake driver plays a hypervisor.
//   virt-controller: VM → DataVolumes and a VMI per runStrategy; VMI → launcher pod (with the
//                    guest-console-log container when asked); VM status (printableStatus in
//                    KubeVirt's order, conditions, startFailure)
//   kubelet:         a launcher pod the real kube-scheduler bound to a Node becomes Running with an
//                    IP; container logs for the apiserver (kubelet-server.ts)
//   virt-handler:    VMI Scheduled → Running with interfaces; Paused; migration state
//   CDI:             DataVolume import phases and progress; DataSources Ready
// Failure injection and holds come from annotations on the VM (a Server's sim.kova.io/* annotations
// are copied there): see INJECTIONS and HOLDS below.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { isConflict, isNotFound, type KubeClient } from '../kube/client.ts';
import { controllerOf, keyOf, ownerReference, PODS, splitKey, type KubeObject, type Pod, type ResourceType } from '../kube/types.ts';
import { Controller } from '../kube/controller.ts';
import { Informer, type Runnable } from '../kube/informer.ts';
import type { Logger } from '../log.ts';
import { CLUSTER_INSTANCETYPES, DATA_SOURCES, DATA_VOLUMES, GUEST_CONSOLE_LOG, INSTANCETYPES, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES, type DataSource, type DataVolume, type Instancetype, type KubeVirtCondition, type VirtualMachineInstanceMigration, type PrintableStatus, type VirtualMachine, type VirtualMachineInstance, type VMIPhase } from '../kubevirt/types.ts';
import { NodeHeartbeat } from './nodes.ts';
import { writeStatus } from '../kube/status.ts';
import { PAUSED_ANNOTATION, VirtApi } from './virt-api.ts';
import { abortOrphanedMigration, migrationKeyOfPod, reconcileMigration, type MigrationDeps } from './migrations.ts';
import { HOSTNAME_POD_LABEL, KubeletServer } from './kubelet-server.ts';

/** `sim.kova.io/inject`: make the simulated hypervisor fail or change state this way. */
export const INJECT = 'sim.kova.io/inject';
export const INJECTIONS = ['image-pull-error', 'crash-loop', 'pvc-not-found', 'data-volume-error', 'paused', 'migrating', 'unknown'] as const;
/** `sim.kova.io/hold`: stop the simulation at this step, so a test can observe it. */
export const HOLD = 'sim.kova.io/hold';
export const HOLDS = ['provisioning', 'starting', 'stopping', 'terminating', 'migrating'] as const;

export const VM_FINALIZER = 'kubevirt.io/virtualMachineControllerFinalize';
export const VMI_FINALIZER = 'kubevirt.io/foregroundDeleteVirtualMachine';
const CREATED_BY = 'kubevirt.io/created-by';
/** Memory the launcher pod asks for on top of the guest's, as virt-controller adds overhead. */
const OVERHEAD_MIB = 200;
const LAUNCHER_IMAGE = 'quay.io/kubevirt/virt-launcher:sim';

export interface SimulatorOptions {
  /** Time between simulated steps (ms). */
  stepMs?: number;
  /** Steps a DataVolume import takes. */
  importSteps?: number;
  /** Run the Node heartbeats (for Nodes the simulator created). */
  heartbeats?: boolean;
  /** Serve subresources.kubevirt.io (pause, unpause) behind the apiserver, as virt-api does. */
  virtApi?: boolean;
  /** Serve the simulated Nodes' kubelet API (container logs) to the apiserver. */
  kubelet?: boolean;
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const isFinal = (phase: VMIPhase | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';
const cond = (o: { status?: { conditions?: KubeVirtCondition[] } } | undefined, type: string): KubeVirtCondition | undefined => o?.status?.conditions?.find((c) => c.type === type);

function withCondition(list: KubeVirtCondition[] | undefined, c: KubeVirtCondition | { type: string; remove: true }): KubeVirtCondition[] {
  const rest = (list ?? []).filter((x) => x.type !== c.type);
  if ('remove' in c) return rest;
  const prev = list?.find((x) => x.type === c.type);
  return [...rest, { ...c, lastProbeTime: null, lastTransitionTime: prev?.status === c.status ? prev.lastTransitionTime ?? now() : now() }];
}

export class KubeVirtSimulator {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly stepMs: number;
  private readonly importSteps: number;
  private readonly vms: Informer<VirtualMachine>;
  private readonly vmis: Informer<VirtualMachineInstance>;
  private readonly pods: Informer<Pod>;
  private readonly dvs: Informer<DataVolume>;
  private readonly dataSources: Informer<DataSource>;
  private readonly clusterInstancetypes: Informer<Instancetype>;
  private readonly instancetypes: Informer<Instancetype>;
  private readonly migrations: Informer<VirtualMachineInstanceMigration>;
  private readonly migrationDeps: MigrationDeps;
  private readonly controllers: Controller[];
  private readonly heartbeat: NodeHeartbeat | undefined;
  private readonly virtApi: VirtApi | undefined;
  private readonly kubelet: KubeletServer | undefined;
  private ipCounter = 0;

  constructor(client: KubeClient, log: Logger, o: SimulatorOptions = {}) {
    this.client = client;
    this.log = log.child({ component: 'sim' });
    this.stepMs = o.stepMs ?? 300;
    this.importSteps = o.importSteps ?? 4;
    const onError = (err: unknown): void => this.log.warn('watch failed; restarting', { err });
    const inf = <T extends KubeObject>(t: ResourceType, labelSelector?: string) => new Informer<T>(client, t, { labelSelector, onError });
    this.vms = inf(VIRTUAL_MACHINES);
    this.vmis = inf(VIRTUAL_MACHINE_INSTANCES);
    this.pods = inf<Pod>(PODS, 'kubevirt.io=virt-launcher').addIndex('vmi', (p) => [p.metadata.labels?.[CREATED_BY] ?? '']);
    this.dvs = inf(DATA_VOLUMES);
    this.dataSources = inf(DATA_SOURCES);
    this.clusterInstancetypes = inf(CLUSTER_INSTANCETYPES);
    this.instancetypes = inf(INSTANCETYPES);
    this.migrations = inf(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS);
    this.migrationDeps = { client, vms: this.vms, vmis: this.vmis, pods: this.pods, migrations: this.migrations, stepMs: this.stepMs, hold: (vm) => this.annotation(vm, HOLD) };
    this.heartbeat = o.heartbeats === false ? undefined : new NodeHeartbeat(client);
    this.virtApi = o.virtApi === false ? undefined : new VirtApi(client, this.log);
    this.kubelet = o.kubelet === false ? undefined : new KubeletServer(client, this.log, (ns, name) => this.pods.get(name, ns));

    const vmCtl = new Controller('sim-virt-controller-vm', (k) => this.reconcileVM(k), this.log, { concurrency: 4 });
    const vmiCtl = new Controller('sim-virt-handler', (k) => this.reconcileVMI(k), this.log, { concurrency: 4 });
    const podCtl = new Controller('sim-kubelet', (k) => this.reconcilePod(k), this.log, { concurrency: 4 });
    const dvCtl = new Controller('sim-cdi', (k) => this.reconcileDataVolume(k), this.log, { concurrency: 4 });
    const dsCtl = new Controller('sim-cdi-datasource', (k) => this.reconcileDataSource(k), this.log, { concurrency: 1 });
    const migCtl = new Controller('sim-migration', (k) => reconcileMigration(this.migrationDeps, k), this.log, { concurrency: 2 });
    this.controllers = [vmCtl, vmiCtl, podCtl, dvCtl, dsCtl, migCtl];

    const both = <T extends KubeObject>(fn: (o: T) => void) => (_t: string, o: T, old?: T) => {
      fn(o);
      if (old) fn(old);
    };
    this.vms.on(both((vm) => {
      vmCtl.enqueue(keyOf(vm));
      vmiCtl.enqueue(keyOf(vm)); // annotations (injections) drive the VMI too
      podCtl.enqueue('vm:' + keyOf(vm));
      for (const t of vm.spec.dataVolumeTemplates ?? []) dvCtl.enqueue(`${vm.metadata.namespace}/${t.metadata.name}`);
    }));
    this.vmis.on(both((vmi) => {
      vmiCtl.enqueue(keyOf(vmi));
      vmCtl.enqueue(keyOf(vmi));
    }));
    this.pods.on(both((pod) => {
      podCtl.enqueue(keyOf(pod));
      const owner = controllerOf(pod);
      if (owner?.kind === 'VirtualMachineInstance') vmiCtl.enqueue(`${pod.metadata.namespace}/${owner.name}`);
      const mig = migrationKeyOfPod(pod);
      if (mig) migCtl.enqueue(mig);
    }));
    this.dvs.on(both((dv) => {
      dvCtl.enqueue(keyOf(dv));
      dsCtl.enqueue(keyOf(dv)); // a DataSource of the same name waits for it
      const owner = controllerOf(dv);
      if (owner?.kind === 'VirtualMachine') vmCtl.enqueue(`${dv.metadata.namespace}/${owner.name}`);
    }));
    this.dataSources.on(both((ds) => dsCtl.enqueue(keyOf(ds))));
    this.migrations.on(both((m) => {
      migCtl.enqueue(keyOf(m));
      vmiCtl.enqueue(`${m.metadata.namespace}/${m.spec.vmiName}`);
    }));
  }

  private informers(): Runnable[] {
    return [this.vms, this.vmis, this.pods, this.dvs, this.dataSources, this.clusterInstancetypes, this.instancetypes, this.migrations];
  }

  async start(): Promise<void> {
    for (const i of this.informers()) i.start();
    await Promise.all(this.informers().map((i) => i.synced));
    for (const c of this.controllers) c.start();
    this.heartbeat?.start();
    await this.virtApi?.start();
    await this.kubelet?.start();
    this.log.info('KubeVirt simulator started', { stepMs: this.stepMs });
  }

  async stop(): Promise<void> {
    this.heartbeat?.stop();
    await this.virtApi?.stop();
    await this.kubelet?.stop();
    await Promise.all(this.controllers.map((c) => c.stop()));
    for (const i of this.informers()) i.stop();
  }

  private annotation(vm: VirtualMachine | undefined, key: string): string | undefined {
    return vm?.metadata.annotations?.[key];
  }

  // ---------------------------------------------------------------- virt-controller: VirtualMachine

  private async reconcileVM(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { namespace, name } = splitKey(key);
    const vm = this.vms.get(name, namespace);
    if (!vm) return;
    const vmi = this.vmis.get(name, namespace);

    if (vm.metadata.deletionTimestamp) {
      if (vmi && !vmi.metadata.deletionTimestamp) await this.client.delete(VIRTUAL_MACHINE_INSTANCES, name, namespace);
      await this.writeVMStatus(vm, vmi, false);
      if (!vmi && this.annotation(vm, HOLD) !== 'terminating' && vm.metadata.finalizers?.includes(VM_FINALIZER)) {
        await this.removeFinalizer(VIRTUAL_MACHINES, vm, VM_FINALIZER);
      }
      return;
    }
    if (!vm.metadata.finalizers?.includes(VM_FINALIZER)) {
      await this.addFinalizer(VIRTUAL_MACHINES, vm, VM_FINALIZER);
      return;
    }
    for (const t of vm.spec.dataVolumeTemplates ?? []) {
      if (this.dvs.get(t.metadata.name, namespace)) continue;
      await this.createIgnoringExists(DATA_VOLUMES, {
        metadata: { name: t.metadata.name, namespace, labels: t.metadata.labels, ownerReferences: [ownerReference(vm, 'kubevirt.io/v1', 'VirtualMachine')] },
        spec: t.spec,
      });
    }

    const strategy = vm.spec.runStrategy ?? 'Halted';
    const wanted = strategy === 'Always' || strategy === 'RerunOnFailure' || strategy === 'Once';
    let startFailure = vm.status?.startFailure;
    const crashLooping = this.annotation(vm, INJECT) === 'crash-loop';
    if (wanted && vmi && isFinal(vmi.status?.phase) && !vmi.metadata.deletionTimestamp) {
      const everRan = vmi.status?.phaseTransitionTimestamps?.some((p) => p.phase === 'Running');
      if (vmi.status?.phase === 'Failed' && !everRan && startFailure?.lastFailedVMIUID !== vmi.metadata.uid) {
        startFailure = { consecutiveFailCount: (startFailure?.consecutiveFailCount ?? 0) + 1, lastFailedVMIUID: vmi.metadata.uid, retryAfterTimestamp: new Date(Date.now() + 10_000).toISOString().replace(/\.\d+Z$/, 'Z') };
      }
      await this.client.delete(VIRTUAL_MACHINE_INSTANCES, name, namespace);
    } else if (!wanted && vmi && !vmi.metadata.deletionTimestamp) {
      await this.client.delete(VIRTUAL_MACHINE_INSTANCES, name, namespace);
    }
    if (!crashLooping && startFailure) startFailure = undefined;
    const backingOff = crashLooping && (startFailure?.consecutiveFailCount ?? 0) > 0;
    const volumesReady = (vm.spec.dataVolumeTemplates ?? []).every((t) => this.dvs.get(t.metadata.name, namespace)?.status?.phase === 'Succeeded');
    if (wanted && !vmi && !backingOff && volumesReady) await this.createVMI(vm);
    await this.writeVMStatus(vm, this.vmis.get(name, namespace), wanted && !backingOff, startFailure);
  }

  private async createVMI(vm: VirtualMachine): Promise<void> {
    const spec = structuredClone(vm.spec.template.spec);
    const itRef = vm.spec.instancetype;
    if (itRef) {
      const it = itRef.kind === 'VirtualMachineInstancetype' ? this.instancetypes.get(itRef.name, vm.metadata.namespace) : this.clusterInstancetypes.get(itRef.name);
      if (!it) return; // virt-controller reports a Failure condition; writeVMStatus does
      spec.domain.cpu = { sockets: it.spec.cpu.guest, cores: 1, threads: 1 };
      spec.domain.memory = { guest: it.spec.memory.guest };
      if (it.spec.nodeSelector) spec.nodeSelector = { ...spec.nodeSelector, ...it.spec.nodeSelector };
    }
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(vm.metadata.annotations ?? {})) if (k.startsWith('sim.kova.io/')) annotations[k] = v;
    await this.createIgnoringExists(VIRTUAL_MACHINE_INSTANCES, {
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

  private missingInstancetype(vm: VirtualMachine): boolean {
    const r = vm.spec.instancetype;
    if (!r) return false;
    return !(r.kind === 'VirtualMachineInstancetype' ? this.instancetypes.get(r.name, vm.metadata.namespace) : this.clusterInstancetypes.get(r.name));
  }

  /** VM printableStatus, in the order KubeVirt evaluates it (reference/kubevirt.md §2). */
  private printableStatus(vm: VirtualMachine, vmi: VirtualMachineInstance | undefined, startExpected: boolean, startFailure: { consecutiveFailCount?: number } | undefined): PrintableStatus {
    const phase = vmi?.status?.phase;
    const dvs = (vm.spec.dataVolumeTemplates ?? []).map((t) => this.dvs.get(t.metadata.name, vm.metadata.namespace));
    const sync = cond(vmi, 'Synchronized');
    if (vm.metadata.deletionTimestamp) return 'Terminating';
    if (vmi && !isFinal(phase) && (vmi.metadata.deletionTimestamp || !startExpected && !(startFailure?.consecutiveFailCount))) return 'Stopping';
    const mig = vmi?.status?.migrationState;
    if (mig?.startTimestamp && !mig.endTimestamp) return 'Migrating';
    if (phase === 'Running') return cond(vmi, 'Paused')?.status === 'True' ? 'Paused' : 'Running';
    if (sync?.status === 'False' && sync.reason === 'FailedPvcNotFound') return 'ErrorPvcNotFound';
    if (dvs.some((d) => d?.status?.phase === 'Failed' || (cond(d, 'Running')?.status === 'False' && ['Error', 'ImagePullFailed'].includes(cond(d, 'Running')?.reason ?? '')))) return 'DataVolumeError';
    const sched = cond(vmi, 'PodScheduled');
    if (sched?.status === 'False' && sched.reason === 'Unschedulable') return 'ErrorUnschedulable';
    if (dvs.some((d) => d?.status?.phase !== 'Succeeded')) return 'Provisioning';
    if (sync?.status === 'False' && sync.reason === 'ErrImagePull') return 'ErrImagePull';
    if (sync?.status === 'False' && sync.reason === 'ImagePullBackOff') return 'ImagePullBackOff';
    if ((!vmi && startExpected) || (vmi && ['', 'Pending', 'Scheduling', 'Scheduled'].includes(phase ?? ''))) return 'Starting';
    if ((!vmi || isFinal(phase)) && (startFailure?.consecutiveFailCount ?? 0) > 0) return 'CrashLoopBackOff';
    if (isFinal(phase) || !vmi) return 'Stopped';
    return 'Unknown';
  }

  private async writeVMStatus(vm: VirtualMachine, vmi: VirtualMachineInstance | undefined, startExpected: boolean, startFailure?: NonNullable<VirtualMachine['status']>['startFailure']): Promise<void> {
    const printableStatus = this.printableStatus(vm, vmi, startExpected, startFailure);
    let conditions = (vm.status?.conditions ?? []).filter((c) => c.type === 'Ready' || c.type === 'Failure');
    for (const c of vmi?.status?.conditions ?? []) if (c.type !== 'Ready') conditions = withCondition(conditions, c);
    const vmiReady = cond(vmi, 'Ready');
    conditions = withCondition(conditions, vmi
      ? { type: 'Ready', status: vmiReady?.status === 'True' ? 'True' : 'False', reason: vmiReady ? vmiReady.reason : 'VMIConditionMissing' }
      : { type: 'Ready', status: 'False', reason: 'VMINotExists', message: 'VMI does not exist' });
    conditions = this.missingInstancetype(vm)
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
    await writeStatus(this.client, VIRTUAL_MACHINES, vm, status);
  }

  // ------------------------------------------------- virt-controller (VMI → pod) and virt-handler

  private async reconcileVMI(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { namespace, name } = splitKey(key);
    const vmi = this.vmis.get(name, namespace);
    if (!vmi) return;
    const vm = this.vms.get(name, namespace);
    // After a migration the pod on the VMI's node is the one that counts.
    const pods = this.pods.byIndex('vmi', vmi.metadata.uid ?? '').filter((p) => p.metadata.namespace === namespace);
    const pod = pods.find((p) => p.spec.nodeName === vmi.status?.nodeName) ?? pods[0];
    const inject = this.annotation(vm, INJECT);

    if (vmi.metadata.deletionTimestamp) {
      if (pod && !pod.metadata.deletionTimestamp) await this.client.delete(PODS, pod.metadata.name ?? '', namespace);
      if (!pod && this.annotation(vm, HOLD) !== 'stopping' && vmi.metadata.finalizers?.length) {
        await this.client.mergePatch(VIRTUAL_MACHINE_INSTANCES, name, namespace, { metadata: { finalizers: null, resourceVersion: vmi.metadata.resourceVersion } });
      }
      return;
    }
    const phase = vmi.status?.phase ?? '';
    if (isFinal(phase)) return;
    const aborted = await abortOrphanedMigration(this.migrationDeps, vmi);
    if (aborted) {
      await this.client.replace(VIRTUAL_MACHINE_INSTANCES, aborted);
      return;
    }
    const next = structuredClone(vmi);
    const st = (next.status ??= {});
    const setPhase = (p: VMIPhase): void => {
      if (st.phase === p) return;
      st.phase = p;
      st.phaseTransitionTimestamps = [...(st.phaseTransitionTimestamps ?? []), { phase: p, phaseTransitionTimestamp: now() }];
    };
    let requeue: number | undefined;

    if (!pod) {
      if (phase === '' || phase === 'Pending') {
        if (this.annotation(vm, HOLD) === 'starting') setPhase('Pending');
        else {
          await this.createLauncherPod(vmi);
          setPhase('Scheduling');
        }
      } else {
        st.reason = 'PodTerminating';
        setPhase('Failed'); // the launcher pod went away under a live VMI
      }
    } else {
      const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      st.conditions = scheduled
        ? withCondition(st.conditions, { type: 'PodScheduled', status: scheduled.status as 'True' | 'False', reason: scheduled.reason, message: scheduled.message })
        : st.conditions;
      if (inject === 'image-pull-error') {
        st.conditions = withCondition(st.conditions, { type: 'Synchronized', status: 'False', reason: 'ErrImagePull', message: 'failed to pull image "quay.io/kubevirt/virt-launcher:sim": simulated pull error' });
      } else if (inject === 'pvc-not-found') {
        st.conditions = withCondition(st.conditions, { type: 'Synchronized', status: 'False', reason: 'FailedPvcNotFound', message: `PVC ${namespace}/${name}-root does not exist, waiting for it to appear` });
      } else {
        st.conditions = withCondition(st.conditions, { type: 'Synchronized', remove: true });
      }
      const podRunning = pod.status?.phase === 'Running' && !pod.metadata.deletionTimestamp;
      if (podRunning && inject === 'crash-loop') {
        st.reason = 'GuestCrashed';
        setPhase('Failed');
      } else if (podRunning && inject !== 'image-pull-error' && inject !== 'pvc-not-found') {
        if (phase === 'Scheduling' || phase === 'Pending' || phase === '') {
          setPhase('Scheduled');
          st.nodeName = pod.spec.nodeName;
          next.metadata.labels = { ...next.metadata.labels, 'kubevirt.io/nodeName': pod.spec.nodeName ?? '' };
          st.activePods = { [pod.metadata.uid ?? '']: pod.spec.nodeName ?? '' };
          st.qosClass = 'Burstable';
          requeue = this.stepMs;
        } else if (phase === 'Scheduled' || phase === 'Running' || phase === 'Unknown') {
          this.handlerView(next, pod, inject);
          setPhase(inject === 'unknown' ? 'Unknown' : 'Running');
        }
      }
    }
    if (isDeepStrictEqual(next, vmi)) return requeue ? { requeueAfterMs: requeue } : undefined;
    // The VMI CRD has no status subresource: virt-handler updates the object itself.
    await this.client.replace(VIRTUAL_MACHINE_INSTANCES, next);
    return requeue ? { requeueAfterMs: requeue } : undefined;
  }

  /** What virt-handler reports from the running domain: interfaces, guest info, Paused, migration. */
  private handlerView(vmi: VirtualMachineInstance, pod: Pod, inject: string | undefined): void {
    const st = (vmi.status ??= {});
    const ip = pod.status?.podIP;
    const hasPodNetwork = (vmi.spec.networks ?? []).some((n) => n.pod);
    st.interfaces = hasPodNetwork && ip ? [{ name: 'default', ipAddress: ip, ipAddresses: [ip], mac: macOf(vmi.metadata.uid ?? ''), interfaceName: 'eth0', infoSource: 'domain, guest-agent' }] : [];
    st.guestOSInfo = { id: 'cirros', name: 'CirrOS', prettyName: 'CirrOS (simulated)', version: '0.6' };
    st.conditions = withCondition(st.conditions, { type: 'Ready', status: 'True' });
    st.conditions = withCondition(st.conditions, { type: 'AgentConnected', status: 'True' });
    st.conditions = withCondition(st.conditions, { type: 'LiveMigratable', status: 'True' });
    // Paused through the pause subresource (by a user), or injected as KubeVirt's own I/O-error pause.
    st.conditions = vmi.metadata.annotations?.[PAUSED_ANNOTATION] === 'true'
      ? withCondition(st.conditions, { type: 'Paused', status: 'True', reason: 'PausedByUser', message: 'VMI was paused by user' })
      : inject === 'paused'
        ? withCondition(st.conditions, { type: 'Paused', status: 'True', reason: 'PausedIOError', message: 'VMI was paused, low-level IO error detected' })
        : withCondition(st.conditions, { type: 'Paused', remove: true });
    if (st.migrationState?.migrationUid && !st.migrationState.endTimestamp) {
      // A migration in progress: the migration controller moves it on.
    } else if (inject === 'migrating') {
      st.migrationState = st.migrationState?.endTimestamp || !st.migrationState ? { startTimestamp: now(), sourceNode: st.nodeName } : st.migrationState;
    } else if (st.migrationState && !st.migrationState.endTimestamp) {
      st.migrationState = { ...st.migrationState, endTimestamp: now(), completed: true };
    }
  }

  private async createLauncherPod(vmi: VirtualMachineInstance): Promise<void> {
    const guest = vmi.spec.domain.memory?.guest ?? vmi.spec.domain.resources?.requests?.memory ?? '512Mi';
    const vcpus = (vmi.spec.domain.cpu?.sockets ?? 1) * (vmi.spec.domain.cpu?.cores ?? 1) * (vmi.spec.domain.cpu?.threads ?? 1);
    const containers: Pod['spec']['containers'] = [{ name: 'compute', image: LAUNCHER_IMAGE, resources: { requests: { cpu: `${vcpus * 100}m`, memory: `${toMiB(guest) + OVERHEAD_MIB}Mi` } } }];
    if (vmi.spec.domain.devices.logSerialConsole) {
      // virt-controller's console logger: it tails the serial console's log file to its stdout.
      containers.push({
        name: GUEST_CONSOLE_LOG,
        image: LAUNCHER_IMAGE,
        command: ['/usr/bin/virt-tail'],
        args: ['--logfile', `/var/run/kubevirt-private/${vmi.metadata.uid}/virt-serial0-log`],
        resources: { requests: { cpu: '5m', memory: '35M' }, limits: { cpu: '15m', memory: '60M' } },
      });
    }
    await this.createIgnoringExists(PODS, {
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
      },
    });
  }

  // ------------------------------------------------------------------------------------ kubelet

  private async reconcilePod(key: string): Promise<void> {
    if (key.startsWith('vm:')) {
      // A VM's injections changed: revisit its launcher pod.
      const { namespace, name } = splitKey(key.slice(3));
      const vmi = this.vmis.get(name, namespace);
      for (const p of this.pods.byIndex('vmi', vmi?.metadata.uid ?? '')) await this.reconcilePod(keyOf(p));
      return;
    }
    const { namespace, name } = splitKey(key);
    const pod = this.pods.get(name, namespace);
    if (!pod) return;
    if (pod.metadata.deletionTimestamp) {
      await this.client.delete(PODS, name, namespace, { gracePeriodSeconds: 0 });
      return;
    }
    if (!pod.spec.nodeName) return; // the kube-scheduler has not bound it yet
    const vm = this.vms.get(controllerOf(pod)?.name ?? '', namespace); // the VMI's name is its VM's
    const t = now();
    let status: Pod['status'];
    if (this.annotation(vm, INJECT) === 'image-pull-error') {
      status = {
        phase: 'Pending',
        hostIP: '127.0.0.1',
        conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
        containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, ready: false, restartCount: 0, image: c.image, imageID: '', state: { waiting: { reason: 'ErrImagePull', message: 'simulated pull error' } } })),
      };
    } else {
      if (pod.status?.phase === 'Running') return;
      const ip = this.nextIP();
      status = {
        phase: 'Running',
        hostIP: '127.0.0.1',
        podIP: ip,
        podIPs: [{ ip }],
        startTime: t,
        conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: t })),
        containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, ready: true, started: true, restartCount: 0, image: c.image, imageID: 'sim://virt-launcher', state: { running: { startedAt: t } } })),
      };
    }
    if (isDeepStrictEqual(pod.status?.containerStatuses, status.containerStatuses) && pod.status?.phase === status.phase) return;
    await this.client.mergePatch(PODS, name, namespace, { status }, 'status');
  }

  private nextIP(): string {
    const n = ++this.ipCounter;
    return `10.244.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
  }

  // ---------------------------------------------------------------------------------------- CDI

  private async reconcileDataVolume(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { namespace, name } = splitKey(key);
    const dv = this.dvs.get(name, namespace);
    if (!dv || dv.metadata.deletionTimestamp) return;
    const phase = dv.status?.phase ?? '';
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const owner = controllerOf(dv);
    const vm = owner ? this.vms.get(owner.name, namespace) : undefined;
    const step = 100 / this.importSteps;
    const progress = Number.parseFloat(dv.status?.progress ?? '0') || 0;
    let status: NonNullable<DataVolume['status']>;
    if (this.annotation(vm, INJECT) === 'data-volume-error') {
      status = {
        phase: 'Failed',
        progress: dv.status?.progress ?? 'N/A',
        conditions: [{ type: 'Running', status: 'False', reason: 'Error', message: 'Unable to process data: simulated import failure' }, { type: 'Ready', status: 'False', reason: 'Error' }],
      };
    } else if (phase === '') status = { phase: 'Pending', progress: 'N/A' };
    else if (phase === 'Pending') status = { phase: 'ImportScheduled', progress: 'N/A' };
    else if (phase === 'ImportScheduled') status = { phase: 'ImportInProgress', progress: '0.00%', conditions: [{ type: 'Running', status: 'True', reason: 'Pod is running' }] };
    else if (this.annotation(vm, HOLD) === 'provisioning') status = { ...dv.status, progress: `${Math.min(progress + step, 50).toFixed(2)}%` };
    else if (progress + step < 100) status = { phase: 'ImportInProgress', progress: `${(progress + step).toFixed(2)}%`, conditions: [{ type: 'Running', status: 'True', reason: 'Pod is running' }] };
    else status = { phase: 'Succeeded', progress: '100.0%', conditions: [{ type: 'Running', status: 'False', reason: 'Completed' }, { type: 'Ready', status: 'True' }, { type: 'Bound', status: 'True' }] };
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(dv.status ?? {})), status)) await this.client.mergePatch(DATA_VOLUMES, name, namespace, { status }, 'status');
    return status.phase === 'Succeeded' || status.phase === 'Failed' ? undefined : { requeueAfterMs: this.stepMs };
  }

  private async reconcileDataSource(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const ds = this.dataSources.get(name, namespace);
    if (!ds || ds.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
    // A DataSource on a volume CDI is still filling (an image being made) is ready when it is.
    const src = ds.spec?.source?.pvc;
    const dv = src?.name ? this.dvs.get(src.name, src.namespace ?? namespace) : undefined;
    if (dv && dv.status?.phase !== 'Succeeded') return;
    // The DataSource CRD has no status subresource.
    await this.client.mergePatch(DATA_SOURCES, name, namespace, {
      metadata: { resourceVersion: ds.metadata.resourceVersion },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastHeartbeatTime: now(), lastTransitionTime: now() }] },
    });
  }

  // ------------------------------------------------------------------------------------ helpers

  private async createIgnoringExists(t: ResourceType, obj: KubeObject): Promise<void> {
    try {
      await this.client.create(t, obj);
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }

  private async addFinalizer(t: ResourceType, o: KubeObject, finalizer: string): Promise<void> {
    await this.client.jsonPatch(t, o.metadata.name ?? '', o.metadata.namespace, [
      { op: 'test', path: '/metadata/resourceVersion', value: o.metadata.resourceVersion },
      o.metadata.finalizers ? { op: 'add', path: '/metadata/finalizers/-', value: finalizer } : { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
    ]);
  }

  private async removeFinalizer(t: ResourceType, o: KubeObject, finalizer: string): Promise<void> {
    try {
      await this.client.jsonPatch(t, o.metadata.name ?? '', o.metadata.namespace, [
        { op: 'test', path: '/metadata/resourceVersion', value: o.metadata.resourceVersion },
        { op: 'replace', path: '/metadata/finalizers', value: (o.metadata.finalizers ?? []).filter((f) => f !== finalizer) },
      ]);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

function toMiB(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) return 512;
  const n = Number(m[1]);
  const unit = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, k: 1000 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576, T: 1e12 / 1048576 }[m[2] ?? ''] ?? 1 / 1048576;
  return Math.ceil(n * unit);
}

function macOf(uid: string): string {
  const h = createHash('sha256').update(uid).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
