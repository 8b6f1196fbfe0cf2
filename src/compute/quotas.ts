// Quotas against the cluster: the limits in force for a project or user (QuotaSets from the
// caches), what it holds (read fresh from the apiserver when a decision depends on it), and the
// per-project lock every quota decision is taken under, in any API replica or the controller: the
// Lease `kova-quota` in the project's namespace, taken with optimistic concurrency (docs/adr/019).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { KEYPAIRS, type KeyPair } from '../api/keypair.ts';
import { QUOTASETS, type QuotaSet } from '../api/quotaset.ts';
import { SERVERS, type Server } from '../api/server.ts';
import { SERVER_GROUPS, type ServerGroup } from '../api/server-group.ts';
import type { Caches } from '../cache/caches.ts';
import type { KovaConfig } from '../cache/config.ts';
import { isAlreadyExists, isConflict, type KubeClient } from '../kube/client.ts';
import { LEASES, type KubeObject } from '../kube/types.ts';
import type { Lease } from '../nova/services.ts';
import {
  checkDeltas, CLASS_QUOTA_NAME, countedServer, effectiveLimits, PROJECT_QUOTA_NAME, quotaAdmitted, usageOf, type Holdings, type Limits, type QuotaScope,
} from '../nova/quotas.ts';
import { LAST_SERVER_WRITE, USER_ANNOTATION } from '../api/labels.ts';

export { QUOTASETS };

/** Kova's namespace: where the quota class `default` is. */
export const kovaNamespace = (cfg: KovaConfig): string => cfg.serviceLeases?.conductor.namespace ?? (process.env.KOVA_NAMESPACE || 'kova-system');

/** A user's QuotaSet object name in a project namespace. */
export const userQuotaName = (userId: string): string => `user-${userId.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'x'}-${hash(userId)}`;
const hash = (s: string): string => {
  let h = 2166136261;
  for (const ch of s) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
};

/** The QuotaSets that bear on a project (and one of its users). */
export function quotaSetsOf(c: Caches, cfg: KovaConfig, namespace: string, userId?: string): { klass?: QuotaSet; project?: QuotaSet; user?: QuotaSet } {
  return {
    klass: c.quotaSets.get(CLASS_QUOTA_NAME, kovaNamespace(cfg)),
    project: c.quotaSets.get(PROJECT_QUOTA_NAME, namespace),
    user: userId === undefined ? undefined : c.quotaSets.list(namespace).find((q) => q.spec.userId === userId),
  };
}

/**
 * Nova's refusal of a resize asked by editing a Server's spec, if the new flavor's growth would go
 * over the project's (or its owner's) cores or ram: counted against the servers already admitted.
 */
export function resizeQuotaRefusal(c: Caches, cfg: KovaConfig, server: Server, from: { vcpus: number; ramMiB: number }, to: { vcpus: number; ramMiB: number }): string | undefined {
  const ns = server.metadata.namespace ?? '';
  const user = server.metadata.annotations?.[USER_ANNOTATION];
  // The others as they count, this one at the flavor it has (its spec already names the new one).
  const others = holdingsOf(c, c.servers.list(ns).filter((s) => quotaAdmitted(s) && s.metadata.uid !== server.metadata.uid), []);
  const holdings = { ...others, servers: [...others.servers, { userId: user, vcpus: from.vcpus, ramMiB: from.ramMiB }] };
  return checkDeltas(scopesFor(c, cfg, ns, holdings, user), { cores: to.vcpus - from.vcpus, ram: to.ramMiB - from.ramMiB });
}

/** The limits in force for a project, or for one of its users. */
export const limitsFor = (c: Caches, cfg: KovaConfig, namespace: string, userId?: string): Limits => effectiveLimits(quotaSetsOf(c, cfg, namespace, userId));

/** Server groups as the server_groups counter reads them. */
export const groupsOf = (groups: ServerGroup[]): { userId?: string }[] => groups.map((g) => ({ userId: g.spec.userId }));

/** What a project holds, from its Servers and KeyPairs (flavor sizes from the cache). */
export function holdingsOf(c: Caches, servers: Server[], keyPairs: KeyPair[]): Holdings {
  const flavorOf = (ref: string) => c.flavor(ref)?.spec;
  return {
    servers: servers.map((s) => countedServer(s, flavorOf)).filter((s) => s !== undefined),
    keyPairs: keyPairs.map((k) => ({ userId: k.spec.userId })),
  };
}

/**
 * What a project holds now, listed from the apiserver (a quorum read: no cache lag between
 * replicas): its Servers, or its KeyPairs (`what`), the other left empty.
 */
export async function freshHoldings(client: KubeClient, c: Caches, namespace: string, what: 'servers' | 'keyPairs' | 'serverGroups' = 'servers'): Promise<Holdings> {
  if (what === 'keyPairs') return holdingsOf(c, [], (await client.listAll<KeyPair>(KEYPAIRS, { namespace })).items);
  if (what === 'serverGroups') return { ...holdingsOf(c, [], []), serverGroups: groupsOf((await client.listAll<ServerGroup>(SERVER_GROUPS, { namespace })).items) };
  return holdingsOf(c, (await client.listAll<Server>(SERVERS, { namespace })).items, []);
}

/** The scopes a request of `userId` in `namespace` is checked in: the project's, then the user's. */
export function scopesFor(c: Caches, cfg: KovaConfig, namespace: string, holdings: Holdings, userId: string | undefined): QuotaScope[] {
  const scopes: QuotaScope[] = [{ limits: limitsFor(c, cfg, namespace), usage: usageOf(holdings) }];
  if (userId !== undefined && quotaSetsOf(c, cfg, namespace, userId).user) scopes.push({ limits: limitsFor(c, cfg, namespace, userId), usage: usageOf(holdings, userId) });
  return scopes;
}

