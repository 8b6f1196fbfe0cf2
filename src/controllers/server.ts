// Server → one KubeVirt VirtualMachine (same name, owned by the Server), and the Nova view of it in
// Server.status. References (flavor, image, key pair) are resolved from the caches; a missing one
// puts the Server in ERROR with a fault naming it, and no VM is made until it appears.
import { createHash } from 'node:crypto';
import { REQUEST_ANNOTATION, SERVERS, type FlavorSnapshot, type Server, type ServerStatus } from '../api/server.ts';
import { nextInstanceActions, parseStamp } from '../nova/instance-actions.ts';
import { findCondition, isTrue, setCondition } from '../kube/conditions.ts';
import { splitKey, type Condition } from '../kube/types.ts';
import { API_VERSION } from '../api/group.ts';
import { SECRETS, VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, type DataVolume, type VirtualMachineInstance } from '../kubevirt/types.ts';
import { isConflict } from '../kube/client.ts';
import { checkAction, type VmState } from '../nova/actions.ts';
import { networksSummary, novaView, type NovaView } from '../nova/status.ts';
import type { Context } from './context.ts';
import { APPLIED_HASH, desiredVirtualMachine, SERVER_LABEL, type VmInputs } from './server-vm.ts';
import { writeStatus } from '../kube/status.ts';

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

