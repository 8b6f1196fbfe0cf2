// QuotaSet: Nova's quotas as Kubernetes objects, so GitOps can set them as the Compute API does.
// In a project namespace, the one named `project` holds the project's limits and one per user
// (spec.userId) a user's; in Kova's namespace, the one named `default` is the quota class
// `default` (docs/adr/019). A field left out takes the class's value, then Nova's default.
import { GROUP, VERSION, resourceTypeOf } from './group.ts';
import { int, obj, str, type Infer, type KindDefinition, type CustomResource } from './schema.ts';

const limit = (description: string) => int({ description: `${description} -1 is unlimited.`, minimum: -1, maximum: 2147483647 });

const quotaSetSpec = obj({
  userId: str({ description: 'The Nova user these limits are for (os-quota-sets ?user_id=); unset for the project\'s.', minLength: 1, maxLength: 255 }),
  instances: limit('Servers.'),
  cores: limit('vCPUs of all servers.'),
  ramMiB: limit('RAM of all servers, MiB.'),
  metadataItems: limit('Metadata items per server.'),
  keyPairs: limit('Key pairs per user.'),
  serverGroups: limit('Server groups.'),
  serverGroupMembers: limit('Servers per server group.'),
  injectedFiles: limit('Personality files per server (until 2.56).'),
  injectedFileContentBytes: limit('Bytes per personality file (until 2.56).'),
  injectedFilePathBytes: limit('Path length of a personality file (until 2.56).'),
});

export const QuotaSetDefinition: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'QuotaSet',
  plural: 'quotasets',
  singular: 'quotaset',
  shortNames: ['qs'],
  scope: 'Namespaced',
  description: "Nova quota limits of a project (metadata.name `project`), of one of its users (spec.userId), or the quota class `default` (metadata.name `default` in Kova's namespace). Unset fields take the class's value.",
  spec: quotaSetSpec,
  status: obj({ observedGeneration: int({ minimum: 0 }) }),
  printerColumns: [
    { name: 'User', type: 'string', jsonPath: '.spec.userId' },
    { name: 'Instances', type: 'integer', jsonPath: '.spec.instances' },
    { name: 'Cores', type: 'integer', jsonPath: '.spec.cores' },
    { name: 'RAM', type: 'integer', jsonPath: '.spec.ramMiB' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const QUOTASETS = resourceTypeOf(QuotaSetDefinition);
export type QuotaSetSpec = Infer<typeof quotaSetSpec>;
export type QuotaSet = CustomResource<QuotaSetSpec, { observedGeneration?: number }>;
