// Helpers every compute route file uses: the view context, the caller's client, paging, waiting
// for the cache to see a write (read-your-writes), and policy checks. Dependencies come from the
// instance the route is registered on (`req.server.kova`), never from the app.
import type { FastifyRequest } from 'fastify';
import type { Informer } from '../../kube/informer.ts';
import { isConflict, type KubeClient } from '../../kube/client.ts';
import { keyOf, type KubeObject } from '../../kube/types.ts';
import { forbidden, notFound, NovaError } from '../../nova/faults.ts';
import type { Page, ViewContext } from '../../nova/views/links.ts';
import { GROUP } from '../../api/group.ts';
import type { Server } from '../../api/server.ts';
import { last } from '../query.ts';

export async function viewContext(req: FastifyRequest): Promise<ViewContext> {
  const n = req.nova;
  return { version: n.version, origin: n.origin, prefix: n.prefix, bookmarkPrefix: n.bookmarkPrefix, admin: await n.isAdmin() };
}

/** A client that acts as the caller: Kubernetes RBAC decides what the write may do. */
export const callerClient = (req: FastifyRequest): KubeClient => req.server.kova.client.as(req.nova.caller.user, req.nova.caller.groups);

/** Reading servers in a project needs `list servers` there (kova-reader or more). */
export async function canListServers(req: FastifyRequest, namespace: string | undefined): Promise<void> {
  if (!(await req.server.kova.authz.can(req.nova.caller, { verb: 'list', group: GROUP, resource: 'servers', namespace }))) {
    throw forbidden(`Policy doesn't allow os_compute_api:servers:index to be performed.`);
  }
}

/** A server the caller may see, by Nova id; another project's server is a 404, never a 403. */
export async function findServer(req: FastifyRequest, id: string): Promise<Server> {
  const s = req.server.kova.caches.servers.byIndex('uid', id)[0];
  if (!s || (s.metadata.namespace !== req.nova.project?.namespace && !(await req.nova.isAdmin()))) throw notFound(`Instance ${id} could not be found.`);
  await canListServers(req, s.metadata.namespace);
  return s;
}

/** Nova's admin-only rule: 403 with Nova's message otherwise. */
export async function requireAdmin(req: FastifyRequest, rule: string): Promise<void> {
  if (!(await req.nova.isAdmin())) throw forbidden(`Policy doesn't allow ${rule} to be performed.`);
}

/** The project the request acts in; a request without one cannot touch project resources. */
export function requireProject(req: FastifyRequest): { namespace: string; id: string } {
  const p = req.nova.project;
  if (!p) throw new NovaError(400, 'This request needs a project: use a project-scoped token or /v2.1/{project_id}/… URLs.');
  return p;
}

/** Nova's limit/marker paging over an already filtered and sorted list. */
export function page<T>(items: T[], idOf: (t: T) => string, query: PageQuery, maxLimit = 1000): Page<T> {
  const limit = pageLimit(query, maxLimit);
  let start = 0;
  if (query.marker !== undefined) {
    const i = items.findIndex((t) => idOf(t) === query.marker);
    if (i < 0) throw markerNotFound(query.marker);
    start = i + 1;
  }
  const slice = items.slice(start, start + limit);
  return { items: slice, full: slice.length === limit && limit > 0, limit };
}

/**
 * The same page, read from an order the informer keeps (`Informer.addOrder`): the marker found by
 * id (`find`), then objects taken after it as long as `keep` passes them, until the page is full.
 * A page costs its own length, not a sort of the whole project.
 */
export function pageInOrder<T extends KubeObject>(inf: Informer<T>, order: string, namespace: string | undefined, keep: (t: T) => boolean, find: (id: string) => T | undefined, query: PageQuery, maxLimit = 1000): Page<T> {
  const limit = pageLimit(query, maxLimit);
  const keys = inf.sorted(order, namespace);
  let start = 0;
  if (query.marker !== undefined) {
    const m = find(query.marker);
    const i = m ? keys.indexOf(keyOf(m)) : -1;
    if (!m || i < 0 || !keep(m)) throw markerNotFound(query.marker);
    start = i + 1;
  }
  const items: T[] = [];
  for (let i = start; i < keys.length && items.length < limit; i++) {
    const t = inf.getByKey(keys[i]!);
    if (t && keep(t)) items.push(t);
  }
  return { items, full: items.length === limit && limit > 0, limit };
}

