// Server → one KubeVirt VirtualMachine (same name, owned by the Server), and the Nova view of it in
// Server.status. References (flavor, image, key pair) are resolved from the caches; a missing one
// puts the Server in ERROR with a fault naming it, and no VM is made until it appears.
import { createHash } from 'node:crypto';
import { SERVERS, type FlavorSnapshot, type Operation, type Server, type ServerStatus } from '../api/server.ts';
import { APPLIED_HASH, BACKUP_TYPE_LABEL, HOSTNAME_LABEL, IMAGE_ID_LABEL, IMAGE_NAME_ANNOTATION, IMAGE_OWNER_ANNOTATION, IMAGE_PROPERTY_PREFIX, REQUEST_ANNOTATION, SERVER_LABEL, SOURCE_SERVER_LABEL } from '../api/labels.ts';
import type { Flavor } from '../api/flavor.ts';
import { nextInstanceActions, parseStamp, type RequestStamp } from '../nova/instance-actions.ts';
import { findCondition, isTrue, setCondition } from '../kube/conditions.ts';
import { ownerReference, SECRETS, splitKey, type Condition } from '../kube/types.ts';
import { API_VERSION } from '../api/group.ts';
import { DATA_SOURCES, DATA_VOLUMES, VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, type DataSource, type DataVolume, type VirtualMachine, type VirtualMachineInstance } from '../kubevirt/types.ts';
import { isAlreadyExists, isConflict } from '../kube/client.ts';
import { checkAction, type ServerState, type VmState } from '../nova/actions.ts';
import { networksSummary, novaView, type NovaView } from '../nova/status.ts';
import { type ControllerDeps } from './deps.ts';
import { imageIdOf } from '../nova/images.ts';
import { desiredVirtualMachine, HALTED_STATES, rootVolumeName, type VmInputs } from './server-vm.ts';
import { advance, liveVMI, migrationIds as stableIds, migrationName, operationView, rebuildVolumeName, replacedAndRunning, rescueVolumeName, updateMigrations, vmOverrides, type Observed, type Step, type VmOverrides } from './server-ops.ts';
import { writeStatus } from '../kube/status.ts';
import { canUseFlavor, findKeyPair, projectOf } from '../compute/references.ts';

type Fault = NonNullable<NovaView['fault']>;

interface Resolved {
  inputs?: VmInputs;
  /** A reference exists but its controller has not processed it yet: wait, do not fail. */
  waiting?: string;
  flavor?: FlavorSnapshot;
  image?: { name?: string; uid?: string };
  /** The key pair's Nova name (spec.keyName may name the object instead). */
  keyName?: string;
  fault?: Fault;
}

/** The flavor as a server keeps it (Nova embeds the flavor in the instance). */
export function snapshotOf(f: Flavor): FlavorSnapshot | undefined {
  if (!f.status?.instancetype) return undefined;
  return {
    id: f.spec.id ?? f.metadata.name,
    name: f.spec.name,
    vcpus: f.spec.vcpus,
    ramMiB: f.spec.ramMiB,
    diskGiB: f.spec.diskGiB ?? 0,
    ephemeralGiB: f.spec.ephemeralGiB ?? 0,
    swapMiB: f.spec.swapMiB ?? 0,
    extraSpecs: f.spec.extraSpecs ?? {},
    instancetype: f.status.instancetype,
  };
}

/** spec.flavor (a name or an id) names this snapshot's flavor. */
function flavorMatches(ctx: ControllerDeps, ref: string, snap: FlavorSnapshot | undefined): boolean {
  if (!snap) return false;
  if (ref === snap.id) return true;
  const f = ctx.caches.flavor(ref);
  return f ? (f.spec.id ?? f.metadata.name) === snap.id : ref === snap.name;
}

