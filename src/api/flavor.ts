import { GROUP, VERSION, resourceTypeOf } from './group.ts';
import { bool, cel, conditions, int, map, obj, str, arr, type Infer, type KindDefinition, type CustomResource, READY_AND_AGE } from './schema.ts';

const flavorSpec = cel(
  obj(
    {
      id: str({ description: 'Nova flavor id (string). Defaults to metadata.name.', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._-]([a-zA-Z0-9. _-]*[a-zA-Z0-9._-])?$' }),
      name: str({ description: 'Nova flavor name.', minLength: 1, maxLength: 255 }),
      description: str({ description: 'Free text (Nova 2.55).', maxLength: 65535 }),
      vcpus: int({ minimum: 1, maximum: 2147483647 }),
      ramMiB: int({ description: 'Memory in MiB (Nova "ram").', minimum: 1, maximum: 2147483647 }),
      diskGiB: int({ description: 'Root disk in GiB; 0 = the size of the image.', minimum: 0, maximum: 2147483647, default: 0 }),
      ephemeralGiB: int({ description: 'Ephemeral disk in GiB (OS-FLV-EXT-DATA:ephemeral).', minimum: 0, maximum: 2147483647, default: 0 }),
      swapMiB: int({ description: 'Swap in MiB.', minimum: 0, maximum: 2147483647, default: 0 }),
      isPublic: bool({ description: 'Public flavors are visible to every project; private ones only to `projects`.', default: true }),
      extraSpecs: map(str({ maxLength: 255 }), { description: 'Nova extra specs; see the README for the ones Kova maps.', maxProperties: 256 }),
      projects: arr(str({ minLength: 1, maxLength: 255 }), { description: 'Flavor access: project ids that may use a private flavor.', 'x-kubernetes-list-type': 'set', maxItems: 1024 }),
    },
    ['name', 'vcpus', 'ramMiB'],
  ),
  ...(['id', 'name', 'vcpus', 'ramMiB', 'diskGiB', 'ephemeralGiB', 'swapMiB', 'isPublic'] as const).map((f) => ({
    rule: `has(oldSelf.${f}) == has(self.${f}) && (!has(self.${f}) || self.${f} == oldSelf.${f})`,
    message: `${f} is immutable: a Nova flavor cannot change once created (only description, extraSpecs and projects can)`,
    fieldPath: `.${f}`,
  })),
  {
    rule: '!has(self.projects) || size(self.projects) == 0 || (has(self.isPublic) && !self.isPublic)',
    message: 'projects (flavor access) can only be set on a private flavor (isPublic: false)',
    fieldPath: '.projects',
  },
  {
    rule: '!has(self.extraSpecs) || self.extraSpecs.all(k, size(k) >= 1 && size(k) <= 255 && k.matches("^[a-zA-Z0-9-_:. ]+$"))',
    message: 'extraSpecs keys must be 1-255 characters of letters, digits, "-", "_", ":", "." or space',
    fieldPath: '.extraSpecs',
  },
);

const flavorStatus = obj({
  observedGeneration: int({ minimum: 0 }),
  instancetype: obj({ kind: str(), name: str() }, [], { description: 'The KubeVirt instancetype this flavor became.' }),
  conditions: conditions(),
});

export const FlavorDefinition: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Flavor',
  plural: 'flavors',
  singular: 'flavor',
  shortNames: ['flv'],
  scope: 'Cluster',
  description: 'A Nova flavor: the size of a server. Reconciled into a KubeVirt VirtualMachineClusterInstancetype (or namespaced instancetypes for a private flavor).',
  spec: flavorSpec,
  status: flavorStatus,
  printerColumns: [
    { name: 'ID', type: 'string', jsonPath: '.spec.id' },
    { name: 'Flavor', type: 'string', jsonPath: '.spec.name' },
    { name: 'VCPUs', type: 'integer', jsonPath: '.spec.vcpus' },
    { name: 'RAM', type: 'integer', jsonPath: '.spec.ramMiB', description: 'MiB' },
    { name: 'Disk', type: 'integer', jsonPath: '.spec.diskGiB', description: 'GiB' },
    { name: 'Public', type: 'boolean', jsonPath: '.spec.isPublic' },
    ...READY_AND_AGE,
  ],
};

export const FLAVORS = resourceTypeOf(FlavorDefinition);
export type FlavorSpec = Infer<typeof flavorSpec>;
export type FlavorStatus = Infer<typeof flavorStatus>;
export type Flavor = CustomResource<FlavorSpec, FlavorStatus>;
