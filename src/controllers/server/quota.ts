// The spec door's quota check: a Server the controller has not yet counted is admitted (condition
// QuotaAdmitted True) or refused (False: decide leaves it unbuilt, ERROR with Nova's 403 message,
// and a Warning Event says why) before anything is built for it. The one leader decides, one
// Server at a time (the decision is synchronous), counting only the servers already admitted: those
// its cache shows admitted and those it decided whose status the cache has yet to show. So two
// Servers racing (by kubectl, or past the API) are never both built over quota (docs/adr/019).
import { USER_ANNOTATION } from '../../api/labels.ts';
import { SERVERS, type Server } from '../../api/server.ts';
import type { Caches } from '../../cache/caches.ts';
import { holdingsOf, scopesFor } from '../../compute/quotas.ts';
import { setCondition } from '../../kube/conditions.ts';
import { stripUndefined } from '../../kube/status.ts';
import { awaitsQuotaDecision, QUOTA_CONDITION, quotaAdmitted, serversThatFit } from '../../nova/quotas.ts';
import type { ControllerDeps } from '../deps.ts';

/** Decisions taken and not yet seen in the cache, by Server uid (per controller: per Caches). */
const decided = new WeakMap<Caches, Map<string, { namespace: string; refusal?: string }>>();

/** Decides a Server's quota and records it; resolves to the Server as written, which the reconcile goes on with. */
export async function admitServer(deps: ControllerDeps, server: Server): Promise<Server> {
  const c = deps.caches;
  const ns = server.metadata.namespace ?? '';
  const uid = server.metadata.uid ?? '';
  let mine = decided.get(c);
  if (!mine) decided.set(c, (mine = new Map()));
  // What the cache shows decided (or gone) needs no memory.
  for (const [u, d] of mine) {
    const s = c.servers.byIndex('uid', u)[0];
    if (!s || s.metadata.namespace !== d.namespace || !awaitsQuotaDecision(s)) mine.delete(u);
  }
  let d = mine.get(uid);
  if (!d) {
    const admitted = c.servers.list(ns).filter((s) => s.metadata.uid !== uid && (quotaAdmitted(s) || (mine.has(s.metadata.uid ?? '') && !mine.get(s.metadata.uid ?? '')?.refusal)));
    const flavor = c.flavor(server.spec.flavor)?.spec ?? { vcpus: 0, ramMiB: 0 };
    const fit = serversThatFit(scopesFor(c, deps.cfg, ns, holdingsOf(c, admitted, []), server.metadata.annotations?.[USER_ANNOTATION]), flavor, 1, 1);
    d = { namespace: ns, ...('refusal' in fit ? { refusal: fit.refusal } : {}) };
    mine.set(uid, d);
  }
  const gen = server.metadata.generation;
  const condition = d.refusal
    ? { type: QUOTA_CONDITION, status: 'False' as const, reason: 'QuotaExceeded', message: d.refusal, observedGeneration: gen }
    : { type: QUOTA_CONDITION, status: 'True' as const, reason: 'Admitted', message: "counted in the project's quota", observedGeneration: gen };
  // A stale cache fails this write (409) and the work queue retries: the decision above stands.
  const written = await deps.client.replace<Server>(SERVERS, { ...server, status: stripUndefined({ ...server.status, conditions: setCondition(server.status?.conditions, condition) }) }, 'status');
  if (d.refusal) await deps.events.record(server, 'Warning', 'QuotaExceeded', 'Create', d.refusal);
  return written;
}
