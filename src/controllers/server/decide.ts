// The Server controller's decision, pure: from what the caches show (the Server, its VM, VMI,
// DataVolumes, migration, image volume) to the status to write, the VM to apply and the effects to
// run after the status is written. Every branch is table-tested (test/unit/server-decide.test.ts).
import { createHash } from 'node:crypto';
import type { Operation, Server, ServerStatus } from '../../api/server.ts';
import type { KovaConfig } from '../../cache/config.ts';
import { findCondition, setCondition } from '../../kube/conditions.ts';
import type { Condition } from '../../kube/types.ts';
import type { DataVolume, VirtualMachine, CachedVirtualMachineInstance, VirtualMachineInstanceMigration, CachedVirtualMachine } from '../../kubevirt/types.ts';
import { actionEndsAt } from '../../nova/actions.ts';
import { imageIdOf } from '../../nova/images.ts';
import { nextInstanceActions, stampsOf, unrecordedStamps, type RequestStamp } from '../../nova/instance-actions.ts';
import { networksSummary, novaStateOf, type NovaState } from '../../nova/status.ts';
import { APPLIED_HASH } from '../../api/labels.ts';
import { advance, operationState, replacedAndRunning, updateMigrations, vmOverrides, type Observed, type Step } from './operations.ts';
import { planRequests, unstampedRequest } from './requests.ts';
import { quotaRefusal } from '../../nova/quotas.ts';
import { resizeQuotaRefusal } from '../../compute/quotas.ts';
import type { Caches } from '../../cache/caches.ts';

type FlavorSize = { vcpus: number; ramMiB: number };
import { resolveHints, resolveReferences, type Lookups, type Resolved } from './references.ts';
import { desiredVirtualMachine, HALTED_STATES } from './vm.ts';
import { guestKind, passwordCondition, planPassword, type PasswordStep } from './password.ts';

/** What the caches show about one Server. */
export interface ServerObservation {
  server: Server;
  vm?: CachedVirtualMachine;
  vmi?: CachedVirtualMachineInstance;
  /** DataVolumes labelled as this server's, in its namespace. */
  dataVolumes: DataVolume[];
  /** The migration of the live migration in flight. */
  migration?: VirtualMachineInstanceMigration;
  /** The DataVolume of the image being made (createImage / createBackup). */
  imageVolume?: DataVolume;
  /** Now, as an ISO time to the second. */
  now: string;
}

/** What is done after the status is written, in order; each is guarded so a repeat does nothing. */
export type Effect =
  | { kind: 'event'; type: 'Normal' | 'Warning'; reason: string; action: string; note: string }
  | { kind: 'rotateBackups'; backupType: string; rotation: number; imageId?: string }
  | { kind: 'pause' | 'unpause' }
  | { kind: 'deleteVMI'; uid: string; gracePeriodSeconds?: number }
  | { kind: 'softReboot'; requestId: string }
  | { kind: 'createMigration'; name: string; toHost?: string }
  | { kind: 'createImage'; op: Operation }
  | { kind: 'deleteVolume'; name: string; uid?: string }
  | { kind: 'reclaim' }
  | { kind: 'claimGroupSlot'; group: string };

export interface Decision {
  status: ServerStatus;
  /**
   * A password to copy into the server's credentials Secret (and publish encrypted) before the
   * status records it; the request Secrets it supersedes are deleted after.
   */
  password?: PasswordStep;
  /** The VM to apply (server-side apply), when what is applied differs; and the key Secret it needs shared. */
  apply?: { vm: VirtualMachine; keySecretName?: string; created: boolean };
  /** Run after the status write, whether or not it changed anything. */
  effects: Effect[];
  /** Run only when the status write changed something (they report a change, or must happen at most once). */
  onWrite: Effect[];
  requeueAfterMs?: number;
}

/** Who made a request, from its stamp (none for one made by editing the spec). */
const requester = (s: RequestStamp | undefined): { userId?: string; projectId?: string } => (s ? { userId: s.userId, projectId: s.projectId } : {});
const event = (type: 'Normal' | 'Warning', reason: string, action: string, note: string): Effect => ({ kind: 'event', type, reason, action, note });