/** Finds what the VM needs. Once the VM exists, the snapshot in status stands in for a flavor that is gone. */
export function resolveReferences(ctx: ControllerDeps, server: Server, vmExists: boolean, ov: VmOverrides = {}): Resolved {
  const c = ctx.caches;
  const ns = server.metadata.namespace ?? '';
  const spec = server.spec;
  const snapshot = server.status?.flavor;
  let flavor: FlavorSnapshot | undefined;
  const f = c.flavor(spec.flavor);
  if (f && isTrue(f.status?.conditions, 'Ready') && f.status?.instancetype) {
    const project = projectOf(c, ns);
    if (!canUseFlavor(f, project) && !vmExists) {
      return { fault: { code: 404, message: `Flavor ${spec.flavor} could not be found.`, details: `flavor ${spec.flavor} is private and project ${project.id ?? ns} has no access to it` } };
    }
    flavor = snapshotOf(f);
  }
  if (vmExists && snapshot) flavor = snapshot; // Nova keeps the flavor a server was built with (until a resize)
  if (vmExists && ov.flavor) flavor = ov.flavor;
  if (!flavor) {
    if (!f) return { fault: { code: 404, message: `Flavor ${spec.flavor} could not be found.` } };
    const ready = findCondition(f.status?.conditions, 'Ready');
    if (!ready || ready.observedGeneration !== f.metadata.generation) return { waiting: `flavor ${spec.flavor}` };
    return { fault: { code: 500, message: `Flavor ${spec.flavor} cannot be used.`, details: ready?.message ?? 'the flavor is not ready yet' } };
  }

  // Once built, the server runs the image it was built (or rebuilt) from; spec.image changing is a rebuild.
  const imgRef = vmExists && ov.image ? ov.image : spec.image;
  const img = c.image(imgRef);
  const image = img ? { name: img.metadata.name ?? '', uid: imageIdOf(img) } : vmExists ? server.status?.image : undefined;
  if (!image?.name) return { flavor, fault: { code: 404, message: `Image ${spec.image} could not be found.`, details: `no DataSource ${spec.image} in namespace ${ctx.cfg.imagesNamespace}` } };

  let keySecretName: string | undefined;
  let keyName: string | undefined;
  if (spec.keyName) {
    const kp = findKeyPair(c, ns, spec.keyName);
    if (!kp) return { flavor, image, fault: { code: 400, message: 'Invalid key_name provided.', details: `key pair ${spec.keyName} not found in project ${ns}` } };
    const ready = findCondition(kp.status?.conditions, 'Ready');
    if (!ready || ready.observedGeneration !== kp.metadata.generation) return { flavor, image, waiting: `key pair ${spec.keyName}` };
    if (ready.status !== 'True' || !kp.status?.secretName) {
      return { flavor, image, fault: { code: 400, message: 'Invalid key_name provided.', details: ready.message } };
    }
    if ((kp.spec.type ?? 'ssh') === 'ssh') keySecretName = kp.status.secretName;
    keyName = kp.spec.name;
  }
  const it = flavor.instancetype ?? { kind: 'VirtualMachineClusterInstancetype', name: flavor.id ?? '' };
  return {
    flavor,
    image,
    keyName,
    inputs: {
      server,
      instancetype: { kind: it.kind ?? 'VirtualMachineClusterInstancetype', name: it.name ?? '' },
      diskGiB: spec.rootDiskGiB ?? flavor.diskGiB ?? 0,
      ephemeralGiB: flavor.ephemeralGiB ?? 0,
      swapMiB: flavor.swapMiB ?? 0,
      image: { name: image.name, namespace: ctx.cfg.imagesNamespace },
      keySecretName,
    },
  };
}

