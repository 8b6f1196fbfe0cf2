import { GROUP, VERSION, resourceTypeOf } from './group.ts';
import { arr, cel, conditions, int, map, obj, str, type Infer, type KindDefinition, type CustomResource, READY_AND_AGE } from './schema.ts';

const aggregateSpec = cel(
  obj(
    {
      id: int({ description: 'Nova aggregate id; allocated by the controller when not given.', minimum: 1, maximum: 2147483647 }),
      name: str({ description: 'Nova aggregate name.', minLength: 1, maxLength: 255 }),
      availabilityZone: str({ description: 'Availability zone of the hosts (label topology.kubernetes.io/zone).', minLength: 1, maxLength: 63, pattern: '^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$' }),
      hosts: arr(str({ minLength: 1, maxLength: 253 }), { description: 'Node names.', 'x-kubernetes-list-type': 'set', maxItems: 10000 }),
      metadata: map(str({ maxLength: 255 }), { description: 'Aggregate metadata; each pair becomes a node label that flavors can select with aggregate_instance_extra_specs.', maxProperties: 128 }),
    },
    ['name'],
  ),
  { rule: '!has(oldSelf.id) || (has(self.id) && self.id == oldSelf.id)', message: 'id is immutable once allocated', fieldPath: '.id' },
  {
    rule: '!has(self.metadata) || self.metadata.all(k, k.matches("^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"))',
    message: 'metadata keys must be valid Kubernetes label names (letters, digits, "-", "_", "." ; at most 63)',
    fieldPath: '.metadata',
  },
  {
    rule: '!has(self.metadata) || !("availability_zone" in self.metadata)',
    message: 'set the availability zone with availabilityZone, not metadata.availability_zone',
    fieldPath: '.metadata',
  },
);

const aggregateStatus = obj({
  observedGeneration: int({ minimum: 0 }),
  conditions: conditions(),
});

export const AggregateDefinition: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Aggregate',
  plural: 'aggregates',
  singular: 'aggregate',
  shortNames: ['agg'],
  scope: 'Cluster',
  description: 'A Nova host aggregate: a named set of Nodes with metadata and an optional availability zone, expressed as Node labels.',
  spec: aggregateSpec,
  status: aggregateStatus,
  printerColumns: [
    { name: 'ID', type: 'integer', jsonPath: '.spec.id' },
    { name: 'Aggregate', type: 'string', jsonPath: '.spec.name' },
    { name: 'Zone', type: 'string', jsonPath: '.spec.availabilityZone' },
    { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts' },
    ...READY_AND_AGE,
  ],
};

export const AGGREGATES = resourceTypeOf(AggregateDefinition);
export type AggregateSpec = Infer<typeof aggregateSpec>;
export type AggregateStatus = Infer<typeof aggregateStatus>;
export type Aggregate = CustomResource<AggregateSpec, AggregateStatus>;
