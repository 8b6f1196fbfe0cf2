// The requests a Server's spec holds — new request ids and declarative changes alike — checked
// against Nova's state rules (the catalog the Compute API reads too) and turned into the work to do.
// A refused request id is recorded as handled and reported; a refused declarative change waits,
// reported, until it is allowed. Pure.
import type { Operation, Server, ServerStatus } from '../../api/server.ts';
import { checkAction, instanceActionOf, instanceActionOfOperation, instanceActionOfPowerChange } from '../../nova/actions.ts';
import { unrecordedStamps, type RequestStamp } from '../../nova/instance-actions.ts';
import { serverState } from '../../nova/server-state.ts';
import type { CachedVirtualMachineInstance } from '../../kubevirt/types.ts';
import { liveVMI, migrationIds, migrationName, rebuildVolumeName, rescueVolumeName } from './operations.ts';
import { flavorMatches, snapshotOf, type Lookups } from './references.ts';

export interface Plan {
  handled: Record<string, string>;
  op?: Operation;
  rebooting?: ServerStatus['rebooting'];
  resetToError?: boolean;
  rescueVolume?: string;
  /** A resize or migration confirmed in this reconcile. */
  confirmed?: Operation;
  /** Requests taken in this reconcile that did not come through the Compute API (no new stamp). */
  unstamped?: { action: string; key: string }[];
  /** A request the state rules refuse (null: none refused in this reconcile). */
  refusal: string | null;
}

/** Every request in spec, planned; what was taken without a new Compute API stamp is recorded too. */
/** Nova's quota refusal of a resize from one flavor to another, if it would go over (the spec door's check). */
export type ResizeQuota = (from: { vcpus: number; ramMiB: number }, to: { vcpus: number; ramMiB: number }) => string | undefined;

export function planRequests(refs: Lookups, server: Server, vmi: CachedVirtualMachineInstance | undefined, stamps: RequestStamp[], now: string, resizeQuota?: ResizeQuota): Plan {
  const st = server.status ?? {};
  // The requests the Compute API made since the controller last recorded them, oldest first.
  const fresh = unrecordedStamps(stamps, st.instanceActions);
  const plan = takeRequests(refs, server, vmi, fresh, now, resizeQuota);
  // What was taken without a new Compute API stamp was asked by editing the spec: record it too.
  const viaApi = (id: string | undefined) => stamps.some((s) => s.requestId === id);
  const asked = (action: string) => fresh.some((s) => s.action === action);
  const unstamped: { action: string; key: string }[] = [];
  const handled = plan.handled;
  const power = server.spec.powerState ?? 'Running';
  const powerAction = handled.powerState && handled.powerState !== power ? instanceActionOfPowerChange(handled.powerState, power) : undefined;
  if (powerAction && !asked(powerAction)) unstamped.push({ action: powerAction, key: `power:${power}:${server.metadata.generation}` });
  handled.powerState = power;
  for (const k of ['reboot', 'confirmResize', 'revertResize', 'os-resetState'] as const) {
    const field = k === 'os-resetState' ? 'resetState' : k;
    const id = handled[field];
    if (id && id !== st.handledRequests?.[field] && !viaApi(id)) unstamped.push({ action: instanceActionOf(k), key: id });
  }
  const op = plan.op;
  const opAction = op ? instanceActionOfOperation(op) : '';
  if (op && op.requestId !== st.operation?.requestId && !viaApi(op.requestId.replace(/^backup:/, '')) && !asked(opAction)) {
    unstamped.push({ action: opAction, key: op.requestId });
  }
  if (unstamped.length) plan.unstamped = unstamped;
  return plan;
}

/**
 * A request made by editing the spec (kubectl, GitOps) rather than through the Compute API has no
 * stamp: it is recorded under a request id derived from what was asked, with no Nova user.
 */
export function unstampedRequest(server: Server, projectId: string, u: { action: string; key: string }, now: string): RequestStamp {
  const requestId = u.key.startsWith('req-') ? u.key : `req-${migrationIds(server.metadata.uid ?? '', u.key).uuid}`;
  return { requestId, action: u.action, userId: '', projectId, at: now };
}