export async function reconcileServer(ctx: ControllerDeps, key: string): Promise<{ requeueAfterMs?: number } | void> {
  const { namespace, name } = splitKey(key);
  const server = ctx.caches.servers.get(name, namespace);
  if (!server) return; // the VM is owned by it: garbage collection removes it
  const c = ctx.caches;
  let vm = c.vms.get(name, namespace);
  const deleting = !!server.metadata.deletionTimestamp;
  let vmi = c.vmis.get(name, namespace);
  const prev = server.status;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  // Requests first: what this reconcile decides is recorded in status before anything is done.
  // The Compute API's stamp of the last request it made of this server (its instance action).
  const stamp = parseStamp(server.metadata.annotations?.[REQUEST_ANNOTATION]);
  const plan = vm && !deleting ? planRequests(ctx, server, vmi, stamp, now) : undefined;
  const planned: Server = plan ? { ...server, status: { ...prev, operation: plan.op, rescueVolume: plan.rescueVolume } } : server;
  const ov = vmOverrides(planned);
  const resolved = resolveReferences(ctx, server, !!vm, ov);

  if (!deleting && resolved.inputs) {
    const desired = desiredVirtualMachine({ ...resolved.inputs, rootVolume: ov.rootVolume, placement: ov.placement, rescue: ov.rescue });
    if (vm?.metadata.annotations?.[APPLIED_HASH] !== desired.metadata.annotations?.[APPLIED_HASH]) {
      if (resolved.inputs.keySecretName) await shareKeySecret(ctx, server, resolved.inputs.keySecretName);
      vm = await ctx.client.apply(VIRTUAL_MACHINES, desired);
      if (!c.vms.get(name, namespace)) await ctx.events.record(server, 'Normal', 'VirtualMachineCreated', 'Create', `created VirtualMachine ${name}`);
    }
  }

  let rebooting = plan ? plan.rebooting : prev?.rebooting;
  // Done when a VMI other than the one being replaced runs (and the VM says so), or a soft reboot was sent.
  if (rebooting?.type === 'SOFT' && rebooting.sent) rebooting = undefined;
  if (rebooting?.type === 'HARD' && replacedAndRunning(rebooting, { vm, vmi, dataVolumes: [], wantRunning: true })) rebooting = undefined;
  // A soft reboot is claimed in the status write below (which fails on a stale cache) before it is
  // sent: sent at most once per request, even when this controller restarts or lags.
  const claimSoftReboot = rebooting?.type === 'SOFT' && !rebooting.sent && vmi?.status?.phase === 'Running' && !vmi.metadata.deletionTimestamp;
  if (claimSoftReboot && rebooting) rebooting = { ...rebooting, sent: true };
  const dataVolumes = (vm?.spec.dataVolumeTemplates ?? []).map((t) => c.dataVolumes.get(t.metadata.name, namespace)).filter((d): d is DataVolume => !!d);
  const desiredPower = server.spec.powerState ?? 'Running';
  const wantRunning = !HALTED_STATES.includes(desiredPower);

  // The operation in flight moves on by what the cluster shows.
  let op = plan?.op;
  let outcome: Step['outcome'];
  let outcomeMessage: string | undefined;
  const migration = op?.migrationName ? c.migrations.get(op.migrationName, namespace) : undefined;
  const imagePhase = op?.kind === 'createImage' ? (await imageDataVolume(ctx, op))?.status?.phase : undefined;
  const observed: Observed = { vm, vmi, dataVolumes, migration, imagePhase, wantRunning };
  if (op) {
    const step = advance(op, observed);
    op = step.op;
    outcome = step.outcome;
    outcomeMessage = step.message;
  }
  if (plan?.confirmed) outcome = 'done';
  const finished = plan?.confirmed ?? (plan?.op && !op ? plan.op : undefined);

  const offloaded = (desiredPower === 'ShelvedOffloaded' || desiredPower === 'Shelved') && (prev?.offloaded === true || desiredPower === 'ShelvedOffloaded' ||
    (!!prev?.shelvedAt && (ctx.cfg.shelvedOffloadTimeSeconds ?? 0) >= 0 && Date.parse(now) - Date.parse(prev.shelvedAt) >= (ctx.cfg.shelvedOffloadTimeSeconds ?? 0) * 1000));
  let view = novaView({
    desiredPower,
    offloaded,
    deleting,
    launched: !!prev?.launchedAt,
    previous: prev,
    referenceFault: vm ? undefined : resolved.fault,
    vm,
    vmi,
    dataVolumes,
    networkName: ctx.cfg.networkName,
    rebooting: rebooting?.type,
  });
  const rescued = !!(plan?.rescueVolume ?? prev?.rescueVolume) && !!server.spec.rescue;
  if (rescued && !deleting && view.status === 'ACTIVE' && !op) view = { ...view, status: 'RESCUE', vmState: 'rescued' };
  if (op && !deleting) view = { ...view, ...operationView(op, view, observed) };
  const resetToError = plan ? plan.resetToError : prev?.resetToError;
  if (resetToError && !deleting) view = { ...view, status: 'ERROR', vmState: 'error', taskState: undefined };
  if (view.status === 'SHELVED_OFFLOADED') delete view.host; // an offloaded server has no host
  if (finished?.kind === 'createImage' && outcome === 'done' && server.spec.createImage?.backupType !== undefined) {
    await rotateBackups(ctx, server, server.spec.createImage.backupType, server.spec.createImage.rotation ?? 0);
  }
  if (finished && outcome === 'failed') {
    await ctx.events.record(server, 'Warning', 'OperationFailed', finished.kind, `${finished.kind} ${finished.requestId}: ${outcomeMessage ?? 'failed'}`);
  }

  const base = statusFrom(ctx, server, view, resolved, !!vm);
  const shelved = view.status === 'SHELVED' || view.status === 'SHELVED_OFFLOADED';
  const softDeleted = view.status === 'SOFT_DELETED' && !view.taskState;
  const curOp = op ?? finished;
  const status: ServerStatus = {
    ...base,
    // What a finished operation leaves behind: the new flavor, root disk and image; or the old ones.
    flavor: finished ? (finished.kind === 'resize' && finished.phase === 'reverting' ? finished.fromFlavor : (finished.toFlavor ?? base.flavor)) : (op?.kind === 'resize' && op.phase === 'verify' ? op.toFlavor : base.flavor),
    rootVolume: finished?.kind === 'rebuild' && outcome === 'done' ? finished.rootVolume : prev?.rootVolume,
    image: finished?.kind === 'rebuild' && outcome === 'done' ? imageRef(ctx, finished.image) ?? base.image : prev?.image ?? base.image,
    rescueVolume: finished?.kind === 'unrescue' ? undefined : plan?.rescueVolume ?? prev?.rescueVolume,
    handledRequests: plan?.handled ?? prev?.handledRequests,
    rebooting,
    operation: op,
    resetToError: resetToError || undefined,
    shelvedAt: shelved ? prev?.shelvedAt ?? now : undefined,
    offloaded: shelved && offloaded ? true : undefined,
    deletedAt: softDeleted ? prev?.deletedAt ?? now : undefined,
    migrations: curOp
      ? updateMigrations(prev?.migrations, server.metadata.uid ?? '', curOp, outcome, stamp?.requestId === curOp.requestId ? { userId: stamp.userId, projectId: stamp.projectId } : {}, now, view.host)
      : prev?.migrations,
    conditions: setCondition(base.conditions, acceptedCondition(plan?.refusal ?? stillRefused(prev, server.metadata.generation), server.metadata.generation)),
    instanceActions: [stamp, ...(plan?.unstamped ?? []).map((u) => unstampedRequest(ctx, server, u, now))].reduce((list, st) => nextInstanceActions(list, st, {
      time: now,
      reached: (action) => !base.taskState && !rebooting && (!op || op.phase === 'verify') && reachedBy(action, view.status),
      error: base.status === 'ERROR' || (outcome === 'failed' && stamp?.requestId === finished?.requestId),
      host: base.host,
    }), prev?.instanceActions),
  };
  const wrote = await writeStatus(ctx.client, SERVERS, server, status);
  if (wrote) {
    await recordTransition(ctx, server, prev, status);
    if (plan?.refusal && plan.refusal !== findCondition(prev?.conditions, 'Accepted')?.message) await ctx.events.record(server, 'Warning', 'RequestRefused', 'Reconcile', plan.refusal);
  }

  // Acting, only after the work is recorded; every act is guarded so a repeat does nothing.
  vmi = c.vmis.get(name, namespace);
  await syncPause(ctx, server, vmi);
  const from = rebooting?.fromVMI;
  if (rebooting?.type === 'HARD' && from && vmi && vmi.metadata.uid === from && !vmi.metadata.deletionTimestamp) await deleteVMI(ctx, name, namespace, from);
  if (claimSoftReboot && wrote && vmi) await softReboot(ctx, server, status, vmi);
  if (op) await actOn(ctx, server, op, vmi);
  if (!op && vm) await dropUnusedVolumes(ctx, server, vm);
  if (status.deletedAt) {
    const left = Date.parse(status.deletedAt) + (ctx.cfg.reclaimInstanceIntervalSeconds ?? 0) * 1000 - Date.now();
    if (left <= 0) {
      await ctx.client.delete(SERVERS, name, namespace, { uid: server.metadata.uid });
      await ctx.events.record(server, 'Normal', 'Reclaimed', 'Delete', 'soft-deleted server reclaimed');
      return;
    }
    return { requeueAfterMs: left };
  }
  if (status.shelvedAt && !status.offloaded && (ctx.cfg.shelvedOffloadTimeSeconds ?? 0) >= 0) {
    return { requeueAfterMs: Math.max(50, Date.parse(status.shelvedAt) + (ctx.cfg.shelvedOffloadTimeSeconds ?? 0) * 1000 - Date.now()) };
  }
  if (op?.kind === 'createImage') return { requeueAfterMs: 500 };
}