export function decide(o: ServerObservation, refs: Lookups, cfg: KovaConfig): Decision {
  const { server, vmi, now } = o;
  const vm = o.vm;
  const deleting = !!server.metadata.deletionTimestamp;
  const prev = server.status;
  const effects: Effect[] = [];
  const onWrite: Effect[] = [];
  const projectId = refs.projectIdOf(server.metadata.namespace ?? '') ?? server.metadata.namespace ?? '';

  // Requests first: the Compute API's stamps of the requests it made of this server.
  const stamps = stampsOf(server.metadata.annotations);
  const stampOf = (requestId: string | undefined) => stamps.find((s) => s.requestId === requestId);
  // (The quota check needs the quota caches: the controller's, not a test's narrower lookups.)
  const quotaCaches = 'quotaSets' in refs ? (refs as Caches) : undefined;
  const resizeQuota = quotaCaches ? (from: FlavorSize, to: FlavorSize) => resizeQuotaRefusal(quotaCaches, cfg, server, from, to) : undefined;
  const plan = vm && !deleting ? planRequests(refs, server, vmi, stamps, now, resizeQuota) : undefined;
  const planned: Server = plan ? { ...server, status: { ...prev, operation: plan.op, rescueVolume: plan.rescueVolume } } : server;
  const ov = vmOverrides(planned);
  const references = resolveReferences(refs, cfg.imagesNamespace, server, !!vm, ov);
  const { hints, fault: hintFault, claimSlot } = resolveHints(refs, server, vm);
  const resolved: Resolved = hintFault && !references.fault ? { ...references, inputs: undefined, fault: hintFault } : references;

  const password = deleting ? undefined : planPassword(refs, server, guestKind(server, plan?.op, vmi?.metadata.uid, plan?.rescueVolume ?? prev?.rescueVolume));

  // A Server refused by quota is never built: it stays ERROR with Nova's 403 (controllers/server/quota.ts).
  const overQuota = quotaRefusal(server);
  let apply: Decision['apply'];
  // A slot in the group first: the VM is rendered once the group's status records it.
  if (!deleting && claimSlot && overQuota === undefined) effects.push({ kind: 'claimGroupSlot', group: claimSlot });
  if (!deleting && resolved.inputs && !claimSlot && overQuota === undefined) {
    const desired = desiredVirtualMachine({ ...resolved.inputs, server, rootVolume: ov.rootVolume, placement: ov.placement, rescue: ov.rescue, hints });
    if (vm?.metadata.annotations?.[APPLIED_HASH] !== desired.metadata.annotations?.[APPLIED_HASH]) {
      apply = { vm: desired, keySecretName: resolved.inputs.keySecretName, created: !vm };
    }
  }
  // The VM as it will be once applied: its volumes are the ones in use.
  const templates = (apply?.vm ?? vm)?.spec.dataVolumeTemplates ?? [];
  const dataVolumes = templates.map((t) => o.dataVolumes.find((d) => d.metadata.name === t.metadata.name)).filter((d): d is DataVolume => !!d);

  let rebooting = plan ? plan.rebooting : prev?.rebooting;
  // Done when a VMI other than the one being replaced runs (and the VM says so), or a soft reboot was sent.
  if (rebooting?.type === 'SOFT' && rebooting.sent) rebooting = undefined;
  if (rebooting?.type === 'HARD' && replacedAndRunning(rebooting, { vm, vmi, dataVolumes: [], wantRunning: true })) rebooting = undefined;
  // A soft reboot is claimed in the status write (which fails on a stale cache) before it is sent:
  // sent at most once per request, even when this controller restarts or lags.
  const claimSoftReboot = rebooting?.type === 'SOFT' && !rebooting.sent && vmi?.status?.phase === 'Running' && !vmi.metadata.deletionTimestamp;
  if (claimSoftReboot && rebooting) rebooting = { ...rebooting, sent: true };
  const desiredPower = server.spec.powerState ?? 'Running';
  const wantRunning = !HALTED_STATES.includes(desiredPower);

  // The operation in flight moves on by what the cluster shows.
  let op = plan?.op;
  let outcome: Step['outcome'];
  let outcomeMessage: string | undefined;
  const observed: Observed = {
    vm, vmi, dataVolumes,
    migration: op?.migrationName && o.migration?.metadata.name === op.migrationName ? o.migration : undefined,
    imagePhase: op?.kind === 'createImage' ? o.imageVolume?.status?.phase : undefined,
    wantRunning,
  };
  if (op) {
    const step = advance(op, observed);
    op = step.op;
    outcome = step.outcome;
    outcomeMessage = step.message;
  }
  if (plan?.confirmed) outcome = 'done';
  const finished = plan?.confirmed ?? (plan?.op && !op ? plan.op : undefined);

  const offloadAfter = (cfg.shelvedOffloadTimeSeconds ?? 0) * 1000;
  const offloaded = (desiredPower === 'ShelvedOffloaded' || desiredPower === 'Shelved') && (prev?.offloaded === true || desiredPower === 'ShelvedOffloaded' ||
    (!!prev?.shelvedAt && (cfg.shelvedOffloadTimeSeconds ?? 0) >= 0 && Date.parse(now) - Date.parse(prev.shelvedAt) >= offloadAfter));
  let state = novaStateOf({
    desiredPower, offloaded, deleting,
    launched: !!prev?.launchedAt,
    previous: prev,
    referenceFault: vm ? undefined : overQuota !== undefined ? { code: 403, message: overQuota.slice(0, 255) } : resolved.fault,
    vm, vmi, dataVolumes,
    networkName: cfg.networkName,
    rebooting: rebooting?.type,
  });
  const rescued = !!(plan?.rescueVolume ?? prev?.rescueVolume) && !!server.spec.rescue;
  if (rescued && !deleting && state.status === 'ACTIVE' && !op) state = { ...state, status: 'RESCUE', vmState: 'rescued' };
  if (op && !deleting) state = { ...state, ...operationState(op, state, observed) };
  const resetToError = plan ? plan.resetToError : prev?.resetToError;
  if (resetToError && !deleting) state = { ...state, status: 'ERROR', vmState: 'error', taskState: undefined };
  if (state.status === 'SHELVED_OFFLOADED') delete state.host; // an offloaded server has no host
  if (finished?.kind === 'createImage' && outcome === 'done' && server.spec.createImage?.backupType !== undefined) {
    effects.push({ kind: 'rotateBackups', backupType: server.spec.createImage.backupType, rotation: server.spec.createImage.rotation ?? 0, imageId: server.spec.createImage.imageId });
  }
  if (finished && outcome === 'failed') effects.push(event('Warning', 'OperationFailed', finished.kind, `${finished.kind} ${finished.requestId}: ${outcomeMessage ?? 'failed'}`));

  const base = statusFrom(server, state, resolved, !!vm, projectId, now);
  const shelved = state.status === 'SHELVED' || state.status === 'SHELVED_OFFLOADED';
  const softDeleted = state.status === 'SOFT_DELETED' && !state.taskState;
  const curOp = op ?? finished;
  const status: ServerStatus = {
    ...base,
    // What a finished operation leaves behind: the new flavor, root disk and image; or the old ones.
    flavor: finished ? (finished.kind === 'resize' && finished.phase === 'reverting' ? finished.fromFlavor : (finished.toFlavor ?? base.flavor)) : (op?.kind === 'resize' && op.phase === 'verify' ? op.toFlavor : base.flavor),
    rootVolume: finished?.kind === 'rebuild' && outcome === 'done' ? finished.rootVolume : prev?.rootVolume,
    image: finished?.kind === 'rebuild' && outcome === 'done' ? imageRef(refs, finished.image) ?? base.image : prev?.image ?? base.image,
    rescueVolume: finished?.kind === 'unrescue' ? undefined : plan?.rescueVolume ?? prev?.rescueVolume,
    handledRequests: password ? { ...(plan?.handled ?? prev?.handledRequests), ...password.handled } : plan?.handled ?? prev?.handledRequests,
    rebooting,
    operation: op,
    resetToError: resetToError || undefined,
    shelvedAt: shelved ? prev?.shelvedAt ?? now : undefined,
    offloaded: shelved && offloaded ? true : undefined,
    deletedAt: softDeleted ? prev?.deletedAt ?? now : undefined,
    migrations: curOp
      ? updateMigrations(prev?.migrations, server.metadata.uid ?? '', curOp, outcome, requester(stampOf(curOp.requestId)), now, state.host)
      : prev?.migrations,
    conditions: setCondition(setCondition(base.conditions, passwordCondition(vmi, server.metadata.generation)), acceptedCondition(plan?.refusal ?? stillRefused(prev, server.metadata.generation), server.metadata.generation)),
    // Every request not yet recorded, oldest first, so the newest is on top (the first step, with
    // none, finishes the open event of the action already on top even when nothing new came).
    instanceActions: [undefined, ...unrecordedStamps(stamps, prev?.instanceActions), ...(plan?.unstamped ?? []).map((u) => unstampedRequest(server, projectId, u, now))].reduce((list, st) => nextInstanceActions(list, st, {
      time: now,
      reached: (action) => !base.taskState && !rebooting && (!op || op.phase === 'verify') && actionEndsAt(action, state.status),
      error: (requestId) => base.status === 'ERROR' || (outcome === 'failed' && !!stampOf(requestId) && requestId === finished?.requestId),
      host: base.host,
    }), prev?.instanceActions),
  };
  const transition = transitionEvent(prev, status);
  if (transition) onWrite.push(transition);
  if (plan?.refusal && plan.refusal !== findCondition(prev?.conditions, 'Accepted')?.message) onWrite.push(event('Warning', 'RequestRefused', 'Reconcile', plan.refusal));

  // Acting on the guest, after the work is recorded.
  const pause = pauseAction(server, vmi);
  if (pause) effects.push({ kind: pause });
  const from = rebooting?.fromVMI;
  if (rebooting?.type === 'HARD' && from && vmi && vmi.metadata.uid === from && !vmi.metadata.deletionTimestamp) effects.push({ kind: 'deleteVMI', uid: from });
  if (claimSoftReboot && vmi) onWrite.push({ kind: 'softReboot', requestId: status.handledRequests?.reboot ?? '' });
  if (op) effects.push(...operationEffects(op, vmi, !!observed.migration));
  if (!op && (vm || apply)) {
    // Root and rescue disks the VM no longer names (after a rebuild or an unrescue) are deleted.
    const used = new Set(templates.map((t) => t.metadata.name));
    for (const dv of o.dataVolumes) if (!used.has(dv.metadata.name ?? '') && !dv.metadata.deletionTimestamp) effects.push({ kind: 'deleteVolume', name: dv.metadata.name ?? '', uid: dv.metadata.uid });
  }

  // Timers: a soft-deleted server is reclaimed after the interval; a shelved one is offloaded after its time.
  let requeueAfterMs: number | undefined;
  if (status.deletedAt) {
    const left = Date.parse(status.deletedAt) + (cfg.reclaimInstanceIntervalSeconds ?? 0) * 1000 - Date.parse(now);
    if (left <= 0) effects.push({ kind: 'reclaim' }, event('Normal', 'Reclaimed', 'Delete', 'soft-deleted server reclaimed'));
    else requeueAfterMs = left;
  } else if (status.shelvedAt && !status.offloaded && (cfg.shelvedOffloadTimeSeconds ?? 0) >= 0) {
    requeueAfterMs = Math.max(50, Date.parse(status.shelvedAt) + offloadAfter - Date.parse(now));
  }
  return { status, password, apply, effects, onWrite, requeueAfterMs };
}

