// Long-running Nova tasks on a Server (resize, cold and live migration, rebuild, evacuate, rescue,
// unrescue, image snapshots), one at a time as Nova allows one task_state, kept in
// status.operation. Pure: the controller records what these functions decide before it acts
// (docs/adr/009 and 013), so a restart never repeats work.
import { createHash } from 'node:crypto';
import type { FlavorSnapshot, MigrationRecord, Operation, Server } from '../../api/server.ts';
import type { DataVolume, CachedVirtualMachine, CachedVirtualMachineInstance, VirtualMachineInstanceMigration } from '../../kubevirt/types.ts';
import { importProgress, type NovaState } from '../../nova/status.ts';

export type ShownState = Omit<NovaState, 'running'>;

/** What the cluster shows about the work. */
export interface Observed {
  vm?: CachedVirtualMachine;
  vmi?: CachedVirtualMachineInstance;
  dataVolumes: DataVolume[];
  migration?: VirtualMachineInstanceMigration;
  /** createImage: the image's DataVolume phase. */
  imagePhase?: string;
  wantRunning: boolean;
}

const short = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 8);

/** An integer id and a uuid derived from a request (Nova's migration ids), so a restart finds the same. */
export function migrationIds(serverUid: string, requestId: string): { id: number; uuid: string } {
  const h = createHash('sha256').update(`${serverUid}/${requestId}`).digest('hex');
  return { id: Number.parseInt(h.slice(0, 7), 16) + 1, uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}` };
}

export const rebuildVolumeName = (server: string, requestId: string): string => `${server}-root-${short(requestId)}`;
export const rescueVolumeName = (server: string, requestId: string): string => `${server}-rescue-${short(requestId)}`;
export const migrationName = (server: string, requestId: string): string => `${server}-${short(requestId)}`;

/** The new VMI this operation waits for runs (and the VM says so, so no stale status flickers). */
export function replacedAndRunning(op: Pick<Operation, 'fromVMI'>, o: Observed): boolean {
  const p = o.vm?.status?.printableStatus;
  return !!o.vmi && o.vmi.metadata.uid !== op.fromVMI && o.vmi.status?.phase === 'Running' && !o.vmi.metadata.deletionTimestamp && (p === 'Running' || p === 'Paused');
}

/** A live VMI an operation may replace or migrate. */
export const liveVMI = (vmi: CachedVirtualMachineInstance | undefined): CachedVirtualMachineInstance | undefined =>
  vmi && !vmi.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(vmi.status?.phase ?? '') ? vmi : undefined;

export interface Step {
  /** The operation after this step; undefined when it is over. */
  op?: Operation;
  /** How it ended, when it did. */
  outcome?: 'done' | 'failed' | 'cancelled';
  message?: string;
}

/**
 * A live migration's phase in the operation by KubeVirt's: `migrating` once the memory is being
 * copied (Nova's `running`, when force_complete is allowed), `preparing` while the target is made
 * ready, else `accepted` (made, waiting for its turn or its target pod: Nova's `queued`).
 */
const LIVE_MIGRATION_PHASE: Record<string, string> = { PreparingTarget: 'preparing', TargetReady: 'preparing', Running: 'migrating' };

/** Moves an operation on by what is observed. */
export function advance(op: Operation, o: Observed): Step {
  switch (op.kind) {
    case 'resize':
    case 'migrate':
      if (op.phase === 'migrating') {
        if (!op.fromVMI || replacedAndRunning(op, o)) return { op: { ...op, phase: 'verify' } };
        return { op };
      }
      if (op.phase === 'reverting') return !op.fromVMI || replacedAndRunning(op, o) ? { outcome: 'done' } : { op };
      return { op }; // verify: waits for a confirm or a revert
    case 'rebuild': {
      const dv = o.dataVolumes.find((d) => d.metadata.name === op.rootVolume);
      if (dv?.status?.phase === 'Failed') return { outcome: 'failed', message: `the new root disk ${op.rootVolume} could not be imported` };
      if (dv?.status?.phase !== 'Succeeded') return { op };
      return !o.wantRunning || replacedAndRunning(op, o) ? { outcome: 'done' } : { op };
    }
    case 'evacuate':
    case 'rescue':
    case 'unrescue':
      return !o.wantRunning || !op.fromVMI || replacedAndRunning(op, o) ? { outcome: 'done' } : { op };
    case 'liveMigrate': {
      const m = o.migration;
      // Gone once seen (deleted: an abort) is cancelled; not yet made stays queued.
      if (!m) return op.phase === 'queued' ? { op } : { outcome: 'cancelled', message: 'the migration was aborted' };
      if (m.status?.phase === 'Succeeded') return { outcome: 'done' };
      if (m.status?.phase === 'Failed') {
        // An abort (the migration deleted while it ran) ends it Failed too, with the abort's status.
        if (m.metadata.deletionTimestamp || m.status.migrationState?.abortStatus === 'Succeeded') return { outcome: 'cancelled', message: 'the migration was aborted' };
        return { outcome: 'failed', message: m.status.migrationState?.failureReason ?? 'the live migration failed' };
      }
      return { op: { ...op, phase: LIVE_MIGRATION_PHASE[m.status?.phase ?? ''] ?? 'accepted' } };
    }
    case 'createImage':
      if (o.imagePhase === 'Succeeded') return { outcome: 'done' };
      if (o.imagePhase === 'Failed') return { outcome: 'failed', message: 'the image could not be copied from the root disk' };
      return { op: { ...op, phase: o.imagePhase ? 'uploading' : op.phase } };
  }
  return { op };
}

/** The Nova state while an operation runs, over the state KubeVirt's alone gives. */
export function operationState(op: Operation, base: ShownState, o: Observed): ShownState {
  if (base.status === 'ERROR') return base;
  const power = base.powerState;
  const vmi = o.vmi;
  const oldOne = !!vmi && vmi.metadata.uid === op.fromVMI;
  switch (op.kind) {
    case 'resize':
    case 'migrate': {
      if (op.phase === 'verify') return { status: 'VERIFY_RESIZE', vmState: 'resized', powerState: o.wantRunning ? power : 'Shutdown', progress: 100 };
      if (op.phase === 'reverting') return { status: 'REVERT_RESIZE', vmState: 'resized', taskState: 'resize_reverting', powerState: power, progress: 0 };
      const task = oldOne ? 'resize_migrating' : !vmi ? 'resize_migrated' : 'resize_finish';
      return { status: 'RESIZE', vmState: o.wantRunning ? 'active' : 'stopped', taskState: task, powerState: power, progress: oldOne ? 0 : 50 };
    }
    case 'rebuild': {
      const dv = o.dataVolumes.find((d) => d.metadata.name === op.rootVolume);
      const task = oldOne ? 'rebuilding' : dv?.status?.phase !== 'Succeeded' ? 'rebuild_block_device_mapping' : 'rebuild_spawning';
      // Progress follows the new root disk's import, as BUILD's does.
      return { status: 'REBUILD', vmState: o.wantRunning ? 'active' : 'stopped', taskState: task, powerState: power, progress: dv ? importProgress([dv]) : 0 };
    }
    case 'evacuate':
      return { status: 'REBUILD', vmState: 'active', taskState: 'rebuilding', powerState: power, progress: 0 };
    case 'rescue':
      return { ...base, taskState: 'rescuing' };
    case 'unrescue':
      return { status: 'RESCUE', vmState: 'rescued', taskState: 'unrescuing', powerState: power, progress: 0 };
    case 'liveMigrate':
      return { status: 'MIGRATING', vmState: base.vmState === 'paused' ? 'paused' : 'active', taskState: 'migrating', powerState: power, progress: 0 };
    case 'createImage': {
      const task = op.phase === 'uploading' ? 'image_uploading' : op.phase === 'pending' ? 'image_pending_upload' : 'image_snapshot';
      return { ...base, taskState: op.requestId.startsWith('backup:') ? 'image_backup' : task };
    }
  }
  return base;
}

/** What the VM looks like while an operation runs (or, with no operation, as status says). */
export interface VmOverrides {
  flavor?: FlavorSnapshot;
  rootVolume?: string;
  image?: string;
  placement?: { host?: string; excludeHost?: string };
  rescue?: { volume: string; image: string };
}

export function vmOverrides(server: Server): VmOverrides {
  const st = server.status;
  const op = st?.operation;
  const rescue = st?.rescueVolume && server.spec.rescue ? { volume: st.rescueVolume, image: server.spec.rescue.image ?? st.image?.name ?? server.spec.image } : undefined;
  const base: VmOverrides = { ...(st?.rootVolume ? { rootVolume: st.rootVolume } : {}), ...(st?.image?.name ? { image: st.image.name } : {}), ...(rescue ? { rescue } : {}) };
  if (!op) return base;
  switch (op.kind) {
    case 'resize':
    case 'migrate':
      if (op.phase === 'reverting') return { ...base, flavor: op.fromFlavor, placement: op.kind === 'migrate' && op.fromHost ? { host: op.fromHost } : undefined };
      return { ...base, flavor: op.toFlavor, placement: op.toHost ? { host: op.toHost } : op.kind === 'migrate' && op.fromHost ? { excludeHost: op.fromHost } : undefined };
    case 'rebuild':
      return { ...base, rootVolume: op.rootVolume, image: op.image };
    case 'evacuate':
      return { ...base, placement: op.toHost ? { host: op.toHost } : op.fromHost ? { excludeHost: op.fromHost } : undefined };
    case 'rescue':
      return { ...base, rescue: { volume: op.rootVolume ?? '', image: op.image ?? server.spec.image } };
    case 'unrescue':
      return { ...base, rescue: undefined };
    default:
      return base;
  }
}

const MIGRATION_TYPES = { resize: 'resize', migrate: 'migration', liveMigrate: 'live-migration', evacuate: 'evacuation' } as const;

/** Nova's migration status for where the operation is. */
export function migrationStatus(op: Operation, outcome?: Step['outcome']): string {
  if (op.kind === 'liveMigrate') return outcome === 'done' ? 'completed' : outcome === 'failed' ? 'error' : outcome === 'cancelled' ? 'cancelled' : op.phase === 'migrating' ? 'running' : op.phase === 'preparing' ? 'preparing' : 'queued';
  if (op.kind === 'evacuate') return outcome === 'done' ? 'done' : outcome === 'failed' ? 'failed' : 'accepted';
  if (outcome === 'done') return op.phase === 'reverting' ? 'reverted' : 'confirmed';
  if (outcome === 'failed') return 'error';
  return op.phase === 'verify' ? 'finished' : op.phase === 'reverting' ? 'reverting' : 'migrating';
}

/** The server's migration records with the one of `op` brought up to date (newest first, bounded). */
export function updateMigrations(list: MigrationRecord[] | undefined, serverUid: string, op: Operation, outcome: Step['outcome'] | undefined, who: { userId?: string; projectId?: string }, now: string, host?: string): MigrationRecord[] | undefined {
  if (!(op.kind in MIGRATION_TYPES)) return list;
  const { id, uuid } = migrationIds(serverUid, op.requestId);
  const found = list?.find((m) => m.uuid === uuid);
  const status = migrationStatus(op, outcome);
  if (found?.status === status) return list;
  const rec: MigrationRecord = {
    ...(found ?? { id, uuid, type: MIGRATION_TYPES[op.kind as keyof typeof MIGRATION_TYPES], createdAt: now, ...who }),
    status,
    sourceHost: op.fromHost,
    destHost: op.toHost ?? (host && host !== op.fromHost ? host : found?.destHost),
    oldFlavorId: op.fromFlavor?.id,
    newFlavorId: op.toFlavor?.id ?? op.fromFlavor?.id,
    updatedAt: now,
  } as MigrationRecord;
  return [rec, ...(list ?? []).filter((m) => m.uuid !== uuid)].slice(0, 20);
}
