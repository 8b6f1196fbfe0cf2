// Kova's user roles as Kubernetes ClusterRoles: Nova's reader, member and admin. Bind kova-reader
// or kova-member per project namespace (RoleBinding) and kova-admin cluster-wide. The façade acts
// as the caller, so these rules are Nova's policy.
import type { KubeObject } from '../kube/types.ts';
import { GROUP } from './group.ts';

const rule = (apiGroups: string[], resources: string[], verbs: string[]) => ({ apiGroups, resources, verbs });
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];
/** A server's remote console (Nova's os-remote-consoles, a member's right): KubeVirt's VNC subresource, opened as the caller. */
const VNC = rule(['subresources.kubevirt.io'], ['virtualmachineinstances/vnc'], ['get']);

const USER_ROLES: KubeObject[] = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kova-reader', labels: { 'app.kubernetes.io/part-of': 'kova' } },
    rules: [rule([GROUP], ['servers', 'keypairs', 'flavors', 'servergroups', 'quotasets'], READ)],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kova-member', labels: { 'app.kubernetes.io/part-of': 'kova' } },
    rules: [
      rule([GROUP], ['servers', 'keypairs', 'flavors', 'servergroups', 'quotasets'], READ),
      rule([GROUP], ['servers', 'keypairs', 'servergroups'], WRITE),
      // User data travels in a Secret the façade creates for the server, as the caller.
      rule([''], ['secrets'], ['create']),
      VNC,
      // os-getConsoleOutput reads the launcher pod's console log as the caller.
      rule([''], ['pods/log'], ['get']),
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kova-admin', labels: { 'app.kubernetes.io/part-of': 'kova' } },
    rules: [
      rule([GROUP], ['servers', 'keypairs', 'flavors', 'aggregates', 'servergroups', 'quotasets'], [...READ, ...WRITE]),
      // The virtual resource that makes a caller a Nova admin (Nova's role:admin).
      rule([GROUP], ['nova-admin'], ['use']),
      rule([GROUP], ['deletedservers'], READ),
      rule([''], ['secrets'], ['create']),
      rule([''], ['pods/log'], ['get']),
      rule([''], ['nodes'], [...READ, 'patch', 'update']),
      // Keystone's project create / update / delete (/identity/v3/projects) is a namespace's.
      rule([''], ['namespaces'], [...READ, 'create', 'patch', 'delete']),
      // Keystone's role grants (openstack role add / remove) are RoleBindings of kova-reader / kova-member.
      rule(['rbac.authorization.k8s.io'], ['rolebindings'], [...READ, 'create', 'patch', 'delete']),
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['kova-reader', 'kova-member'] },
      // Aborting a live migration (DELETE /servers/{id}/migrations/{id}).
      rule(['kubevirt.io'], ['virtualmachineinstancemigrations'], ['get', 'delete']),
      // Server diagnostics read the VMI as the caller.
      rule(['kubevirt.io'], ['virtualmachineinstances'], ['get']),
      VNC,
    ],
  },
];

/**
 * Nova's public images are every project's: a server's root disk is CDI's clone of an image in the
 * images namespace, and CDI lets a VM's service account clone from another namespace only if it
 * may create `datavolumes/source` there. Bound (imageUsersBinding) in the images namespace to
 * every service account.
 */
export const IMAGE_USER_ROLE: KubeObject = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: 'kova-image-user', labels: { 'app.kubernetes.io/part-of': 'kova' } },
  rules: [rule(['cdi.kubevirt.io'], ['datavolumes/source'], ['create'])],
};

/** Every ClusterRole users and workloads are bound to: Nova's three roles and the image users'. */
export const CLUSTER_ROLES: KubeObject[] = [...USER_ROLES, IMAGE_USER_ROLE];

/** The images namespace's binding of IMAGE_USER_ROLE to every service account (the VMs' own). */
export const imageUsersBinding = (imagesNamespace: string): KubeObject =>
  roleBinding(imagesNamespace, 'kova-image-users', 'kova-image-user', { kind: 'Group', name: 'system:serviceaccounts' });

