// What a fresh sandbox cloud holds: Nova's classic flavors, a sample image, a project, and Nodes.
import { AGGREGATES } from '../api/aggregate.ts';
import { FLAVORS, type Flavor } from '../api/flavor.ts';
import { IMAGE_NAME_ANNOTATION, PROJECT_LABEL } from '../api/labels.ts';
import { isNotFound, type KubeClient } from '../kube/client.ts';
import { DATA_SOURCES } from '../kubevirt/types.ts';
import { CLUSTER_ROLE_TYPE, NAMESPACES, ROLE_BINDING_TYPE } from '../kube/types.ts';
import { IMAGE_USER_ROLE, imageUsersBinding } from '../api/rbac.ts';
import { ensureNode, waitSchedulable, type NodeSpec } from './nodes.ts';

/** Nova's classic flavors (devstack's defaults). */
export const CLASSIC_FLAVORS: Flavor['spec'][] = [
  { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 },
  { id: '2', name: 'm1.small', vcpus: 1, ramMiB: 2048, diskGiB: 20 },
  { id: '3', name: 'm1.medium', vcpus: 2, ramMiB: 4096, diskGiB: 40 },
  { id: '4', name: 'm1.large', vcpus: 4, ramMiB: 8192, diskGiB: 80 },
  { id: '5', name: 'm1.xlarge', vcpus: 8, ramMiB: 16384, diskGiB: 160 },
];

export const SANDBOX_NODES: NodeSpec[] = [
  { name: 'compute-1', cpu: '16', memory: '64Gi' },
  { name: 'compute-2', cpu: '16', memory: '64Gi' },
  { name: 'compute-3', cpu: '16', memory: '64Gi' },
];

/** As in Nova, availability zones are aggregates: these label the sandbox's Nodes with their zone. */
export const SANDBOX_ZONES: { name: string; hosts: string[] }[] = [
  { name: 'zone-a', hosts: ['compute-1', 'compute-2'] },
  { name: 'zone-b', hosts: ['compute-3'] },
];

export async function ensureNamespace(client: KubeClient, name: string, labels: Record<string, string> = {}): Promise<void> {
  await client.apply(NAMESPACES, { metadata: { name, labels } }, { fieldManager: 'kova-dev' });
}

/** A Nova project: a namespace carrying the project label. */
export const ensureProject = (client: KubeClient, name: string): Promise<void> => ensureNamespace(client, name, { [PROJECT_LABEL]: '' });

/** An image: a CDI DataSource in the images namespace (the simulator makes it Ready). */
export async function ensureImage(client: KubeClient, imagesNamespace: string, name: string, displayName = name): Promise<void> {
  await ensureNamespace(client, imagesNamespace);
  // Every project's VMs may clone the images (CDI checks their service accounts).
  await client.apply(CLUSTER_ROLE_TYPE, IMAGE_USER_ROLE, { fieldManager: 'kova-dev' });
  await client.apply(ROLE_BINDING_TYPE, imageUsersBinding(imagesNamespace), { fieldManager: 'kova-dev' });
  await client.apply(DATA_SOURCES, {
    metadata: { name, namespace: imagesNamespace, annotations: { [IMAGE_NAME_ANNOTATION]: displayName } },
    spec: { source: { pvc: { name, namespace: imagesNamespace } } },
  }, { fieldManager: 'kova-dev' });
}

export async function seedSandbox(client: KubeClient, o: { imagesNamespace: string; project: string; nodes: boolean }): Promise<void> {
  if (o.nodes) {
    await Promise.all(SANDBOX_NODES.map((n) => ensureNode(client, n)));
    await waitSchedulable(client, SANDBOX_NODES.map((n) => n.name));
    await Promise.all(SANDBOX_ZONES.map((z, i) => client.apply(AGGREGATES, { metadata: { name: z.name }, spec: { id: i + 1, name: z.name, availabilityZone: z.name, hosts: z.hosts } }, { fieldManager: 'kova-dev' })));
  }
  await Promise.all(CLASSIC_FLAVORS.map((spec) => client.apply(FLAVORS, { metadata: { name: spec.name }, spec }, { fieldManager: 'kova-dev' })));
  try {
    await ensureImage(client, o.imagesNamespace, 'cirros', 'cirros');
  } catch (e) {
    // A cluster without CDI has no DataSource type: no sample image then.
    if (!isNotFound(e)) throw e;
  }
  await ensureProject(client, o.project);
}
