// The ServerGroup kind: Nova's server group (os-server-groups), a named placement policy in a
// project. Its members are the Servers whose spec.serverGroup names it; the server controller turns
// the policy into the VM's pod (anti-)affinity, so the kube-scheduler enforces it (docs/adr/020).
import { GROUP, VERSION, resourceTypeOf } from './group.ts';
import { cel, int, map, obj, oneOf, str, type Infer, type KindDefinition, type CustomResource } from './schema.ts';

/** Nova's server group policies (soft ones from 2.15). */
export const SERVER_GROUP_POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] as const;
export type ServerGroupPolicy = (typeof SERVER_GROUP_POLICIES)[number];

const serverGroupSpec = cel(
  obj(
    {
      name: str({ description: 'Nova server group name.', minLength: 1, maxLength: 255 }),
      policy: oneOf(SERVER_GROUP_POLICIES, { description: 'affinity / anti-affinity: required (a member that cannot be placed is ERROR); soft-*: preferred.' }),
      rules: obj(
        { maxServerPerHost: int({ description: 'anti-affinity only: at most this many members on one host (Nova 2.64 max_server_per_host).', minimum: 1, maximum: 1000 }) },
        [],
        { description: 'Policy rules (Nova 2.64).' },
      ),
      userId: str({ description: 'The Nova user who created the group (2.13).', maxLength: 255 }),
    },
    ['name', 'policy'],
  ),
  { rule: 'self == oldSelf', message: 'a server group is immutable: delete it and create another' },
  { rule: "!has(self.rules) || !has(self.rules.maxServerPerHost) || self.policy == 'anti-affinity'", message: 'Only anti-affinity policy supports rules.', fieldPath: '.rules' },
);

/**
 * The members are read from the Servers and the policy is enforced by the scheduler; only an
 * anti-affinity group allowing several servers per host keeps state: each member's slot.
 */
const serverGroupStatus = obj({
  slots: map(int({ minimum: 0 }), { description: 'max_server_per_host > 1: each member\'s slot (Server metadata.name → slot); members sharing a slot run on distinct hosts (docs/adr/020).' }),
});

export const ServerGroupDefinition: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'ServerGroup',
  plural: 'servergroups',
  singular: 'servergroup',
  shortNames: ['sg'],
  scope: 'Namespaced',
  description: "A Nova server group: a placement policy for the Servers whose spec.serverGroup names it, enforced by the kube-scheduler through the VMs' pod affinity.",
  spec: serverGroupSpec,
  status: serverGroupStatus,
  printerColumns: [
    { name: 'Group', type: 'string', jsonPath: '.spec.name' },
    { name: 'Policy', type: 'string', jsonPath: '.spec.policy' },
    { name: 'Max/Host', type: 'integer', jsonPath: '.spec.rules.maxServerPerHost' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const SERVER_GROUPS = resourceTypeOf(ServerGroupDefinition);
export type ServerGroupSpec = Infer<typeof serverGroupSpec>;
export type ServerGroupStatus = Infer<typeof serverGroupStatus>;
export type ServerGroup = CustomResource<ServerGroupSpec, ServerGroupStatus>;