/**
 * A request made by editing the spec (kubectl, GitOps) rather than through the Compute API has no
 * stamp: it is recorded under a request id derived from what was asked, with no Nova user.
 */
function unstampedRequest(ctx: ControllerDeps, server: Server, u: { action: string; key: string }, now: string): RequestStamp {
  const requestId = u.key.startsWith('req-') ? u.key : `req-${stableIds(server.metadata.uid ?? '', u.key).uuid}`;
  const projectId = ctx.caches.projectIdOf(server.metadata.namespace ?? '') ?? server.metadata.namespace ?? '';
  return { requestId, action: u.action, userId: '', projectId, at: now };
}

/** Nova's instance-action name for a change of the desired power state. */
function powerAction(from: string, to: string): string | undefined {
  if (to === 'SoftDeleted') return 'delete';
  if (from === 'SoftDeleted') return 'restore';
  if (to === 'Shelved') return 'shelve';
  if (to === 'ShelvedOffloaded') return from === 'Shelved' ? 'shelveOffload' : 'shelve';
  if (from === 'Shelved' || from === 'ShelvedOffloaded') return 'unshelve';
  if (to === 'Shutoff') return 'stop';
  if (to === 'Paused') return 'pause';
  if (to === 'Suspended') return 'suspend';
  if (from === 'Paused') return 'unpause';
  if (from === 'Suspended') return 'resume';
  return 'start';
}

const OP_ACTIONS: Record<Operation['kind'], string> = {
  resize: 'resize', migrate: 'migrate', liveMigrate: 'live-migration', rebuild: 'rebuild', evacuate: 'evacuate', rescue: 'rescue', unrescue: 'unrescue', createImage: 'createImage',
};

