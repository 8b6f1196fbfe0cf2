// When a Kubernetes object last changed, as Nova's updated_at reads: the kube-apiserver stamps each
// writer's managedFields entry with the time of its last change, for writes through the API and
// kubectl alike. Pure.
import { UPDATED_AT_ANNOTATION } from '../api/labels.ts';
import type { KubeObject } from '../kube/types.ts';

/** One writer's entry in metadata.managedFields (the fields Kova reads). */
interface ManagedFieldsEntry {
  manager?: string;
  time?: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}

const entries = (o: KubeObject): ManagedFieldsEntry[] => (o.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? [];

const latest = (times: (string | undefined)[]): string | undefined => times.filter((t): t is string => !!t).sort().at(-1);

/** The last write of anything (spec, metadata or status), or the creation: a server's `updated`. */
export const lastWriteAt = (o: KubeObject): string | undefined => latest([o.metadata.creationTimestamp, ...entries(o).map((e) => e.time)]);

/**
 * The last change of the spec after creation (Nova's updated_at of an aggregate), or null when the
 * spec never changed: a spec change bumps metadata.generation. The Compute API stamps its changes
 * (UPDATED_AT_ANNOTATION); a writer's managedFields entry has the time of a change it added or
 * altered (kubectl's too), not of one it removed.
 */
export function specUpdatedAt(o: KubeObject): string | null {
  if ((o.metadata.generation ?? 1) <= 1) return null;
  const writes = entries(o).filter((e) => !e.subresource && e.fieldsV1 && 'f:spec' in e.fieldsV1).map((e) => e.time);
  return latest([o.metadata.annotations?.[UPDATED_AT_ANNOTATION], ...writes]) ?? o.metadata.creationTimestamp ?? null;
}
