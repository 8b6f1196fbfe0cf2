// VMI status as Go writes it. Real virt-controller guards its VMI status patches with a JSON-patch
// `test` of the value it holds — its cached VMI, decoded into KubeVirt's Go types and encoded again
// (the migration abort tests the whole status). Anything the simulated virt-handler stores that does
// not survive that round trip unchanged makes every such `test` fail, for as long as it is stored.
// So every VMI status the simulator writes goes through vmiStatusAsGo first: the shapes below are
// the parts of kubevirt.io/api v1.8.0 core/v1 (VirtualMachineInstanceStatus and the types in it)
// that the simulator writes; what they do not name is left as it is (virt-controller wrote it).
import type { VirtualMachineInstance } from '../kubevirt/types.ts';

/** One Go struct's JSON encoding, as far as the simulator writes it. */
interface Shape {
  /** `omitempty` fields of a scalar, slice or map type: left out when "", false, 0, null, [] or {}. */
  omitEmpty?: string[];
  /** metav1.Time fields (not pointers): RFC 3339 in whole seconds, and `null` when unset. */
  times?: string[];
  /** *metav1.Time fields (`omitempty`): RFC 3339 in whole seconds, left out when unset. */
  timePointers?: string[];
  /** Fields holding another struct (or a slice of them). */
  nested?: Record<string, Shape>;
}

const condition: Shape = { omitEmpty: ['reason', 'message'], times: ['lastProbeTime', 'lastTransitionTime'] };

const migrationState: Shape = {
  omitEmpty: [
    'targetNodeDomainDetected', 'targetNodeAddress', 'targetDirectMigrationNodePorts', 'targetNode', 'targetPod',
    'targetAttachmentPodUID', 'sourceNode', 'sourcePod', 'completed', 'failed', 'abortRequested', 'abortStatus',
    'failureReason', 'migrationUid', 'mode', 'targetCPUSet', 'targetNodeTopology', 'sourcePersistentStatePVCName',
    'targetPersistentStatePVCName', 'migrationNetworkType',
  ],
  timePointers: ['startTimestamp', 'endTimestamp', 'targetNodeDomainReadyTimestamp'],
};

const status: Shape = {
  omitEmpty: [
    'nodeName', 'reason', 'conditions', 'phase', 'phaseTransitionTimestamps', 'interfaces', 'migrationMethod',
    'migrationTransport', 'launcherContainerImageVersion', 'evacuationNodeName', 'activePods', 'volumeStatus',
    'fsFreezeStatus', 'virtualMachineRevisionName', 'selinuxContext', 'migratedVolumes',
  ],
  nested: {
    conditions: condition,
    phaseTransitionTimestamps: { omitEmpty: ['phase'], times: ['phaseTransitionTimestamp'] },
    interfaces: { omitEmpty: ['ipAddress', 'mac', 'name', 'ipAddresses', 'podInterfaceName', 'interfaceName', 'infoSource', 'queueCount', 'linkState'] },
    guestOSInfo: { omitEmpty: ['name', 'kernelRelease', 'version', 'prettyName', 'versionId', 'kernelVersion', 'machine', 'id'] },
    migrationState,
  },
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/** metav1.Time's encoding: UTC, whole seconds. */
function goTime(v: unknown): unknown {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) return v;
  return new Date(Date.parse(v)).toISOString().replace(/\.\d+Z$/, 'Z');
}

function encode(value: Json, shape: Shape): Json {
  const out: Json = { ...value };
  for (const [key, inner] of Object.entries(shape.nested ?? {})) {
    const v = out[key];
    if (Array.isArray(v)) out[key] = v.map((x) => (isObject(x) ? encode(x, inner) : x));
    else if (isObject(v)) out[key] = encode(v, inner);
  }
  for (const key of shape.times ?? []) out[key] = out[key] == null ? null : goTime(out[key]);
  for (const key of shape.timePointers ?? []) {
    if (out[key] == null) delete out[key];
    else out[key] = goTime(out[key]);
  }
  for (const key of shape.omitEmpty ?? []) if (isEmpty(out[key])) delete out[key];
  return out;
}

/**
 * The VMI status as KubeVirt's Go types encode it (what virt-controller's `test` compares with):
 * `omitempty` zero values left out, unset metav1.Time fields `null`, timestamps in whole seconds.
 */
export function vmiStatusAsGo(s: NonNullable<VirtualMachineInstance['status']>): NonNullable<VirtualMachineInstance['status']> {
  return encode(JSON.parse(JSON.stringify(s)) as Json, status) as NonNullable<VirtualMachineInstance['status']>;
}