/**
 * powerState Paused ⇄ Running on a running VMI goes through KubeVirt's pause and unpause
 * subresources. A pause KubeVirt made for its own reasons (an I/O error) is left alone.
 */
function pauseAction(server: Server, vmi: CachedVirtualMachineInstance | undefined): 'pause' | 'unpause' | undefined {
  if (!vmi || vmi.status?.phase !== 'Running' || vmi.metadata.deletionTimestamp) return undefined;
  const paused = vmi.status.conditions?.find((x) => x.type === 'Paused' && x.status === 'True');
  const want = server.spec.powerState ?? 'Running';
  return (want === 'Paused' || want === 'Suspended') && !paused ? 'pause' : want === 'Running' && paused?.reason === 'PausedByUser' ? 'unpause' : undefined;
}

/** What an operation does to the cluster at its phase. */
function operationEffects(op: Operation, vmi: CachedVirtualMachineInstance | undefined, migrationSeen: boolean): Effect[] {
  const replacing = !!op.fromVMI && vmi?.metadata.uid === op.fromVMI && !vmi.metadata.deletionTimestamp;
  switch (op.kind) {
    case 'resize':
    case 'migrate':
      return (op.phase === 'migrating' || op.phase === 'reverting') && replacing ? [{ kind: 'deleteVMI', uid: op.fromVMI ?? '' }] : [];
    case 'rebuild':
    case 'rescue':
    case 'unrescue':
      return replacing ? [{ kind: 'deleteVMI', uid: op.fromVMI ?? '' }] : [];
    case 'evacuate':
      // The host is down: nothing will answer for the old VMI, so it is not waited for.
      return replacing ? [{ kind: 'deleteVMI', uid: op.fromVMI ?? '', gracePeriodSeconds: 0 }] : [];
    case 'liveMigrate':
      return op.phase === 'queued' && op.migrationName && !migrationSeen ? [{ kind: 'createMigration', name: op.migrationName, toHost: op.toHost }] : [];
    case 'createImage':
      return [{ kind: 'createImage', op }];
  }
  return [];
}

