// Server → one KubeVirt VirtualMachine (same name, owned by the Server), and the Nova state of it in
// Server.status. Observe (cache reads) → decide (pure) → write status → act: what a reconcile
// decides is recorded before anything is done, so a restart never repeats work. A new Server's
// quota is decided first (quota.ts).
import { SERVER_LABEL } from '../../api/labels.ts';
import { splitKey } from '../../kube/types.ts';
import type { ControllerDeps } from '../deps.ts';
import { act } from './act.ts';
import { decide } from './decide.ts';
import { finalizeServer, holdServer } from './history.ts';
import { observe } from './observe.ts';
import { admitServer } from './quota.ts';
import { awaitsQuotaDecision } from '../../nova/quotas.ts';

export async function reconcileServer(deps: ControllerDeps, key: string): Promise<{ requeueAfterMs?: number } | void> {
  const { namespace, name } = splitKey(key);
  let server = deps.caches.servers.get(name, namespace);
  if (!server) return; // the VM is owned by it: garbage collection removes it
  if (await finalizeServer(deps, server)) return;
  // Nothing is built for a Server before its quota is decided (docs/adr/019); then on with it.
  if (awaitsQuotaDecision(server) && !deps.caches.vms.get(name, namespace)) server = await admitServer(deps, server);
  const o = observe(deps.caches, server);
  const result = await act(deps, server, o.vmi, decide(o, deps.caches, deps.cfg));
  await holdServer(deps, server);
  return result;
}

/** Work-queue keys of the Servers a change to another object concerns. */
export const serverKeyOfLabelled = (o: { metadata: { namespace?: string; labels?: Record<string, string> } }): string | undefined => {
  const s = o.metadata.labels?.[SERVER_LABEL];
  return s ? `${o.metadata.namespace}/${s}` : undefined;
};