/** When a request's instance action is over, by the status it leads to. */
function reachedBy(action: string, status: string): boolean {
  const ends: Record<string, string[]> = {
    create: ['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED'], stop: ['SHUTOFF'], start: ['ACTIVE'], reboot: ['ACTIVE'],
    pause: ['PAUSED'], unpause: ['ACTIVE'], suspend: ['SUSPENDED'], resume: ['ACTIVE'],
    resize: ['VERIFY_RESIZE'], migrate: ['VERIFY_RESIZE'], confirmResize: ['ACTIVE', 'SHUTOFF'], revertResize: ['ACTIVE', 'SHUTOFF'],
    'live-migration': ['ACTIVE', 'PAUSED'], evacuate: ['ACTIVE', 'SHUTOFF'], rebuild: ['ACTIVE', 'SHUTOFF'],
    shelve: ['SHELVED', 'SHELVED_OFFLOADED'], shelveOffload: ['SHELVED_OFFLOADED'], unshelve: ['ACTIVE'],
    rescue: ['RESCUE'], unrescue: ['ACTIVE'], createImage: ['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED'], createBackup: ['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED'],
    restore: ['ACTIVE'], delete: ['SOFT_DELETED'], 'os-resetState': ['ACTIVE', 'ERROR'], lock: ['*'], unlock: ['*'],
  };
  const e = ends[action];
  return !!e && (e.includes('*') || e.includes(status));
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

const imageRef = (ctx: ControllerDeps, image: string | undefined): { name: string; uid?: string } | undefined => {
  if (!image) return undefined;
  const d = ctx.caches.image(image);
  return { name: d?.metadata.name ?? image, uid: d ? imageIdOf(d) : undefined };
};

/** Deletes the VMI with this uid; if it is already gone (or replaced), nothing happens. */
async function deleteVMI(ctx: ControllerDeps, name: string, namespace: string | undefined, uid: string, gracePeriodSeconds?: number): Promise<void> {
  await ctx.client.delete(VIRTUAL_MACHINE_INSTANCES, name, namespace, { uid, gracePeriodSeconds });
}

/**
 * SOFT reboot through KubeVirt's softreboot subresource (the guest reboots, the VMI stays), once
 * claimed in status. When KubeVirt cannot (no ACPI or agent), Nova's fallback: a HARD reboot.
 */
async function softReboot(ctx: ControllerDeps, server: Server, status: ServerStatus, vmi: VirtualMachineInstance): Promise<void> {
  try {
    await ctx.client.request('PUT', `/apis/subresources.kubevirt.io/v1/namespaces/${vmi.metadata.namespace}/virtualmachineinstances/${vmi.metadata.name}/softreboot`, { body: {} });
  } catch (e) {
    await ctx.events.record(server, 'Warning', 'SoftRebootFailed', 'Reboot', `soft reboot refused (${(e as Error).message}); rebooting hard`);
    const current = await ctx.client.get<Server>(SERVERS, server.metadata.name ?? '', server.metadata.namespace);
    await writeStatus(ctx.client, SERVERS, current, { ...current.status, rebooting: { type: 'HARD', fromVMI: vmi.metadata.uid ?? '' } });
    return;
  }
  await ctx.events.record(server, 'Normal', 'SoftRebooted', 'Reboot', `soft reboot ${status.handledRequests?.reboot ?? ''} sent to the guest`);
}

async function imageDataVolume(ctx: ControllerDeps, op: Operation): Promise<DataVolume | undefined> {
  return ctx.client.find<DataVolume>(DATA_VOLUMES, imageVolumeName(op.imageId ?? ''), ctx.cfg.imagesNamespace);
}

export const imageVolumeName = (imageId: string): string => `image-${imageId}`;

/** What an operation does to the cluster, idempotently (names and uid preconditions). */
async function actOn(ctx: ControllerDeps, server: Server, op: Operation, vmi: VirtualMachineInstance | undefined): Promise<void> {
  const name = server.metadata.name ?? '';
  const namespace = server.metadata.namespace ?? '';
  const replacing = op.fromVMI && vmi?.metadata.uid === op.fromVMI && !vmi.metadata.deletionTimestamp;
  switch (op.kind) {
    case 'resize':
    case 'migrate':
      if ((op.phase === 'migrating' || op.phase === 'reverting') && replacing) await deleteVMI(ctx, name, namespace, op.fromVMI ?? '');
      return;
    case 'rebuild':
    case 'rescue':
    case 'unrescue':
      if (replacing) await deleteVMI(ctx, name, namespace, op.fromVMI ?? '');
      return;
    case 'evacuate':
      // The host is down: nothing will answer for the old VMI, so it is not waited for.
      if (replacing) await deleteVMI(ctx, name, namespace, op.fromVMI ?? '', 0);
      return;
    case 'liveMigrate':
      if (op.phase === 'queued' && op.migrationName) {
        await ctx.client.create(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachineInstanceMigration',
          metadata: { name: op.migrationName, namespace, labels: { [SERVER_LABEL]: name }, ownerReferences: [ownerReference(server, API_VERSION, 'Server')] },
          spec: { vmiName: name, ...(op.toHost ? { addedNodeSelector: { [HOSTNAME_LABEL]: op.toHost } } : {}) },
        }).catch((e: unknown) => {
          if (!isAlreadyExists(e)) throw e;
        });
      }
      return;
    case 'createImage':
      await createImage(ctx, server, op);
      return;
  }
}

