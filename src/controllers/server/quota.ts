// The spec door's quota check: a Server the controller has not yet counted is admitted (condition
// QuotaAdmitted True) or refused (False: decide leaves it unbuilt, ERROR with Nova's 403 message,
// and a Warning Event says why) before anything is built for it. Decided under the project's
// quota lock on a fresh list, counting only the servers already admitted, so two Servers racing
// (by kubectl, or past the API) are never both built over quota (docs/adr/019).
import { USER_ANNOTATION } from '../../api/labels.ts';
import { SERVERS, type Server } from '../../api/server.ts';
import { freshHoldings, scopesFor, withQuotaLock } from '../../compute/quotas.ts';
import { setCondition } from '../../kube/conditions.ts';
import { writeStatus } from '../../kube/status.ts';
import { awaitsQuotaDecision, QUOTA_CONDITION, quotaAdmitted, serversThatFit } from '../../nova/quotas.ts';
import type { ControllerDeps } from '../deps.ts';

export async function admitServer(deps: ControllerDeps, server: Server): Promise<{ requeueAfterMs?: number } | void> {
  const ns = server.metadata.namespace ?? '';
  const uid = server.metadata.uid;
  return withQuotaLock(deps.client, ns, async () => {
    const { holdings, servers } = await freshHoldings(deps.client, deps.caches, ns, (s) => s.metadata.uid !== uid && quotaAdmitted(s));
    const fresh = servers.find((s) => s.metadata.uid === uid);
    if (!fresh) return undefined;
    // Decided already (this cache has yet to show it): come back when it does.
    if (!awaitsQuotaDecision(fresh)) return { requeueAfterMs: 100 };
    const flavor = deps.caches.flavor(fresh.spec.flavor)?.spec ?? { vcpus: 0, ramMiB: 0 };
    const fit = serversThatFit(scopesFor(deps.caches, deps.cfg, ns, holdings, fresh.metadata.annotations?.[USER_ANNOTATION]), flavor, 1, 1);
    const refusal = 'refusal' in fit ? fit.refusal : undefined;
    const gen = fresh.metadata.generation;
    const condition = refusal
      ? { type: QUOTA_CONDITION, status: 'False' as const, reason: 'QuotaExceeded', message: refusal, observedGeneration: gen }
      : { type: QUOTA_CONDITION, status: 'True' as const, reason: 'Admitted', message: "counted in the project's quota", observedGeneration: gen };
    await writeStatus(deps.client, SERVERS, fresh, { ...fresh.status, conditions: setCondition(fresh.status?.conditions, condition) });
    if (refusal) await deps.events.record(fresh, 'Warning', 'QuotaExceeded', 'Create', refusal);
    return undefined;
  });
}