function statusFrom(server: Server, state: NovaState, resolved: Resolved, vmExists: boolean, projectId: string, now: string): ServerStatus {
  const prev = server.status ?? {};
  const gen = server.metadata.generation;
  const fault = state.fault
    ? { ...state.fault, created: prev.fault?.message === state.fault.message && prev.fault.created ? prev.fault.created : now }
    : undefined;
  return {
    observedGeneration: gen,
    status: state.status,
    vmState: state.vmState,
    taskState: state.taskState,
    powerState: state.powerState,
    progress: state.progress,
    fault,
    addresses: state.addresses,
    networks: networksSummary(state.addresses),
    host: state.host,
    hypervisorHostname: state.host,
    hostId: state.host ? createHash('sha224').update(projectId + state.host).digest('hex') : undefined,
    instanceName: vmExists ? server.metadata.name : prev.instanceName,
    launchedAt: prev.launchedAt ?? (state.running ? now : undefined),
    terminatedAt: prev.terminatedAt,
    flavor: resolved.flavor ?? prev.flavor,
    image: resolved.image ?? prev.image,
    keyName: resolved.keyName ?? prev.keyName ?? server.spec.keyName,
    conditions: setCondition(prev.conditions, readyCondition(server, state, gen)),
  };
}

/** Ready: the server is where its spec asks it to be (running or stopped), with nothing in flight. */
function readyCondition(server: Server, state: NovaState, gen: number | undefined): Omit<Condition, 'lastTransitionTime'> {
  const want = server.spec.powerState ?? 'Running';
  if (state.status === 'ERROR') return { type: 'Ready', status: 'False', reason: 'Error', message: state.fault?.details ? `${state.fault.message} ${state.fault.details}` : state.fault?.message ?? 'error', observedGeneration: gen };
  const settled = !state.taskState && ((want === 'Running' && state.status === 'ACTIVE') || (want === 'Shutoff' && state.status === 'SHUTOFF') || (want === 'Paused' && state.status === 'PAUSED') || (want === 'Suspended' && state.status === 'SUSPENDED'));
  if (settled) return { type: 'Ready', status: 'True', reason: state.status.charAt(0) + state.status.slice(1).toLowerCase(), message: `server is ${state.status}`, observedGeneration: gen };
  const reason = state.taskState ? state.taskState.replace(/(^|[-_])(\w)/g, (_m, _s, ch: string) => ch.toUpperCase()) : state.status.charAt(0) + state.status.slice(1).toLowerCase();
  return { type: 'Ready', status: 'False', reason, message: `server is ${state.status}${state.taskState ? ` (${state.taskState})` : ''}`, observedGeneration: gen };
}

