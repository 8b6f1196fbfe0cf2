// The references a request names — flavor, key pair, host, zone — resolved for the project
// it acts in, the same way whichever door the request came through (the Compute API's synchronous
// 400s, the controller's faults). Nova keeps these in compute/api.py; this is Kova's one home for them.
import type { Flavor } from '../api/flavor.ts';
import type { KeyPair } from '../api/keypair.ts';
import { IMAGE_OWNER_ANNOTATION, ZONE_LABEL } from '../api/labels.ts';
import { zoneOf } from '../nova/hosts.ts';
import type { Caches } from '../cache/caches.ts';
import type { Node } from '../kube/types.ts';
import type { DataSource } from '../kubevirt/types.ts';

/** A project: its namespace and, when known, its Nova id. */
export interface Project {
  namespace: string;
  id?: string;
}

/** The project a namespace is. */
export const projectOf = (caches: Pick<Caches, 'projectIdOf'>, namespace: string): Project => ({ namespace, id: caches.projectIdOf(namespace) });

/**
 * A private flavor may be used only in the projects on its access list (by id or namespace). No
 * admin bypasses it: the instancetype a private flavor runs as exists only in those projects
 * (docs/adr/014-layers.md), so a server elsewhere could never be built.
 */
export function canUseFlavor(f: Flavor, project: Project): boolean {
  return f.spec.isPublic !== false || (f.spec.projects ?? []).some((p) => p === project.id || p === project.namespace);
}

/**
 * An image made from a server (createImage, createBackup) is its project's, as Nova's snapshots
 * are private to theirs: seen and booted only there. Every other image is public.
 */
export function canUseImage(d: DataSource, project: Project | undefined): boolean {
  const owner = d.metadata.annotations?.[IMAGE_OWNER_ANNOTATION];
  return !owner || owner === project?.namespace;
}

/** A flavor by metadata.name or Nova id that the project may use; undefined when there is none or it is private to others. */
export function usableFlavor(caches: Caches, ref: string, project: Project): Flavor | undefined {
  const f = caches.flavor(ref);
  return f && canUseFlavor(f, project) ? f : undefined;
}

/** Whether a key pair is the user's own (Nova's key pairs belong to a user). */
export const ownsKeyPair = (k: KeyPair, user: string): boolean => (k.spec.userId ?? '') === user;

/**
 * A key pair of the project. Nova's key pairs belong to a user: a request from the Compute API
 * names one of its caller's own (`owner`); a spec written with kubectl names any key pair of the
 * namespace, by metadata.name or Nova name (Kubernetes RBAC on the namespace decides).
 */
export function findKeyPair(caches: Pick<Caches, 'keyPair' | 'keyPairs'>, namespace: string, ref: string, owner?: string): KeyPair | undefined {
  if (owner === undefined) return caches.keyPair(namespace, ref);
  return caches.keyPairs.list(namespace).find((k) => k.spec.name === ref && ownsKeyPair(k, owner));
}

/** A host (Node) by name. */
export const findHost = (caches: Caches, name: string): Node | undefined => caches.nodes.get(name);

/** A host's availability zone: its zone label, or Nova's default zone for a host in none (as os-hosts shows it). */
export const hostZone = (n: Node | undefined): string | undefined => (n ? zoneOf(n) : undefined);

/** Whether any host is in the zone. */
export const zoneExists = (caches: Caches, zone: string): boolean => caches.nodes.list().some((n) => n.metadata.labels?.[ZONE_LABEL] === zone);