/** createImage / createBackup: the root disk copied into a DataVolume in the images namespace, and a DataSource on it. */
async function createImage(ctx: ControllerDeps, server: Server, op: Operation): Promise<void> {
  const req = server.spec.createImage;
  const ns = ctx.cfg.imagesNamespace;
  const id = op.imageId ?? '';
  const root = server.status?.rootVolume ?? rootVolumeName(server.metadata.name ?? '');
  const labels: Record<string, string> = { [IMAGE_ID_LABEL]: id, [SOURCE_SERVER_LABEL]: server.metadata.uid ?? '' };
  if (req?.backupType) labels[BACKUP_TYPE_LABEL] = req.backupType.toLowerCase().replace(/[^a-z0-9.-]/g, '-').slice(0, 63);
  const annotations: Record<string, string> = { [IMAGE_NAME_ANNOTATION]: req?.name ?? id, [IMAGE_OWNER_ANNOTATION]: server.metadata.namespace ?? '' };
  for (const [k, v] of Object.entries(req?.metadata ?? {})) annotations[`${IMAGE_PROPERTY_PREFIX}property.${k}`] = v;
  const ignoreExists = (e: unknown) => {
    if (!isAlreadyExists(e)) throw e;
  };
  await ctx.client.create(DATA_VOLUMES, {
    apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataVolume',
    metadata: { name: imageVolumeName(id), namespace: ns, labels },
    spec: { source: { pvc: { namespace: server.metadata.namespace, name: root } }, storage: {} },
  }).catch(ignoreExists);
  await ctx.client.create(DATA_SOURCES, {
    apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataSource',
    metadata: { name: imageVolumeName(id), namespace: ns, labels, annotations },
    spec: { source: { pvc: { namespace: ns, name: imageVolumeName(id) } } },
  }).catch(ignoreExists);
}

/** Backups beyond the rotation, oldest first, are deleted once a new one is made. */
async function rotateBackups(ctx: ControllerDeps, server: Server, backupType: string, rotation: number): Promise<void> {
  const type = backupType.toLowerCase().replace(/[^a-z0-9.-]/g, '-').slice(0, 63);
  // Listed fresh, not from the cache: the backup just made must count.
  const mine = (await ctx.client.list<DataSource>(DATA_SOURCES, { namespace: ctx.cfg.imagesNamespace, labelSelector: `${SOURCE_SERVER_LABEL}=${server.metadata.uid},${BACKUP_TYPE_LABEL}=${type}` })).items
    .filter((d) => !d.metadata.deletionTimestamp)
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (b.metadata.labels?.[IMAGE_ID_LABEL] === server.spec.createImage?.imageId ? 1 : 0) - (a.metadata.labels?.[IMAGE_ID_LABEL] === server.spec.createImage?.imageId ? 1 : 0));
  for (const d of mine.slice(rotation)) {
    await ctx.client.delete(DATA_SOURCES, d.metadata.name ?? '', d.metadata.namespace).catch(() => undefined);
    await ctx.client.delete(DATA_VOLUMES, d.metadata.name ?? '', d.metadata.namespace).catch(() => undefined);
  }
}

/** Root and rescue disks the VM no longer names (after a rebuild or an unrescue) are deleted. */
async function dropUnusedVolumes(ctx: ControllerDeps, server: Server, vm: VirtualMachine): Promise<void> {
  const used = new Set((vm.spec.dataVolumeTemplates ?? []).map((t) => t.metadata.name));
  for (const dv of ctx.caches.dataVolumes.list()) {
    if (dv.metadata.namespace !== server.metadata.namespace || dv.metadata.labels?.[SERVER_LABEL] !== server.metadata.name) continue;
    if (used.has(dv.metadata.name ?? '') || dv.metadata.deletionTimestamp) continue;
    await ctx.client.delete(DATA_VOLUMES, dv.metadata.name ?? '', dv.metadata.namespace, { uid: dv.metadata.uid });
  }
}

/**
 * powerState Paused ⇄ Running on a running VMI goes through KubeVirt's pause and unpause
 * subresources (virt-api, through the kube-apiserver). A pause KubeVirt made for its own reasons
 * (an I/O error) is left alone.
 */