// ---- the per-project lock ----------------------------------------------------------------

/** The Lease, in each project namespace, that its quota decisions are serialized on. */
export const QUOTA_LEASE = 'kova-quota';
const LEASE_SECONDS = 15;
/** In one process, one holder per project at a time: only one of its requests contends for the Lease. */
const local = new Map<string, Promise<unknown>>();
const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
const expired = (l: Lease, now: number): boolean => !l.spec?.renewTime || Date.parse(l.spec.renewTime) + (l.spec.leaseDurationSeconds ?? LEASE_SECONDS) * 1000 < now;

/** The lock was not had in time: a 503 to the caller, as when the kube-apiserver cannot be reached. */
const lockTimeout = (what: string): Error => Object.assign(new Error(`quota lock ${what} not acquired in time`), { code: 'KOVA_KUBE_TIMEOUT' });

/** A project's quota lock, held. */
export interface QuotaLock {
  /** The resourceVersion of the last Server write made under the lock before (by any holder, in any replica), if one was recorded. */
  lastServerWrite: string | undefined;
  /** Records a Server written under the lock, for the next holder. */
  wrote(o: KubeObject): void;
  /** Lets the lock go (recording the last Server write on the Lease, in the same write). */
  release(): Promise<void>;
}

/**
 * Takes project `namespace`'s quota lock, so that a count and the writes it allows are not
 * interleaved with another decision on the same project anywhere. A holder that died is taken over
 * after the Lease's duration; a caller that cannot have it within `timeoutMs` (the local queue
 * included) fails.
 */
export async function acquireQuotaLock(client: KubeClient, namespace: string, timeoutMs = 60_000): Promise<QuotaLock> {
  const deadline = Date.now() + timeoutMs;
  const prev = local.get(namespace) ?? Promise.resolve();
  let leave!: () => void;
  const tail = prev.then(() => new Promise<void>((r) => (leave = r)));
  local.set(namespace, tail);
  void tail.then(() => {
    if (local.get(namespace) === tail) local.delete(namespace);
  });
  await prev;
  let held: Lease;
  try {
    held = await takeLease(client, namespace, QUOTA_LEASE, deadline);
  } catch (e) {
    leave();
    throw e;
  }
  let released = false;
  let written: string | undefined;
  return {
    lastServerWrite: held.metadata.annotations?.[LAST_SERVER_WRITE],
    wrote: (o) => {
      const rv = o.metadata.resourceVersion ?? '';
      if (/^\d+$/.test(rv) && (!written || BigInt(rv) > BigInt(written))) written = rv;
    },
    release: async () => {
      if (released) return;
      released = true;
      // Released only if still ours (the resourceVersion says so); a Lease taken over is left alone.
      const { holderIdentity: _h, ...rest } = held.spec ?? {};
      const annotations = written ? { ...held.metadata.annotations, [LAST_SERVER_WRITE]: written } : held.metadata.annotations;
      await client.replace<Lease>(LEASES, { ...held, metadata: { ...held.metadata, annotations }, spec: { ...rest, renewTime: microTime(new Date()) } }).catch(() => undefined);
      leave();
    },
  };
}

/** Runs `fn` holding project `namespace`'s quota lock. */
export async function withQuotaLock<T>(client: KubeClient, namespace: string, fn: (lock: QuotaLock) => Promise<T>): Promise<T> {
  const lock = await acquireQuotaLock(client, namespace);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

/**
 * What a project's Servers hold, counted under its quota lock: from the cache once it has taken in
 * the last Server write made under the lock (in any replica), else listed from the apiserver. A
 * count from the cache may still include a Server deleted a moment ago, never miss one admitted:
 * a refusal is made on a fresh list only (`fresh`).
 */
export async function lockedServerHoldings(client: KubeClient, c: Caches, namespace: string, lock: QuotaLock, o: { fresh?: boolean; waitMs?: number } = {}): Promise<{ holdings: Holdings; servers: Server[]; fresh: boolean }> {
  const caught = !o.fresh && (lock.lastServerWrite === undefined ? c.servers.hasSynced : await until(() => c.servers.hasSeen(lock.lastServerWrite ?? ''), o.waitMs ?? 2000));
  const servers = caught ? c.servers.list(namespace) : (await client.listAll<Server>(SERVERS, { namespace })).items;
  return { holdings: holdingsOf(c, servers, []), servers, fresh: !caught };
}

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; !pred(); await sleep(10)) if (Date.now() > end) return false;
  return true;
}

async function takeLease(client: KubeClient, namespace: string, name: string, deadline: number): Promise<Lease> {
  const holder = `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
    if (Date.now() > deadline) throw lockTimeout(`${namespace}/${name}`);
    const cur = await client.find<Lease>(LEASES, name, namespace);
    if (!cur || !cur.spec?.holderIdentity || expired(cur, Date.now())) {
      const now = microTime(new Date());
      const spec = { holderIdentity: holder, leaseDurationSeconds: LEASE_SECONDS, acquireTime: now, renewTime: now };
      try {
        return cur
          ? await client.replace<Lease>(LEASES, { ...cur, spec: { ...cur.spec, ...spec } })
          : await client.create<Lease>(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec });
      } catch (e) {
        if (!isConflict(e) && !isAlreadyExists(e)) throw e;
      }
    }
    await sleep(wait + Math.random() * wait);
  }
}
