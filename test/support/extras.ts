// What the fidelity tests set up beyond the usual fixtures: Leases held as a leader would hold them
// (os-services' scheduler and conductor).
import type { Caches } from '../../src/cache/caches.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { LEASES, type KubeObject } from '../../src/kube/types.ts';
import { eventually } from './waiting.ts';
import { ensureNamespace } from '../../src/sim/seed.ts';

/**
 * A Lease held by `holder` ("<host>_<id>"), renewed `renewedMsAgo` ago; returns once the façade's
 * caches (`seenBy`) hold that renewal.
 */
export async function holdLease(c: KubeClient, ref: { namespace: string; name: string }, o: { holder: string; renewedMsAgo?: number; durationSeconds?: number; seenBy: Caches }): Promise<void> {
  await ensureNamespace(c, ref.namespace);
  const renewTime = new Date(Date.now() - (o.renewedMsAgo ?? 0)).toISOString().replace('Z', '000Z');
  const lease = await c.apply<KubeObject>(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: ref.name, namespace: ref.namespace }, spec: { holderIdentity: o.holder, leaseDurationSeconds: o.durationSeconds ?? 15, acquireTime: renewTime, renewTime } });
  const cached = () => [o.seenBy.schedulerLease, o.seenBy.conductorLease].map((i) => i?.get(ref.name, ref.namespace)).find((l) => l);
  await eventually(`Lease ${ref.namespace}/${ref.name} in the façade's cache`, async () => cached()?.metadata.resourceVersion === lease.metadata.resourceVersion);
}

export async function dropLease(c: KubeClient, ref: { namespace: string; name: string }): Promise<void> {
  await c.delete(LEASES, ref.name, ref.namespace).catch(() => undefined);
}

