// The people the authorization tests act as: Kubernetes users bound to Kova's roles (kova-admin
// cluster-wide, kova-member or kova-reader in a project namespace), each with a Kova token.
import type { KubeClient } from '../../src/kube/client.ts';
import { clusterRoleBinding, roleBinding } from '../../src/api/rbac.ts';
import { CLUSTER_ROLE_BINDING_TYPE, ROLE_BINDING_TYPE } from '../../src/kube/types.ts';
import type { Api, Kova } from './cluster.ts';
import { eventually } from './waiting.ts';

/** Grants `user` a Kova role: kova-admin cluster-wide, or kova-member / kova-reader in `namespace`. */
export async function grant(c: KubeClient, user: string, role: 'kova-admin' | 'kova-member' | 'kova-reader', namespace?: string): Promise<void> {
  if (role === 'kova-admin') await c.apply(CLUSTER_ROLE_BINDING_TYPE, clusterRoleBinding(`${role}-${user}`, role, { kind: 'User', name: user }));
  else await c.apply(ROLE_BINDING_TYPE, roleBinding(namespace ?? '', `${role}-${user}`, role, { kind: 'User', name: user }));
}

/**
 * The usual people: root (kova-admin), alice (kova-member of `ns`), bob (kova-reader of `ns`) and
 * eve (kova-member of `other`), with Kova tokens scoped to their projects.
 */
export interface People { admin: string; member: string; reader: string; stranger: string }
export async function people(kova: Kova, api: Api, ns: string, other: string): Promise<People> {
  await grant(kova.client, 'root', 'kova-admin');
  await grant(kova.client, 'alice', 'kova-member', ns);
  await grant(kova.client, 'bob', 'kova-reader', ns);
  await grant(kova.client, 'eve', 'kova-member', other);
  await eventually('façade caches to see both projects', async () => !!api.facade.caches.projectByIdOrName(ns) && !!api.facade.caches.projectByIdOrName(other));
  return { admin: api.token('root', ns), member: api.token('alice', ns), reader: api.token('bob', ns), stranger: api.token('eve', other) };
}
