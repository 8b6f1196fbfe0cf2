// What the fidelity tests set up beyond the usual fixtures: Leases held as a leader would hold them
// (os-services' scheduler and conductor).
import type { KubeClient } from '../../src/kube/client.ts';
import { LEASES } from '../../src/kube/types.ts';
import { ensureNamespace } from '../../src/sim/seed.ts';

/** A Lease held by `holder` ("<host>_<id>"), renewed `renewedMsAgo` ago. */
export async function holdLease(c: KubeClient, ref: { namespace: string; name: string }, o: { holder: string; renewedMsAgo?: number; durationSeconds?: number }): Promise<void> {
  await ensureNamespace(c, ref.namespace);
  const renewTime = new Date(Date.now() - (o.renewedMsAgo ?? 0)).toISOString().replace('Z', '000Z');
  await c.apply(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: ref.name, namespace: ref.namespace }, spec: { holderIdentity: o.holder, leaseDurationSeconds: o.durationSeconds ?? 15, acquireTime: renewTime, renewTime } });
}

export async function dropLease(c: KubeClient, ref: { namespace: string; name: string }): Promise<void> {
  await c.delete(LEASES, ref.name, ref.namespace).catch(() => undefined);
}