export const clusterRoleBinding = (name: string, role: string, subject: { kind: 'User' | 'Group'; name: string }): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', ...subject }],
});

export const roleBinding = (namespace: string, name: string, role: string, subject: { kind: 'User' | 'Group'; name: string }): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name, namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', ...subject }],
});

/**
 * What Kova's own processes may do. The controller writes Secrets (key pairs, server credentials)
 * and reads only those it is pointed at (a server's password request), by name;
 * only the API may impersonate, and it writes nothing as itself but the quota Leases that
 * serialize each project's quota decisions (docs/adr/019).
 */
export const OPERATOR_ROLES: KubeObject[] = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kova-controller', labels: { 'app.kubernetes.io/part-of': 'kova' } },
    rules: [
      rule([GROUP], ['servers', 'flavors', 'keypairs', 'aggregates'], [...READ, 'patch', 'update']),
      rule([GROUP], ['servergroups', 'quotasets'], READ),
      rule([GROUP], ['servergroups/status'], ['get', 'update']), // members' slots (docs/adr/020)
      rule([GROUP], ['servers'], ['delete']), // reclaiming soft-deleted servers
      // Deleted servers' records (docs/adr/022): written at a Server's finalization, pruned by count and age.
      rule([GROUP], ['deletedservers'], [...READ, 'create', 'delete']),
      rule([GROUP], ['servers/status', 'flavors/status', 'keypairs/status', 'aggregates/status'], ['get', 'patch', 'update']),
      rule(['kubevirt.io'], ['virtualmachines'], [...READ, ...WRITE]),
      rule(['kubevirt.io'], ['virtualmachineinstances'], [...READ, 'delete']),
      rule(['kubevirt.io'], ['virtualmachineinstancemigrations'], [...READ, 'create', 'delete']),
      rule(['subresources.kubevirt.io'], ['virtualmachineinstances/pause', 'virtualmachineinstances/unpause', 'virtualmachineinstances/softreboot'], ['update']),
      rule(['instancetype.kubevirt.io'], ['virtualmachineclusterinstancetypes', 'virtualmachineinstancetypes'], [...READ, ...WRITE]),
      rule(['cdi.kubevirt.io'], ['datavolumes', 'datasources'], [...READ, 'create', 'delete']),
      // Key pairs' Secrets; servers' credentials Secrets, into which it copies the password a
      // request Secret holds (get), deleting superseded requests (docs/adr/016). No list or watch.
      rule([''], ['secrets'], ['get', 'create', 'patch', 'delete']),
      rule([''], ['nodes'], [...READ, 'patch']),
      rule([''], ['namespaces'], READ),
      rule(['events.k8s.io'], ['events'], ['create', 'patch']),
      rule(['coordination.k8s.io'], ['leases'], ['get', 'create', 'update']),
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kova-api', labels: { 'app.kubernetes.io/part-of': 'kova' } },
    rules: [
      rule([''], ['users', 'groups', 'serviceaccounts'], ['impersonate']),
      rule(['authentication.k8s.io'], ['tokenreviews'], ['create']),
      rule(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
      rule([GROUP], ['servers', 'flavors', 'keypairs', 'aggregates', 'servergroups', 'quotasets', 'deletedservers'], READ),
      rule([''], ['nodes', 'namespaces'], READ),
      rule(['cdi.kubevirt.io'], ['datasources'], READ),
      // os-services: the scheduler's and the controller's Leases stand as nova-scheduler and nova-conductor.
      // A project's quota Lease (kova-quota, in its namespace) serializes its quota decisions (docs/adr/019).
      rule(['coordination.k8s.io'], ['leases'], [...READ, 'create', 'update']),
      // The launcher pod of a server whose console log a caller asks for (read as the caller).
      rule([''], ['pods'], ['list']),
    ],
  },
  {
    // Bound by a RoleBinding in Kova's own namespace only: application credentials and revoked
    // tokens are Secrets there, written by the API as itself (docs/adr/021).
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kova-api-identity', labels: { 'app.kubernetes.io/part-of': 'kova' } },
    rules: [rule([''], ['secrets'], [...READ, 'create', 'delete'])],
  },
];
