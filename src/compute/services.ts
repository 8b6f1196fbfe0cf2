// Nova's services list, read for the façade from the caches: a nova-compute per Node, and the
// nova-scheduler and nova-conductor from the Leases their leaders hold.
import type { Caches } from '../cache/caches.ts';
import { computeService, leaseService, type Service } from '../nova/services.ts';

/** Every service: the scheduler and conductor first (when their Lease exists), then one compute service per Node. */
export function servicesOf(caches: Caches, now = new Date()): Service[] {
  const held = (binary: string, inf: Caches['schedulerLease']): Service[] => inf?.list().map((l) => leaseService(binary, l, now)) ?? [];
  const nodes = caches.nodes.list().sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return [...held('nova-scheduler', caches.schedulerLease), ...held('nova-conductor', caches.conductorLease), ...nodes.map(computeService)];
}