/** Finds what the VM needs. Once the VM exists, the snapshot in status stands in for a flavor that is gone. */
export function resolveReferences(ctx: Context, server: Server, vmExists: boolean): Resolved {
  const c = ctx.caches;
  const ns = server.metadata.namespace ?? '';
  const spec = server.spec;
  const snapshot = server.status?.flavor;
  let flavor: FlavorSnapshot | undefined;
  const f = c.flavor(spec.flavor);
  if (f && isTrue(f.status?.conditions, 'Ready') && f.status?.instancetype) {
    const projectId = c.projectIdOf(ns);
    if (f.spec.isPublic === false && !(f.spec.projects ?? []).some((p) => p === projectId || p === ns)) {
      if (!vmExists) return { fault: { code: 404, message: `Flavor ${spec.flavor} could not be found.`, details: `flavor ${spec.flavor} is private and project ${projectId ?? ns} has no access to it` } };
    }
    flavor = {
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
  if (vmExists && snapshot) flavor = snapshot; // Nova keeps the flavor a server was built with
  if (!flavor) {
    if (!f) return { fault: { code: 404, message: `Flavor ${spec.flavor} could not be found.` } };
    const ready = findCondition(f.status?.conditions, 'Ready');
    if (!ready || ready.observedGeneration !== f.metadata.generation) return { waiting: `flavor ${spec.flavor}` };
    return { fault: { code: 500, message: `Flavor ${spec.flavor} cannot be used.`, details: ready?.message ?? 'the flavor is not ready yet' } };
  }

  const img = c.image(spec.image);
  const image = img ? { name: img.metadata.name ?? '', uid: img.metadata.uid } : vmExists ? server.status?.image : undefined;
  if (!image?.name) return { flavor, fault: { code: 404, message: `Image ${spec.image} could not be found.`, details: `no DataSource ${spec.image} in namespace ${ctx.cfg.imagesNamespace}` } };

  let keySecretName: string | undefined;
  let keyName: string | undefined;
  if (spec.keyName) {
    const kp = c.keyPair(ns, spec.keyName);
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

export async function reconcileServer(ctx: Context, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const server = ctx.caches.servers.get(name, namespace);
  if (!server) return; // the VM is owned by it: garbage collection removes it
  const c = ctx.caches;
  let vm = c.vms.get(name, namespace);
  const deleting = !!server.metadata.deletionTimestamp;
  const resolved = resolveReferences(ctx, server, !!vm);

  if (!deleting && resolved.inputs) {
    const desired = desiredVirtualMachine(resolved.inputs);
    if (vm?.metadata.annotations?.[APPLIED_HASH] !== desired.metadata.annotations?.[APPLIED_HASH]) {
      if (resolved.inputs.keySecretName) await shareKeySecret(ctx, server, resolved.inputs.keySecretName);
      vm = await ctx.client.apply(VIRTUAL_MACHINES, desired);
      if (!c.vms.get(name, namespace)) await ctx.events.record(server, 'Normal', 'VirtualMachineCreated', 'Create', `created VirtualMachine ${name}`);
    }
  }

  let vmi = c.vmis.get(name, namespace);
  const request = vm && !deleting ? takeRebootRequest(ctx, server, vmi) : undefined;
  let rebooting = request?.rebooting ?? server.status?.rebooting;
  // Done when a VMI other than the one being replaced runs.
  if (rebooting && vmi && vmi.metadata.uid !== rebooting.fromVMI && vmi.status?.phase === 'Running') rebooting = undefined;
  const dataVolumes = (vm?.spec.dataVolumeTemplates ?? []).map((t) => c.dataVolumes.get(t.metadata.name, namespace)).filter((d): d is DataVolume => !!d);
  const prev = server.status;
  const view = novaView({
    desiredPower: server.spec.powerState ?? 'Running',
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
  const base = statusFrom(ctx, server, view, resolved, !!vm);
  const status: ServerStatus = {
    ...base,
    handledRequests: request?.handled ?? prev?.handledRequests,
    rebooting,
    instanceActions: nextInstanceActions(prev?.instanceActions, parseStamp(server.metadata.annotations?.[REQUEST_ANNOTATION]), {
      time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      reached: (action) => !base.taskState && !rebooting && ({
        create: base.status !== 'BUILD', stop: base.status === 'SHUTOFF', start: base.status === 'ACTIVE', reboot: base.status === 'ACTIVE',
        pause: base.status === 'PAUSED', unpause: base.status === 'ACTIVE', suspend: base.status === 'SUSPENDED', resume: base.status === 'ACTIVE',
      } as Record<string, boolean>)[action] === true,
      error: base.status === 'ERROR',
      host: base.host,
    }),
  };
  if (await writeStatus(ctx.client, SERVERS, server, status)) await recordTransition(ctx, server, prev, status);
  await syncPause(ctx, server, c.vmis.get(name, namespace));
  // Only after the request is recorded as handled: replace the VMI, guarded by its uid, so a
  // restart of this controller never reboots twice nor deletes the new VMI.
  vmi = c.vmis.get(name, namespace);
  if (rebooting?.fromVMI && vmi?.metadata.uid === rebooting.fromVMI && !vmi.metadata.deletionTimestamp) {
    await ctx.client.delete(VIRTUAL_MACHINE_INSTANCES, name, namespace, { uid: rebooting.fromVMI }).catch((e: unknown) => {
      if (!isConflict(e)) throw e; // 409: that VMI is already gone and replaced
    });
  }
}

/**
 * powerState Paused ⇄ Running on a running VMI goes through KubeVirt's pause and unpause
 * subresources (virt-api, through the kube-apiserver). A pause KubeVirt made for its own reasons
 * (an I/O error) is left alone.
 */
async function syncPause(ctx: Context, server: Server, vmi: VirtualMachineInstance | undefined): Promise<void> {
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

/**
 * A new spec.reboot request id: checked against Nova's rules, recorded as handled, and (when
 * allowed) turned into "replace the current VMI". A refused request is reported, not retried.
 */
function takeRebootRequest(ctx: Context, server: Server, vmi: VirtualMachineInstance | undefined): { handled: Record<string, string>; rebooting?: ServerStatus['rebooting'] } | undefined {
  const r = server.spec.reboot;
  const handled = server.status?.handledRequests ?? {};
  if (!r || handled.reboot === r.requestId) return undefined;
  const st = server.status;
  try {
    checkAction(`reboot:${r.type}`, {
      id: server.metadata.uid ?? '', vmState: (st?.vmState ?? 'building') as VmState, taskState: st?.taskState ?? null, launched: !!st?.launchedAt, locked: false,
    }, { admin: true });
  } catch (e) {
    void ctx.events.record(server, 'Warning', 'RequestRefused', 'Reboot', `reboot ${r.requestId}: ${(e as Error).message}`);
    return { handled: { ...handled, reboot: r.requestId } };
  }
  void ctx.events.record(server, 'Normal', 'Rebooting', 'Reboot', `${r.type} reboot ${r.requestId}`);
  return { handled: { ...handled, reboot: r.requestId }, rebooting: { type: r.type, fromVMI: vmi?.metadata.uid ?? '' } };
}

/**
 * Makes the Server a co-owner of its key pair's Secret. Nova injects a key at build time, so deleting
 * the key pair must not take the key from servers built with it: garbage collection removes the
 * Secret only when its last owner (key pair or server) is gone. One field manager per server keeps
 * each owner reference its own under server-side apply.
 */
async function shareKeySecret(ctx: Context, server: Server, secretName: string): Promise<void> {
  const m = server.metadata;
  const ref = { apiVersion: API_VERSION, kind: 'Server', name: m.name ?? '', uid: m.uid ?? '', controller: false, blockOwnerDeletion: false };
  await ctx.client.apply(SECRETS, { metadata: { name: secretName, namespace: m.namespace, ownerReferences: [ref] } }, { fieldManager: `kova-server-${m.uid}`, force: false });
}

function statusFrom(ctx: Context, server: Server, view: NovaView, resolved: Resolved, vmExists: boolean): ServerStatus {
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

async function recordTransition(ctx: Context, server: Server, prev: ServerStatus | undefined, next: ServerStatus): Promise<void> {
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
