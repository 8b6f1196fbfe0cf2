// DeletedServer records, pruned (docs/adr/022): each project keeps at most the configured number,
// none older than the configured age. A record's reconcile prunes its whole project (a new record
// may push the oldest out), then comes back when it expires.
import { DELETED_SERVERS } from '../api/deleted-server.ts';
import { DEFAULT_HISTORY_BOUNDS } from '../cache/config.ts';
import { splitKey } from '../kube/types.ts';
import { expiresInMs, prunable } from '../nova/history.ts';
import type { ControllerDeps } from './deps.ts';

/** The longest a record waits to be looked at again (timers of weeks are not kept by Node). */
const MAX_WAIT_MS = 3_600_000;

export async function reconcileDeletedServer(ctx: ControllerDeps, key: string): Promise<{ requeueAfterMs?: number } | void> {
  const { namespace, name } = splitKey(key);
  const record = ctx.caches.deletedServers.get(name, namespace);
  if (!record) return;
  const bounds = ctx.cfg.deletedServers ?? DEFAULT_HISTORY_BOUNDS;
  const now = new Date();
  const gone = prunable(ctx.caches.deletedServers.list(namespace), bounds, now);
  // Each delete is guarded by the record's uid: a repeat (or another replica) does nothing.
  for (const r of gone) await ctx.client.delete(DELETED_SERVERS, r.metadata.name ?? '', namespace, { uid: r.metadata.uid });
  if (gone.includes(record)) return;
  return { requeueAfterMs: Math.min(MAX_WAIT_MS, Math.max(1000, expiresInMs(record, bounds, now))) };
}
