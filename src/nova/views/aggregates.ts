// Nova's os-aggregates bodies per microversion (2.41 uuid), from the Aggregate resource: updated_at
// is the last change of its spec (name, zone, hosts, metadata), through the API or kubectl. Pure.
import type { Aggregate } from '../../api/aggregate.ts';
import type { Version } from '../microversion.ts';
import { specUpdatedAt } from '../timestamps.ts';
import { naiveTime } from './links.ts';

export function aggregateView(v: Version, a: Aggregate): Record<string, unknown> {
  const metadata: Record<string, string> = { ...a.spec.metadata };
  if (a.spec.availabilityZone) metadata.availability_zone = a.spec.availabilityZone;
  return {
    availability_zone: a.spec.availabilityZone ?? null,
    created_at: naiveTime(a.metadata.creationTimestamp),
    deleted: false,
    deleted_at: null,
    hosts: a.spec.hosts ?? [],
    id: a.spec.id ?? 0,
    metadata,
    name: a.spec.name,
    updated_at: naiveTime(specUpdatedAt(a) ?? undefined),
    ...(v.atLeast('2.41') ? { uuid: a.metadata.uid } : {}),
  };
}

/** GET /os-aggregates, by id. */
export const aggregateList = (v: Version, list: Aggregate[]) => ({
  aggregates: [...list].sort((a, b) => (a.spec.id ?? 0) - (b.spec.id ?? 0)).map((a) => aggregateView(v, a)),
});

export const aggregateShown = (v: Version, a: Aggregate) => ({ aggregate: aggregateView(v, a) });

/** POST /os-aggregates: Nova's create answer has no hosts or metadata yet. */
export function aggregateCreated(v: Version, a: Aggregate): Record<string, unknown> {
  const { hosts: _hosts, metadata: _metadata, ...view } = aggregateView(v, a);
  return { aggregate: view };
}