function takeRequests(refs: Lookups, server: Server, vmi: CachedVirtualMachineInstance | undefined, fresh: RequestStamp[], now: string, resizeQuota?: ResizeQuota): Plan {
  const resizeStamp = fresh.findLast((s) => s.action === 'resize');
  const spec = server.spec;
  const st = server.status ?? {};
  const handled = { ...(st.handledRequests ?? {}) };
  const plan: Plan = { handled, op: st.operation, rebooting: st.rebooting, resetToError: st.resetToError, rescueVolume: st.rescueVolume, refusal: null };
  const allowed = (rule: string, what: string): boolean => {
    try {
      checkAction(rule, serverState(server, { resetToError: plan.resetToError }), { admin: true });
      return true;
    } catch (e) {
      plan.refusal = `${what}: ${(e as Error).message}`;
      return false;
    }
  };
  const isNew = (key: string, id: string | undefined): id is string => !!id && handled[key] !== id;
  const live = liveVMI(vmi)?.metadata.uid;
  const start = (o: Omit<Operation, 'startedAt' | 'fromHost'>): void => {
    plan.op = { fromFlavor: st.flavor, toFlavor: st.flavor, ...o, startedAt: now, fromHost: st.host, ...(o.fromVMI ? {} : { fromVMI: undefined }) } as Operation;
    plan.resetToError = false;
    plan.rebooting = undefined;
  };

  // os-resetState (admins): vm_state forced, any task dropped.
  if (isNew('resetState', spec.resetState?.requestId)) {
    handled.resetState = spec.resetState.requestId;
    handled['resetState:powerState'] = spec.powerState ?? 'Running';
    plan.resetToError = spec.resetState.state === 'error';
    plan.op = undefined;
    plan.rebooting = undefined;
    return plan;
  }
  // An error forced by resetState lasts until the power state is changed or another action is taken.
  if (plan.resetToError && handled['resetState:powerState'] !== (spec.powerState ?? 'Running')) plan.resetToError = false;

  if (isNew('reboot', spec.reboot?.requestId)) {
    handled.reboot = spec.reboot.requestId;
    if (allowed(`reboot:${spec.reboot.type}`, `reboot ${spec.reboot.requestId}`)) {
      plan.rebooting = { type: spec.reboot.type, fromVMI: vmi?.metadata.uid ?? '' };
      plan.resetToError = false;
    }
  }

  const op = plan.op;
  if (op) {
    // Only a resize or migration waiting in VERIFY_RESIZE takes further requests.
    if (op.phase !== 'verify' || (op.kind !== 'resize' && op.kind !== 'migrate')) return plan;
    const revertByFlavor = op.kind === 'resize' && flavorMatches(refs, spec.flavor, op.fromFlavor) && !flavorMatches(refs, spec.flavor, op.toFlavor);
    if (isNew('revertResize', spec.revertResize?.requestId) || revertByFlavor) {
      if (spec.revertResize?.requestId) handled.revertResize = spec.revertResize.requestId;
      plan.op = { ...op, phase: 'reverting', fromVMI: live };
    } else if (isNew('confirmResize', spec.confirmResize?.requestId)) {
      handled.confirmResize = spec.confirmResize.requestId;
      plan.op = undefined;
      plan.confirmed = op;
      plan.resetToError = false;
    }
    return plan;
  }

  const current = st.flavor;
  const target = refs.flavor(spec.flavor);
  const targetImage = refs.image(spec.image);
  if (isNew('createImage', spec.createImage?.requestId)) {
    handled.createImage = spec.createImage.requestId;
    const action = spec.createImage.backupType !== undefined ? 'createBackup' : 'createImage';
    if (allowed(action, `${action} ${spec.createImage.requestId}`)) {
      start({ kind: 'createImage', requestId: `${action === 'createBackup' ? 'backup:' : ''}${spec.createImage.requestId}`, phase: 'snapshot', imageId: spec.createImage.imageId });
    }
  } else if (isNew('rebuild', spec.rebuild?.requestId) || (targetImage && st.image?.name && targetImage.metadata.name !== st.image.name && handled['rebuild:image'] !== targetImage.metadata.name)) {
    const id = spec.rebuild?.requestId && handled.rebuild !== spec.rebuild.requestId ? spec.rebuild.requestId : `image:${targetImage?.metadata.name}:${server.metadata.generation}`;
    if (spec.rebuild?.requestId) handled.rebuild = spec.rebuild.requestId;
    if (targetImage) handled['rebuild:image'] = targetImage.metadata.name ?? '';
    if (!targetImage) plan.refusal = `rebuild ${id}: image ${spec.image} could not be found`;
    else if (allowed('rebuild', `rebuild ${id}`)) {
      start({ kind: 'rebuild', requestId: id, phase: 'rebuilding', image: targetImage.metadata.name, rootVolume: rebuildVolumeName(server.metadata.name ?? '', id), fromVMI: live });
    }
  } else if (isNew('evacuate', spec.evacuate?.requestId)) {
    handled.evacuate = spec.evacuate.requestId;
    if (allowed('evacuate', `evacuate ${spec.evacuate.requestId}`)) start({ kind: 'evacuate', requestId: spec.evacuate.requestId, phase: 'rebuilding', toHost: spec.evacuate.host, fromVMI: live });
  } else if (isNew('migrate', spec.migrate?.requestId)) {
    const m = spec.migrate;
    handled.migrate = m.requestId;
    if (m.live) {
      if (allowed('os-migrateLive', `live migration ${m.requestId}`)) start({ kind: 'liveMigrate', requestId: m.requestId, phase: 'queued', toHost: m.host, migrationName: migrationName(server.metadata.name ?? '', m.requestId), fromVMI: live });
    } else if (allowed('migrate', `migration ${m.requestId}`)) {
      start({ kind: 'migrate', requestId: m.requestId, phase: 'migrating', toHost: m.host, fromFlavor: current, toFlavor: current, fromVMI: live });
    }
  } else if (target && current && !flavorMatches(refs, spec.flavor, current)) {
    const snap = snapshotOf(target);
    // A resize asked through the API was counted there, under the quota lock; one asked by editing
    // the spec is counted here, against the servers already admitted (docs/adr/019).
    const overQuota = snap && !resizeStamp ? resizeQuota?.({ vcpus: current.vcpus ?? 0, ramMiB: current.ramMiB ?? 0 }, { vcpus: snap.vcpus ?? 0, ramMiB: snap.ramMiB ?? 0 }) : undefined;
    if (overQuota) plan.refusal = `resize to flavor ${spec.flavor}: ${overQuota}`;
    else if (snap && allowed('resize', `resize to flavor ${spec.flavor}`)) {
      start({ kind: 'resize', requestId: resizeStamp ? resizeStamp.requestId : `flavor:${spec.flavor}:${server.metadata.generation}`, phase: 'migrating', fromFlavor: current, toFlavor: snap, fromVMI: live });
    }
  } else if (spec.rescue && !st.rescueVolume && isNew('rescue', spec.rescue.requestId)) {
    const image = spec.rescue.image ? refs.image(spec.rescue.image) : refs.image(st.image?.name ?? spec.image);
    if (!image) {
      handled.rescue = spec.rescue.requestId;
      plan.refusal = `rescue ${spec.rescue.requestId}: image ${spec.rescue.image ?? spec.image} could not be found`;
    } else if (allowed('rescue', `rescue ${spec.rescue.requestId}`)) {
      handled.rescue = spec.rescue.requestId;
      const volume = rescueVolumeName(server.metadata.name ?? '', spec.rescue.requestId);
      plan.rescueVolume = volume;
      start({ kind: 'rescue', requestId: spec.rescue.requestId, phase: 'rescuing', image: image.metadata.name, rootVolume: volume, fromVMI: live });
    }
  } else if (!spec.rescue && st.rescueVolume) {
    if (allowed('unrescue', 'unrescue')) start({ kind: 'unrescue', requestId: `unrescue:${st.rescueVolume}`, phase: 'unrescuing', fromVMI: live });
  }
  return plan;
}
