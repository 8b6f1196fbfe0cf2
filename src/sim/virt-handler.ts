// The simulated virt-handler, for VMIs: a VMI real virt-controller handed over (Scheduled, its
// launcher pod running on this Node) becomes Running with what virt-handler reports from the domain
// (interfaces, guest OS, AgentConnected, LiveMigratable, Paused, access credentials); its domain
// stops when the VMI or its pod goes (Succeeded), or crashes or goes Unknown as injected; and the
// two handlers' half of a live migration virt-controller runs. It writes as the `kubevirt-handler`
// service account. virt-controller does the rest: the launcher pod, Pending → Scheduling →
// Scheduled, Ready from the pod, the finalizers once the pod is gone.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { splitKey, type Pod } from '../kube/types.ts';
import { VIRTUAL_MACHINE_INSTANCES, type VirtualMachineInstance, type VMIPhase } from '../kubevirt/types.ts';
import { now, withCondition, type SimDeps } from './deps.ts';
import { held, holdsDomain, injected } from './injections.ts';
import { PAUSED_ANNOTATION } from './virt-handler-server.ts';
import { syncPasswords } from './guest-agent.ts';
import { vmiStatusAsGo } from './go-json.ts';

/** The VMI: what the simulated domain on its Node reports. */
export async function reconcileVMI(d: SimDeps, key: string): Promise<{ requeueAfterMs?: number } | void> {
  const { namespace, name } = splitKey(key);
  const vmi = d.vmis.get(name, namespace);
  if (!vmi) return;
  const vm = d.vms.get(name, namespace);
  const phase = vmi.status?.phase ?? '';
  if (!['Scheduled', 'Running', 'Unknown'].includes(phase)) return;
  // After a migration the pod on the VMI's node is the one that counts.
  const pods = d.pods.byIndex('vmi', vmi.metadata.uid ?? '').filter((p) => p.metadata.namespace === namespace);
  // (A Node can also hold the launcher that exited there after an earlier migration: the live one counts.)
  const here = pods.filter((p) => p.spec.nodeName === vmi.status?.nodeName);
  const pod = here.find((p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? '')) ?? here[0] ?? pods[0];
  const { next, st, setPhase } = draft(vmi);
  const inject = injected(vm);
  const podDown = !pod || !!pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  if (vmi.metadata.deletionTimestamp || podDown) {
    if (holdsDomain(vm)) return;
    // The domain shut down (the VMI or its pod was deleted) or the launcher went away under it.
    setPhase(pod?.status?.phase === 'Failed' ? 'Failed' : 'Succeeded');
    st.conditions = withCondition(st.conditions, { type: 'AgentConnected', remove: true });
  } else if (pod.status?.phase !== 'Running') {
    return;
  } else if (inject === 'crash-loop') {
    st.reason = 'GuestCrashed';
    setPhase('Failed');
  } else {
    handlerView(next, pod, inject);
    syncCredentials(d, next, inject);
    st.selinuxContext = 'none';
    st.machine = { type: 'q35' };
    setPhase(inject === 'unknown' ? 'Unknown' : 'Running');
    if (migrationStep(next, held(vm) === 'migrating')) {
      await write(d, vmi, next);
      return { requeueAfterMs: d.stepMs };
    }
  }
  await write(d, vmi, next);
}

/**
 * Stores the handlers' view of the VMI, if it changed, with its status encoded as KubeVirt's Go
 * types encode it: real virt-controller's status patches `test` its Go round trip of the stored
 * status (a migration abort tests the whole of it), so a status Go would write differently makes
 * them fail for as long as it is stored.
 */
async function write(d: SimDeps, vmi: VirtualMachineInstance, next: VirtualMachineInstance): Promise<void> {
  if (next.status) next.status = vmiStatusAsGo(next.status);
  if (isDeepStrictEqual(next, vmi)) return;
  await d.vmiClient.replace(VIRTUAL_MACHINE_INSTANCES, next);
}

/**
 * One step of the two virt-handlers' side of a live migration virt-controller has handed over
 * (migrationState names the migration and the target node): the target prepares (its address),
 * the source starts, then — unless held — the source reports it completed and the target takes the
 * VMI over (its node). An abort virt-controller asks for in the VMI's status (abortRequested, set
 * once the migration is deleted while running) ends it failed, aborted. The handlers never read
 * the migration object itself. Whether it is still going.
 */
