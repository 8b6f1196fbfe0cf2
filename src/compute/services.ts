// Nova's services list, read for the façade: a nova-compute per Node (from the cache), and the
// nova-scheduler and nova-conductor from the Leases their leaders hold (read by the façade itself:
// two named objects, not worth an informer).
import type { Caches } from '../cache/caches.ts';
import { isNotFound, KubeError, type KubeClient } from '../kube/client.ts';
import { LEASES } from '../kube/types.ts';
import { computeService, leaseService, type Lease, type Service } from '../nova/services.ts';

/** Where a leader-elected service keeps its Lease. */
export interface LeaseRef {
  namespace: string;
  name: string;
}

/** The Leases that stand for Nova's scheduler and conductor. */
export interface ServiceLeases {
  /** The kube-scheduler's (kube-system/kube-scheduler by default). */
  scheduler: LeaseRef;
  /** Kova's controller's (kova-controller in its namespace). */
  conductor: LeaseRef;
}

/** Every service: the scheduler and conductor first (when their Lease exists), then one compute service per Node. */
export async function servicesOf(client: KubeClient, caches: Caches, leases: ServiceLeases, now = new Date()): Promise<Service[]> {
  const lease = async (binary: string, ref: LeaseRef): Promise<Service[]> => {
    try {
      const l = await client.find<Lease>(LEASES, ref.name, ref.namespace);
      return l ? [leaseService(binary, l, now)] : [];
    } catch (e) {
      // No Lease to read (or no right to read it): the service is not listed, as when it never ran.
      if (isNotFound(e) || (e instanceof KubeError && e.code === 403)) return [];
      throw e;
    }
  };
  const [scheduler, conductor] = await Promise.all([lease('nova-scheduler', leases.scheduler), lease('nova-conductor', leases.conductor)]);
  const nodes = caches.nodes.list().sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return [...scheduler, ...conductor, ...nodes.map(computeService)];
}