type PageQuery = { limit?: string | number; marker?: string };

const markerNotFound = (marker: string): NovaError => new NovaError(400, `marker [${marker}] not found`);

function pageLimit(query: PageQuery, maxLimit: number): number {
  if (query.limit === undefined) return maxLimit;
  const n = Number(query.limit);
  if (!Number.isInteger(n) || n < 0) throw new NovaError(400, `Invalid input for query parameters limit. Value: ${query.limit}. '${query.limit}' does not match '^[0-9]*$'`);
  return Math.min(n, maxLimit);
}

/** Waits until the informer's cache satisfies `pred`, so the caller's next read sees its write. */
export async function cacheCatchUp<T extends KubeObject>(inf: Informer<T>, pred: () => boolean, timeoutMs = 5000): Promise<void> {
  if (pred()) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const handler = (): void => {
      if (pred()) done();
    };
    function done(): void {
      clearTimeout(timer);
      inf.off(handler);
      resolve();
    }
    inf.on(handler);
  });
}

/**
 * A merge patch computed from the object's current state, guarded by its resourceVersion, as the
 * caller. On a conflict (a controller, kubelet heartbeat or another request wrote in between) it
 * re-reads and recomputes, a few times; then waits until the cache holds the result.
 */
export async function patchFresh<T extends KubeObject>(req: FastifyRequest, inf: Informer<T>, obj: T, change: (current: T) => Record<string, unknown>): Promise<T> {
  const deps = req.server.kova;
  let current = obj;
  for (let attempt = 0; ; attempt++) {
    const { metadata: patchMeta, ...rest } = change(current) as { metadata?: Record<string, unknown> };
    try {
      return await writeSeen(inf, current, () => callerClient(req).mergePatch<T>(inf.type, current.metadata.name ?? '', current.metadata.namespace, {
        ...rest,
        metadata: { ...patchMeta, resourceVersion: current.metadata.resourceVersion },
      }));
    } catch (e) {
      if (!isConflict(e) || attempt >= 5) throw e;
      current = await deps.client.get<T>(inf.type, current.metadata.name ?? '', current.metadata.namespace);
    }
  }
}

/**
 * Runs `write` (an update of one object) and waits until the cache has seen the version it wrote.
 * The listener is in place before the write, so the version is caught even if later writes by
 * others (a controller's status) reach the cache before this function looks.
 */
export async function writeSeen<T extends KubeObject, R extends KubeObject>(inf: Informer<T>, target: KubeObject, write: () => Promise<R>, timeoutMs = 5000): Promise<R> {
  const seen = new Set<string>();
  const listener = (_type: string, o: T): void => {
    if (o.metadata.name === target.metadata.name && o.metadata.namespace === target.metadata.namespace) seen.add(o.metadata.resourceVersion ?? '');
  };
  inf.on(listener);
  try {
    const result = await write();
    const rv = result.metadata.resourceVersion ?? '';
    const current = (): T | undefined => inf.get(target.metadata.name ?? '', target.metadata.namespace);
    await cacheCatchUp(inf, () => seen.has(rv) || current()?.metadata.resourceVersion === rv || !current(), timeoutMs);
    return result;
  } finally {
    inf.off(listener);
  }
}

/** From 2.102 Nova rejects unknown query parameters on every index and show API (some from an earlier version). */
export function checkQuery(req: FastifyRequest, allowed: readonly string[], since = '2.102'): void {
  if (!req.nova.version.atLeast(since)) return;
  for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) {
    if (!allowed.includes(k)) throw new NovaError(400, `Invalid input for query parameters ${k}. Value: ${last(v)}. Additional properties are not allowed ('${k}' was unexpected)`);
  }
}

/** Patches a Server's spec as the caller; `spec` may depend on its current state (re-read on conflict). */
export const patchServerSpec = (req: FastifyRequest, s: Server, spec: Record<string, unknown> | ((cur: Server) => Record<string, unknown>)): Promise<Server> =>
  patchFresh(req, req.server.kova.caches.servers, s, (cur) => ({ spec: typeof spec === 'function' ? spec(cur) : spec }));

/** The `:id` of a route's path. */
export const idParam = (req: FastifyRequest): string => (req.params as { id: string }).id;
