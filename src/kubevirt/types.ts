// The KubeVirt and CDI objects Kova reads and writes, trimmed to the fields it uses.
// Field names are KubeVirt's own (reference: ../shared/reference/kubevirt.md).
import type { Condition, KubeObject, ResourceType } from '../kube/types.ts';

export const VIRTUAL_MACHINES: ResourceType = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachines', kind: 'VirtualMachine', namespaced: true };
export const VIRTUAL_MACHINE_INSTANCES: ResourceType = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances', kind: 'VirtualMachineInstance', namespaced: true };
export const VIRTUAL_MACHINE_INSTANCE_MIGRATIONS: ResourceType = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstancemigrations', kind: 'VirtualMachineInstanceMigration', namespaced: true };
/** virt-api's group: the VMI subresources that need the guest (pause, vnc …), served behind the kube-apiserver. */
/** KubeVirt's subprotocol for streaming subresources (console, vnc) that carries raw bytes. */
export const PLAIN_STREAM_PROTOCOL = 'plain.kubevirt.io';
export const VMI_SUBRESOURCES: ResourceType = { group: 'subresources.kubevirt.io', version: 'v1', plural: 'virtualmachineinstances', kind: 'VirtualMachineInstance', namespaced: true };
export const CLUSTER_INSTANCETYPES: ResourceType = { group: 'instancetype.kubevirt.io', version: 'v1beta1', plural: 'virtualmachineclusterinstancetypes', kind: 'VirtualMachineClusterInstancetype', namespaced: false };
export const INSTANCETYPES: ResourceType = { group: 'instancetype.kubevirt.io', version: 'v1beta1', plural: 'virtualmachineinstancetypes', kind: 'VirtualMachineInstancetype', namespaced: true };
export const DATA_VOLUMES: ResourceType = { group: 'cdi.kubevirt.io', version: 'v1beta1', plural: 'datavolumes', kind: 'DataVolume', namespaced: true };
export const DATA_SOURCES: ResourceType = { group: 'cdi.kubevirt.io', version: 'v1beta1', plural: 'datasources', kind: 'DataSource', namespaced: true };

/** The launcher pod's container whose log is the guest's serial console (`logSerialConsole`, KubeVirt ≥ 1.2). */
export const GUEST_CONSOLE_LOG = 'guest-console-log';

/** VirtualMachine.status.printableStatus values, in KubeVirt's spelling. */
export type PrintableStatus =
  | 'Stopped' | 'Provisioning' | 'Starting' | 'Running' | 'Paused' | 'Stopping' | 'Terminating' | 'CrashLoopBackOff' | 'Migrating'
  | 'Unknown' | 'ErrorUnschedulable' | 'ErrImagePull' | 'ImagePullBackOff' | 'ErrorPvcNotFound' | 'DataVolumeError'
  | 'WaitingForVolumeBinding' | 'WaitingForReceiver';

export type RunStrategy = 'Always' | 'RerunOnFailure' | 'Manual' | 'Halted' | 'Once' | 'WaitAsReceiver';
export type VMIPhase = '' | 'Pending' | 'Scheduling' | 'Scheduled' | 'Running' | 'Succeeded' | 'Failed' | 'WaitingForSync' | 'Unknown';

/** KubeVirt conditions carry no observedGeneration and may lack a transition time. */
export type KubeVirtCondition = Omit<Condition, 'lastTransitionTime' | 'reason' | 'message'> & { reason?: string; message?: string; lastTransitionTime?: string | null; lastProbeTime?: string | null };

export interface DataVolumeTemplate {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    sourceRef?: { kind: 'DataSource'; name: string; namespace?: string };
    /** What KubeVirt resolves a sourceRef into when it creates the DataVolume: the image's PVC. */
    source?: { pvc?: { name: string; namespace?: string } };
    storage?: { resources?: { requests?: { storage?: string } }; accessModes?: string[] };
    pvc?: { resources?: { requests?: { storage?: string } }; accessModes?: string[] };
  };
}

