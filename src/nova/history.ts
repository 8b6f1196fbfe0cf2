// Deleted servers' records (docs/adr/022), pure: what the controller keeps of a Server as it goes
// (a DeletedServer), which records a project's bounds prune, and how a record reads as a server
// (changes-since, deleted=true), as an instance-action list (2.21) and as usage.
import { createHash } from 'node:crypto';
import type { DeletedServer, DeletedServerSpec } from '../api/deleted-server.ts';
import { USER_ANNOTATION } from '../api/labels.ts';
import type { Server } from '../api/server.ts';
import { stampsOf, type InstanceAction, MAX_INSTANCE_ACTIONS } from './instance-actions.ts';
import type { UsageServer } from './views/usage.ts';

/** The compute event Nova records when a server is deleted. */
const TERMINATE_EVENT = 'compute_terminate_instance';

/** A request id made from text (Nova's "req-<uuid>" shape), for a delete no request stamped (kubectl). */
function derivedRequestId(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `req-${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The instance actions a deleted server keeps: its own, with the delete on top — the caller's
 * request when the Compute API stamped one (its event finished now), else one without a user (a
 * delete through kubectl). A soft-deleted server being reclaimed keeps its "delete" as it is.
 */
export function finalActions(s: Server, now: string, host?: string): InstanceAction[] {
  const prev = s.status?.instanceActions ?? [];
  const stamp = stampsOf(s.metadata.annotations).at(-1);
  const reclaimed = s.spec.powerState === 'SoftDeleted' && stamp?.action === 'delete' && prev.some((a) => a.requestId === stamp.requestId);
  if (reclaimed) return prev;
  const at = s.metadata.deletionTimestamp ?? now;
  const request = stamp?.action === 'delete'
    ? { requestId: stamp.requestId, userId: stamp.userId, projectId: stamp.projectId, startTime: stamp.at }
    : { requestId: derivedRequestId(`${s.metadata.uid}/${at}`), userId: '', projectId: '', startTime: at };
  const action: InstanceAction = {
    action: 'delete',
    ...request,
    updatedAt: now,
    events: [{ event: TERMINATE_EVENT, startTime: request.startTime, finishTime: now, result: 'Success', ...(host ? { host } : {}) }],
  };
  return [action, ...prev.filter((a) => a.requestId !== request.requestId)].slice(0, MAX_INSTANCE_ACTIONS);
}

/** What is kept of a Server deleted now: who, what size, when, and what was asked of it. Nothing secret. */
export function deletedRecordOf(s: Server, projectId: string, now: string): DeletedServerSpec {
  const st = s.status ?? {};
  const f = st.flavor;
  return {
    serverId: s.metadata.uid ?? '',
    name: s.spec.name,
    userId: s.metadata.annotations?.[USER_ANNOTATION] ?? '',
    projectId,
    flavor: f
      ? { id: f.id, name: f.name, vcpus: f.vcpus, ramMiB: f.ramMiB, diskGiB: f.diskGiB, ephemeralGiB: f.ephemeralGiB, swapMiB: f.swapMiB }
      : { name: s.spec.flavor },
    image: st.image ?? { name: s.spec.image },
    ...(st.host ? { host: st.host } : {}),
    ...(s.metadata.creationTimestamp ? { createdAt: s.metadata.creationTimestamp } : {}),
    ...(st.launchedAt ? { launchedAt: st.launchedAt } : {}),
    deletedAt: now,
    instanceActions: finalActions(s, now, st.host).map((a) => ({ ...a, projectId: a.projectId || projectId })),
  };
}

/** How many records a project keeps and for how long. */
export interface Bounds {
  maxPerProject: number;
  maxAgeSeconds: number;
}

/**
 * The records of one project the bounds prune: every one older than the age, then the oldest
 * beyond the count (newest kept first; ties by name, so every replica picks the same ones).
 */
export function prunable(records: DeletedServer[], b: Bounds, now: Date): DeletedServer[] {
  const sorted = [...records].sort((x, y) => (x.spec.deletedAt === y.spec.deletedAt ? ((x.metadata.name ?? '') < (y.metadata.name ?? '') ? -1 : 1) : x.spec.deletedAt < y.spec.deletedAt ? 1 : -1));
  return sorted.filter((r, i) => i >= Math.max(0, b.maxPerProject) || expired(r, b, now));
}

/** Whether a record is past the age bound. */
export const expired = (r: DeletedServer, b: Bounds, now: Date): boolean => now.getTime() - Date.parse(r.spec.deletedAt) >= b.maxAgeSeconds * 1000;

/** Milliseconds until a record is past the age bound (0 when it is). */
export const expiresInMs = (r: DeletedServer, b: Bounds, now: Date): number => Math.max(0, Date.parse(r.spec.deletedAt) + b.maxAgeSeconds * 1000 - now.getTime());

/**
 * A record as a server row in Nova's instances table after a delete: status DELETED, vm_state
 * deleted, no power, no addresses, updated and terminated when it was deleted. The server views and
 * list filters read it like any Server.
 */
export function deletedAsServer(r: DeletedServer): Server {
  const d = r.spec;
  return {
    metadata: {
      name: r.metadata.name,
      namespace: r.metadata.namespace,
      uid: d.serverId,
      creationTimestamp: d.createdAt ?? d.deletedAt,
      annotations: d.userId ? { [USER_ANNOTATION]: d.userId } : {},
      managedFields: [{ manager: 'kova-controller', operation: 'Update', time: d.deletedAt }],
    } as Server['metadata'],
    spec: { name: d.name, flavor: d.flavor?.name ?? d.flavor?.id ?? '', image: d.image?.name ?? d.image?.uid ?? '' },
    status: {
      status: 'DELETED',
      vmState: 'deleted',
      powerState: 'NOSTATE',
      ...(d.flavor?.name ? { flavor: d.flavor } : {}),
      ...(d.image ? { image: d.image } : {}),
      ...(d.launchedAt ? { launchedAt: d.launchedAt } : {}),
      ...(d.host ? { host: d.host, hypervisorHostname: d.host } : {}),
      terminatedAt: d.deletedAt,
      instanceActions: d.instanceActions ?? [],
    },
  };
}

/** A record as os-simple-tenant-usage counts it: terminated when it was deleted. */
export function deletedUsage(r: DeletedServer, projectId: string): UsageServer {
  const f = r.spec.flavor ?? {};
  return {
    id: r.spec.serverId, name: r.spec.name, projectId: r.spec.projectId || projectId,
    flavor: f.name ?? '', vcpus: f.vcpus ?? 0, memoryMiB: f.ramMiB ?? 0, localGiB: (f.diskGiB ?? 0) + (f.ephemeralGiB ?? 0),
    vmState: 'deleted', launchedAt: r.spec.launchedAt, terminatedAt: r.spec.deletedAt,
  };
}