async function syncPause(ctx: ControllerDeps, server: Server, vmi: VirtualMachineInstance | undefined): Promise<void> {
  if (!vmi || vmi.status?.phase !== 'Running' || vmi.metadata.deletionTimestamp) return;
  const paused = vmi.status.conditions?.find((x) => x.type === 'Paused' && x.status === 'True');
  const want = server.spec.powerState ?? 'Running';
  const action = (want === 'Paused' || want === 'Suspended') && !paused ? 'pause' : want === 'Running' && paused?.reason === 'PausedByUser' ? 'unpause' : undefined;
  if (!action) return;
  try {
    await ctx.client.request('PUT', `/apis/subresources.kubevirt.io/v1/namespaces/${vmi.metadata.namespace}/virtualmachineinstances/${vmi.metadata.name}/${action}`, { body: {} });
  } catch (e) {
    // 409: virt-handler has not caught up with the last one yet; the next event brings us back.
    if (!isConflict(e)) throw e;
  }
}

interface Plan {
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

/**
 * Every request in spec, new ids and declarative changes alike, checked against Nova's state rules
 * (the same module the Compute API uses) and turned into the work to do. A refused request id is
 * recorded as handled and reported; a refused declarative change waits, reported, until it is allowed.
 */
function planRequests(ctx: ControllerDeps, server: Server, vmi: VirtualMachineInstance | undefined, stamp: RequestStamp | undefined, now: string): Plan {
  const plan = takeRequests(ctx, server, vmi, stamp, now);
  // What was taken without a new Compute API stamp was asked by editing the spec: record it too.
  const st = server.status ?? {};
  const viaApi = (id: string | undefined) => !!stamp && stamp.requestId === id;
  const apiStampNew = !!stamp && !st.instanceActions?.some((a) => a.requestId === stamp.requestId);
  const unstamped: { action: string; key: string }[] = [];
  const handled = plan.handled;
  const power = server.spec.powerState ?? 'Running';
  if (handled.powerState && handled.powerState !== power && !apiStampNew) {
    const action = powerAction(handled.powerState, power);
    if (action) unstamped.push({ action, key: `power:${power}:${server.metadata.generation}` });
  }
  handled.powerState = power;
  for (const k of ['reboot', 'confirmResize', 'revertResize', 'resetState'] as const) {
    const id = handled[k];
    if (id && id !== st.handledRequests?.[k] && !viaApi(id)) unstamped.push({ action: k === 'resetState' ? 'os-resetState' : k, key: id });
  }
  const op = plan.op;
  const opAction = op ? (op.requestId.startsWith('backup:') ? 'createBackup' : OP_ACTIONS[op.kind]) : '';
  if (op && op.requestId !== st.operation?.requestId && !viaApi(op.requestId.replace(/^backup:/, '')) && !(apiStampNew && stamp?.action === opAction)) {
    unstamped.push({ action: opAction, key: op.requestId });
  }
  if (unstamped.length) plan.unstamped = unstamped;
  return plan;
}

function takeRequests(ctx: ControllerDeps, server: Server, vmi: VirtualMachineInstance | undefined, stamp: RequestStamp | undefined, now: string): Plan {
  const spec = server.spec;
  const st = server.status ?? {};
  const handled = { ...(st.handledRequests ?? {}) };
  const plan: Plan = { handled, op: st.operation, rebooting: st.rebooting, resetToError: st.resetToError, rescueVolume: st.rescueVolume, refusal: null };
  const uid = server.metadata.uid ?? '';
  const state = (): ServerState => ({ id: uid, vmState: (plan.resetToError ? 'error' : st.vmState ?? 'building') as VmState, taskState: plan.resetToError ? null : st.taskState ?? null, launched: !!st.launchedAt, locked: false });
  const allowed = (rule: string, what: string): boolean => {
    try {
      checkAction(rule, state(), { admin: true });
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
    const revertByFlavor = op.kind === 'resize' && flavorMatches(ctx, spec.flavor, op.fromFlavor) && !flavorMatches(ctx, spec.flavor, op.toFlavor);
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
  const target = ctx.caches.flavor(spec.flavor);
  const targetImage = ctx.caches.image(spec.image);
  if (isNew('createImage', spec.createImage?.requestId)) {
    handled.createImage = spec.createImage.requestId;
    const backup = spec.createImage.backupType !== undefined;
    if (allowed(backup ? 'createBackup' : 'createImage', `${backup ? 'createBackup' : 'createImage'} ${spec.createImage.requestId}`)) {
      start({ kind: 'createImage', requestId: `${backup ? 'backup:' : ''}${spec.createImage.requestId}`, phase: 'snapshot', imageId: spec.createImage.imageId });
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
  } else if (target && current && !flavorMatches(ctx, spec.flavor, current)) {
    const snap = snapshotOf(target);
    if (snap && allowed('resize', `resize to flavor ${spec.flavor}`)) {
      start({ kind: 'resize', requestId: stamp?.action === 'resize' ? stamp.requestId : `flavor:${spec.flavor}:${server.metadata.generation}`, phase: 'migrating', fromFlavor: current, toFlavor: snap, fromVMI: live });
    }
  } else if (spec.rescue && !st.rescueVolume && isNew('rescue', spec.rescue.requestId)) {
    const image = spec.rescue.image ? ctx.caches.image(spec.rescue.image) : ctx.caches.image(st.image?.name ?? spec.image);
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
/**
 * Makes the Server a co-owner of its key pair's Secret. Nova injects a key at build time, so deleting
 * the key pair must not take the key from servers built with it: garbage collection removes the
 * Secret only when its last owner (key pair or server) is gone. One field manager per server keeps
 * each owner reference its own under server-side apply.
 */
async function shareKeySecret(ctx: ControllerDeps, server: Server, secretName: string): Promise<void> {
  const m = server.metadata;
  const ref = { apiVersion: API_VERSION, kind: 'Server', name: m.name ?? '', uid: m.uid ?? '', controller: false, blockOwnerDeletion: false };
  await ctx.client.apply(SECRETS, { metadata: { name: secretName, namespace: m.namespace, ownerReferences: [ref] } }, { fieldManager: `kova-server-${m.uid}`, force: false });
}

function statusFrom(ctx: ControllerDeps, server: Server, view: NovaView, resolved: Resolved, vmExists: boolean): ServerStatus {
  const prev = server.status ?? {};
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const gen = server.metadata.generation;
  const fault = view.fault
    ? { ...view.fault, created: prev.fault?.message === view.fault.message && prev.fault.created ? prev.fault.created : now }
    : undefined;
  const projectId = ctx.caches.projectIdOf(server.metadata.namespace ?? '') ?? server.metadata.namespace ?? '';
  const status: ServerStatus = {
    observedGeneration: gen,
    status: view.status,
    vmState: view.vmState,
    taskState: view.taskState,
    powerState: view.powerState,
    progress: view.progress,
    fault,
    addresses: view.addresses,
    networks: networksSummary(view.addresses),
    host: view.host,
    hypervisorHostname: view.host,
    hostId: view.host ? createHash('sha224').update(projectId + view.host).digest('hex') : undefined,
    instanceName: vmExists ? server.metadata.name : prev.instanceName,
    launchedAt: prev.launchedAt ?? (view.running ? now : undefined),
    terminatedAt: prev.terminatedAt,
    flavor: resolved.flavor ?? prev.flavor,
    image: resolved.image ?? prev.image,
    keyName: resolved.keyName ?? prev.keyName ?? server.spec.keyName,
    conditions: setCondition(prev.conditions, readyCondition(server, view, gen)),
  };
  return status;
}

/** Ready: the server is where its spec asks it to be (running or stopped), with nothing in flight. */
function readyCondition(server: Server, view: NovaView, gen: number | undefined): Omit<Condition, 'lastTransitionTime'> {
  const want = server.spec.powerState ?? 'Running';
  if (view.status === 'ERROR') return { type: 'Ready', status: 'False', reason: 'Error', message: view.fault?.details ? `${view.fault.message} ${view.fault.details}` : view.fault?.message ?? 'error', observedGeneration: gen };
  const settled = !view.taskState && ((want === 'Running' && view.status === 'ACTIVE') || (want === 'Shutoff' && view.status === 'SHUTOFF') || (want === 'Paused' && view.status === 'PAUSED') || (want === 'Suspended' && view.status === 'SUSPENDED'));
  if (settled) return { type: 'Ready', status: 'True', reason: view.status.charAt(0) + view.status.slice(1).toLowerCase(), message: `server is ${view.status}`, observedGeneration: gen };
  const reason = view.taskState ? view.taskState.replace(/(^|[-_])(\w)/g, (_m, _s, ch: string) => ch.toUpperCase()) : view.status.charAt(0) + view.status.slice(1).toLowerCase();
  return { type: 'Ready', status: 'False', reason, message: `server is ${view.status}${view.taskState ? ` (${view.taskState})` : ''}`, observedGeneration: gen };
}

async function recordTransition(ctx: ControllerDeps, server: Server, prev: ServerStatus | undefined, next: ServerStatus): Promise<void> {
  const from = `${prev?.status ?? 'NEW'}${prev?.taskState ? `/${prev.taskState}` : ''}`;
  const to = `${next.status}${next.taskState ? `/${next.taskState}` : ''}`;
  if (from === to) return;
  if (next.status === 'ERROR') await ctx.events.record(server, 'Warning', 'Error', 'Reconcile', `${next.fault?.message ?? 'error'}${next.fault?.details ? ` ${next.fault.details}` : ''}`);
  else await ctx.events.record(server, 'Normal', 'StatusChanged', 'Reconcile', `${from} → ${to}`);
}

/** Work-queue keys of the Servers a change to another object concerns. */
export const serverKeyOfLabelled = (o: { metadata: { namespace?: string; labels?: Record<string, string> } }): string | undefined => {
  const s = o.metadata.labels?.[SERVER_LABEL];
  return s ? `${o.metadata.namespace}/${s}` : undefined;
};