export interface VirtualMachineSpec {
  runStrategy?: RunStrategy;
  instancetype?: { kind?: string; name: string };
  preference?: { kind?: string; name: string };
  dataVolumeTemplates?: DataVolumeTemplate[];
  template: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: VirtualMachineInstanceSpec;
  };
}

export interface VirtualMachineInstanceSpec {
  domain: {
    devices: {
      disks?: { name: string; disk?: { bus?: string }; cdrom?: { bus?: string }; bootOrder?: number }[];
      interfaces?: { name: string; masquerade?: Record<string, never>; bridge?: Record<string, never>; macAddress?: string }[];
      autoattachPodInterface?: boolean;
      /** KubeVirt ≥ 1.2: the serial console's output becomes the launcher pod's `guest-console-log` container log. */
      logSerialConsole?: boolean;
    };
    resources?: { requests?: Record<string, string> };
    /** Boot firmware: BIOS by default, UEFI when `bootloader.efi` is set. */
    firmware?: { bootloader?: { efi?: { secureBoot?: boolean } } };
    cpu?: { cores?: number; sockets?: number; threads?: number };
    memory?: { guest?: string };
  };
  hostname?: string;
  nodeSelector?: Record<string, string>;
  affinity?: unknown;
  tolerations?: unknown[];
  networks?: { name: string; pod?: Record<string, never> }[];
  volumes?: {
    name: string;
    dataVolume?: { name: string };
    cloudInitConfigDrive?: { secretRef?: { name: string }; userData?: string };
    containerDisk?: { image: string };
    emptyDisk?: { capacity: string };
  }[];
  /** One of sshPublicKey or userPassword per entry (virt-api's webhook refuses both or neither). */
  accessCredentials?: {
    sshPublicKey?: { source: { secret: { secretName: string } }; propagationMethod: { configDrive?: Record<string, never>; noCloud?: Record<string, never> } };
    userPassword?: { source: { secret: { secretName: string } }; propagationMethod: { qemuGuestAgent: Record<string, never> } };
  }[];
}

export interface VirtualMachine extends KubeObject {
  spec: VirtualMachineSpec;
  status?: {
    printableStatus?: PrintableStatus;
    created?: boolean;
    ready?: boolean;
    conditions?: KubeVirtCondition[];
    startFailure?: { consecutiveFailCount?: number; lastFailedVMIUID?: string; retryAfterTimestamp?: string };
    runStrategy?: RunStrategy;
    observedGeneration?: number;
    desiredGeneration?: number;
  };
}

/**
 * A VirtualMachine as the controller's cache keeps it (`slimVirtualMachine`): without its instance
 * template's spec and its volume templates' specs, the bulk of it. The controller applies a VM
 * whole from the Server and decides by the applied hash; of the VM it reads names, labels,
 * annotations and status. A full VirtualMachine is one too.
 */
export type CachedVirtualMachine = KubeObject & {
  status?: VirtualMachine['status'];
  spec: Pick<VirtualMachineSpec, 'runStrategy' | 'instancetype' | 'preference'> & {
    template: { metadata?: VirtualMachineSpec['template']['metadata'] };
    dataVolumeTemplates?: { metadata: { name: string } }[];
  };
};

/** What the controller's cache keeps of a VirtualMachine. */
export function slimVirtualMachine(vm: VirtualMachine | CachedVirtualMachine): CachedVirtualMachine {
  const { runStrategy, instancetype, preference, template, dataVolumeTemplates } = vm.spec;
  return {
    ...vm,
    spec: {
      ...(runStrategy ? { runStrategy } : {}),
      ...(instancetype ? { instancetype } : {}),
      ...(preference ? { preference } : {}),
      template: template?.metadata ? { metadata: template.metadata } : {},
      ...(dataVolumeTemplates ? { dataVolumeTemplates: dataVolumeTemplates.map((t) => ({ metadata: { name: t.metadata.name } })) } : {}),
    },
  };
}

/**
 * A VirtualMachineInstance as the controller's cache keeps it (`slimVirtualMachineInstance`): its
 * status and metadata, not its spec (KubeVirt's own, made from the VM; the controller reads none
 * of it). A full VirtualMachineInstance is one too.
 */