/** The Event a change of status/task is recorded as. */
function transitionEvent(prev: ServerStatus | undefined, next: ServerStatus): Effect | undefined {
  const from = `${prev?.status ?? 'NEW'}${prev?.taskState ? `/${prev.taskState}` : ''}`;
  const to = `${next.status}${next.taskState ? `/${next.taskState}` : ''}`;
  if (from === to) return undefined;
  if (next.status === 'ERROR') return event('Warning', 'Error', 'Reconcile', `${next.fault?.message ?? 'error'}${next.fault?.details ? ` ${next.fault.details}` : ''}`);
  return event('Normal', 'StatusChanged', 'Reconcile', `${from} → ${to}`);
}

/** The last refusal stands while the spec that was refused does. */
function stillRefused(prev: ServerStatus | undefined, gen: number | undefined): string | null {
  const c = findCondition(prev?.conditions, 'Accepted');
  return c?.status === 'False' && c.observedGeneration === gen ? c.message ?? null : null;
}

function acceptedCondition(refusal: string | null, gen: number | undefined): Omit<Condition, 'lastTransitionTime'> {
  return refusal
    ? { type: 'Accepted', status: 'False', reason: 'RequestRefused', message: refusal, observedGeneration: gen }
    : { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'the spec is acted on', observedGeneration: gen };
}

const imageRef = (refs: Lookups, image: string | undefined): { name: string; uid?: string } | undefined => {
  if (!image) return undefined;
  const d = refs.image(image);
  return { name: d?.metadata.name ?? image, uid: d ? imageIdOf(d) : undefined };
};