function migrationStep(vmi: VirtualMachineInstance, hold: boolean): boolean {
  const st = vmi.status ??= {};
  const ms = st.migrationState;
  if (!ms?.migrationUid || !ms.targetNode || ms.endTimestamp) return false;
  if (ms.abortRequested) {
    st.migrationState = { ...ms, abortStatus: 'Succeeded', failed: true, endTimestamp: now() };
    return false;
  }
  if (!ms.targetNodeAddress) {
    st.migrationState = { ...ms, targetNodeAddress: '127.0.0.1', targetDirectMigrationNodePorts: { '49152': 0 } };
  } else if (!ms.startTimestamp) {
    st.migrationState = { ...ms, startTimestamp: now(), mode: 'PreCopy' };
  } else if (!hold) {
    const t = now();
    st.migrationState = { ...ms, targetNodeDomainDetected: true, targetNodeDomainReadyTimestamp: t, completed: true, endTimestamp: t };
    st.nodeName = ms.targetNode;
    const labels: Record<string, string> = { ...vmi.metadata.labels, 'kubevirt.io/nodeName': ms.targetNode };
    delete labels['kubevirt.io/migrationTargetNodeName'];
    vmi.metadata.labels = labels;
    return false;
  }
  return true;
}

/** A copy of the VMI to change, and how to move its phase (with the transition's timestamp). */
function draft(vmi: VirtualMachineInstance): { next: VirtualMachineInstance; st: NonNullable<VirtualMachineInstance['status']>; setPhase: (p: VMIPhase) => void } {
  const next = structuredClone(vmi);
  const st = (next.status ??= {});
  const setPhase = (p: VMIPhase): void => {
    if (st.phase === p) return;
    st.phase = p;
    st.phaseTransitionTimestamps = [...(st.phaseTransitionTimestamps ?? []), { phase: p, phaseTransitionTimestamp: now() }];
  };
  return { next, st, setPhase };
}

/** What virt-handler reports from the running domain: interfaces, guest info, Paused, migration. */
function handlerView(vmi: VirtualMachineInstance, pod: Pod, inject: string | undefined): void {
  const st = (vmi.status ??= {});
  const ip = pod.status?.podIP;
  const hasPodNetwork = (vmi.spec.networks ?? []).some((n) => n.pod);
  // The MAC the VM asks for, else one KubeVirt makes up for this VMI.
  const mac = vmi.spec.domain.devices.interfaces?.find((i) => i.name === 'default')?.macAddress ?? macOf(vmi.metadata.uid ?? '');
  // virt-controller's network controller names the pod interface an interface rides on
  // (podInterfaceName); virt-handler merges its domain's view into that status and keeps it, so the
  // two never write over each other.
  const podInterfaceName = st.interfaces?.find((i) => i.name === 'default')?.podInterfaceName;
  st.interfaces = hasPodNetwork && ip ? [{ name: 'default', ipAddress: ip, ipAddresses: [ip], mac, interfaceName: 'eth0', infoSource: 'domain, guest-agent', ...(podInterfaceName ? { podInterfaceName } : {}) }] : [];
  st.guestOSInfo = { id: 'cirros', name: 'CirrOS', prettyName: 'CirrOS (simulated)', version: '0.6' };
  // KubeVirt drops AgentConnected while the guest agent does not answer.
  st.conditions = withCondition(st.conditions, inject === 'no-guest-agent' ? { type: 'AgentConnected', remove: true } : { type: 'AgentConnected', status: 'True' });
  st.conditions = withCondition(st.conditions, { type: 'LiveMigratable', status: 'True' });
  // Paused through the pause subresource (by a user), or injected as KubeVirt's own I/O-error pause.
  st.conditions = vmi.metadata.annotations?.[PAUSED_ANNOTATION] === 'true'
    ? withCondition(st.conditions, { type: 'Paused', status: 'True', reason: 'PausedByUser', message: 'VMI was paused by user' })
    : inject === 'paused'
      ? withCondition(st.conditions, { type: 'Paused', status: 'True', reason: 'PausedIOError', message: 'VMI was paused, low-level IO error detected' })
      : withCondition(st.conditions, { type: 'Paused', remove: true });
  if (st.migrationState?.migrationUid && !st.migrationState.endTimestamp) {
    // A migration in progress: migrationStep moves it on.
  } else if (inject === 'migrating') {
    st.migrationState = st.migrationState?.endTimestamp || !st.migrationState ? { startTimestamp: now(), sourceNode: st.nodeName } : st.migrationState;
  } else if (st.migrationState && !st.migrationState.endTimestamp) {
    st.migrationState = { ...st.migrationState, endTimestamp: now(), completed: true };
  }
}

/** virt-launcher's access credentials (guest-agent.ts) and the condition virt-handler sets from them. */
function syncCredentials(d: SimDeps, vmi: VirtualMachineInstance, inject: string | undefined): void {
  const st = (vmi.status ??= {});
  const condition = syncPasswords(vmi, {
    agentConnected: inject !== 'no-guest-agent',
    secret: (name) => d.secrets.get(name, vmi.metadata.namespace),
    guests: d.guests,
  });
  if (!condition) return;
  // virt-handler replaces the condition only when its status or message changes.
  const prev = st.conditions?.find((c) => c.type === condition.type);
  if (prev?.status === condition.status && (prev.message ?? '') === condition.message) return;
  st.conditions = withCondition(st.conditions, condition);
}

function macOf(uid: string): string {
  const h = createHash('sha256').update(uid).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