export type CachedVirtualMachineInstance = KubeObject & { status?: VirtualMachineInstance['status']; spec?: unknown };

/** What the controller's cache keeps of a VirtualMachineInstance. */
export function slimVirtualMachineInstance(vmi: VirtualMachineInstance | CachedVirtualMachineInstance): CachedVirtualMachineInstance {
  const { spec: _spec, ...kept } = vmi;
  return kept;
}

export interface VMIInterface {
  name?: string;
  ipAddress?: string;
  ipAddresses?: string[];
  mac?: string;
  interfaceName?: string;
  /** The pod's interface it rides on; virt-controller's network controller sets it (eth0 for the pod network). */
  podInterfaceName?: string;
  infoSource?: string;
}

export interface VirtualMachineInstance extends KubeObject {
  spec: VirtualMachineInstanceSpec;
  status?: {
    phase?: VMIPhase;
    nodeName?: string;
    reason?: string;
    conditions?: KubeVirtCondition[];
    interfaces?: VMIInterface[];
    phaseTransitionTimestamps?: { phase: VMIPhase; phaseTransitionTimestamp: string }[];
    migrationState?: {
      startTimestamp?: string; endTimestamp?: string; sourceNode?: string; sourcePod?: string; targetNode?: string; targetPod?: string; completed?: boolean; failed?: boolean; migrationUid?: string; mode?: string;
      abortStatus?: string; abortRequested?: boolean; failureReason?: string;
      targetNodeAddress?: string; targetDirectMigrationNodePorts?: Record<string, number>; targetNodeDomainDetected?: boolean; targetNodeDomainReadyTimestamp?: string;
    };
    guestOSInfo?: Record<string, string>;
    activePods?: Record<string, string>;
    qosClass?: string;
    /** What virt-handler reports (the migration controller refuses to start without it). */
    selinuxContext?: string;
    machine?: { type: string };
    launcherContainerImageVersion?: string;
  };
}

export type DataVolumePhase = '' | 'Pending' | 'PVCBound' | 'ImportScheduled' | 'ImportInProgress' | 'CloneScheduled' | 'CloneInProgress' | 'Succeeded' | 'Failed' | 'Unknown' | 'WaitForFirstConsumer' | 'PendingPopulation';

export interface DataVolume extends KubeObject {
  spec: DataVolumeTemplate['spec'];
  status?: { phase?: DataVolumePhase; progress?: string; conditions?: KubeVirtCondition[]; restartCount?: number };
}

export interface DataSource extends KubeObject {
  spec: { source: { pvc?: { name: string; namespace?: string }; snapshot?: { name: string; namespace?: string } } };
  status?: { conditions?: KubeVirtCondition[] };
}

export interface InstancetypeSpec {
  cpu: { guest: number; dedicatedCPUPlacement?: boolean; isolateEmulatorThread?: boolean; maxSockets?: number; realtime?: { mask?: string }; numa?: { guestMappingPassthrough: Record<string, never> } };
  memory: { guest: string; hugepages?: { pageSize: string } };
  gpus?: { name: string; deviceName: string }[];
  hostDevices?: { name: string; deviceName: string }[];
  nodeSelector?: Record<string, string>;
  launchSecurity?: { sev?: Record<string, never> };
  annotations?: Record<string, string>;
}

export interface Instancetype extends KubeObject {
  spec: InstancetypeSpec;
}

export const vmCondition = (o: { status?: { conditions?: KubeVirtCondition[] } } | undefined, type: string): KubeVirtCondition | undefined =>
  o?.status?.conditions?.find((c) => c.type === type);

/** A VirtualMachineInstanceMigration, as far as Kova reads it. */
export interface VirtualMachineInstanceMigration extends KubeObject {
  spec: { vmiName: string; addedNodeSelector?: Record<string, string> };
  status?: { phase?: string; migrationState?: { sourceNode?: string; targetNode?: string; completed?: boolean; failed?: boolean; failureReason?: string; abortStatus?: string } };
}
