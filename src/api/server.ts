import { GROUP, VERSION, resourceTypeOf } from './group.ts';
import { arr, bool, cel, conditions, dateTime, immutable, int, map, obj, oneOf, str, type Infer, type KindDefinition, type CustomResource } from './schema.ts';

/**
 * Annotation the Compute API puts on a Server with each request it makes of it (JSON:
 * {requestId, action, userId, projectId, at}); the controller turns it into an instance action.
 */
export const REQUEST_ANNOTATION = 'compute.kova.io/request';

/** Nova's power_state names, as `openstack server show` prints them. */
export const POWER_STATES = ['NOSTATE', 'Running', 'Paused', 'Shutdown', 'Crashed', 'Suspended'] as const;
/** Nova's server statuses. */
export const NOVA_STATUSES = ['BUILD', 'ACTIVE', 'PAUSED', 'SUSPENDED', 'SHUTOFF', 'RESCUE', 'RESIZE', 'VERIFY_RESIZE', 'REVERT_RESIZE', 'MIGRATING', 'REBOOT', 'HARD_REBOOT', 'REBUILD', 'PASSWORD', 'SHELVED', 'SHELVED_OFFLOADED', 'SOFT_DELETED', 'DELETED', 'ERROR', 'UNKNOWN'] as const;

const serverSpec = cel(
  obj(
    {
      name: str({ description: 'Nova server name.', minLength: 1, maxLength: 255 }),
      description: str({ description: 'Free text (Nova 2.19).', maxLength: 255 }),
      flavor: str({ description: 'The Flavor: its metadata.name or its Nova id.', minLength: 1, maxLength: 255 }),
      image: str({ description: 'The image: a CDI DataSource name (or uid) in the images namespace.', minLength: 1, maxLength: 253 }),
      rootDiskGiB: int({ description: 'Root disk size in GiB, instead of the flavor\'s (a boot volume size, block_device_mapping_v2 volume_size).', minimum: 1, maximum: 65536 }),
      keyName: str({ description: 'A KeyPair in this namespace, by metadata.name or Nova name.', minLength: 1, maxLength: 255 }),
      userData: obj(
        { secretName: str({ description: 'A Secret in this namespace whose key "userdata" holds the user data.', minLength: 1, maxLength: 253 }) },
        ['secretName'],
        { description: 'User data for cloud-init, by reference: never inline.' },
      ),
      metadata: map(str({ maxLength: 255 }), { description: 'Nova server metadata.', maxProperties: 128 }),
      tags: arr(str({ minLength: 1, maxLength: 60, pattern: '^[^/,]+$' }), { description: 'Nova server tags (2.26).', maxItems: 50, 'x-kubernetes-list-type': 'set' }),
      availabilityZone: str({ description: 'Availability zone (Node label topology.kubernetes.io/zone).', minLength: 1, maxLength: 255 }),
      host: str({ description: 'Requested host (a Node name), as admins may ask from Nova 2.74.', minLength: 1, maxLength: 253 }),
      hostname: str({ description: 'Guest hostname (2.90); defaults to a sanitised name.', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
      networks: oneOf(['auto', 'none'] as const, { description: 'auto: one interface on the pod network; none: no network (2.37).', default: 'auto' }),
      powerState: oneOf(['Running', 'Shutoff', 'Paused', 'Suspended'] as const, {
        description: 'Desired power state: Running (start), Shutoff (stop), Paused (pause) or Suspended (suspend: a pause shown as Nova\'s SUSPENDED; see docs/adr/010).',
        default: 'Running',
      }),
      locked: bool({ description: 'Locked servers refuse actions from non-admins (Nova lock).' }),
      reboot: obj(
        {
          type: oneOf(['SOFT', 'HARD'] as const),
          requestId: str({ description: 'A new id asks for a new reboot; the controller acts once per id.', minLength: 1, maxLength: 255 }),
        },
        ['type', 'requestId'],
        { description: 'An imperative request: reboot the server once for this requestId.' },
      ),
      lockedReason: str({ description: 'Why the server is locked (2.73).', maxLength: 255 }),
      lockedBy: oneOf(['owner', 'admin'] as const, { description: 'Who locked it: only an admin may unlock an admin\'s lock.' }),
    },
    ['name', 'flavor', 'image'],
  ),
  immutable('flavor', 'flavor is immutable: a server changes flavor only through a resize'),
  immutable('image', 'image is immutable: a server changes image only through a rebuild'),
  immutable('rootDiskGiB', 'rootDiskGiB is immutable'),
  immutable('keyName', 'keyName is immutable: a server changes key only through a rebuild'),
  immutable('userData', 'userData is immutable'),
  immutable('availabilityZone', 'availabilityZone is immutable'),
  immutable('host', 'host is immutable'),
  immutable('networks', 'networks is immutable'),
  {
    rule: '!has(self.metadata) || self.metadata.all(k, size(k) >= 1 && size(k) <= 255)',
    message: 'metadata keys must be 1-255 characters',
    fieldPath: '.metadata',
  },
);

const address = obj({
  addr: str(),
  version: int({ minimum: 4, maximum: 6 }),
  type: oneOf(['fixed', 'floating'] as const),
  macAddr: str(),
});

const fault = obj(
  {
    code: int(),
    message: str({ maxLength: 255 }),
    details: str({ maxLength: 4096 }),
    created: dateTime(),
  },
  ['code', 'message', 'created'],
);

const flavorSnapshot = obj({
  id: str(),
  name: str(),
  vcpus: int(),
  ramMiB: int(),
  diskGiB: int(),
  ephemeralGiB: int(),
  swapMiB: int(),
  extraSpecs: map(str()),
  instancetype: obj({ kind: str(), name: str() }),
});

const serverStatus = obj({
  observedGeneration: int({ minimum: 0 }),
  status: oneOf(NOVA_STATUSES, { description: 'Nova status.' }),
  vmState: str({ description: 'Nova vm_state (OS-EXT-STS:vm_state).' }),
  taskState: str({ description: 'Nova task_state (OS-EXT-STS:task_state); absent when none.' }),
  powerState: oneOf(POWER_STATES, { description: 'Nova power_state (OS-EXT-STS:power_state), by name.' }),
  progress: int({ minimum: 0, maximum: 100 }),
  fault,
  addresses: map(arr(address), { description: 'Nova addresses: network name to addresses.' }),
  networks: str({ description: 'Addresses in one line, as `openstack server list` shows them.' }),
  host: str({ description: 'The Node the server runs on (OS-EXT-SRV-ATTR:host).' }),
  hypervisorHostname: str({ description: 'OS-EXT-SRV-ATTR:hypervisor_hostname.' }),
  hostId: str({ description: "Nova hostId: sha224 of project id and host." }),
  instanceName: str({ description: 'The VirtualMachine name (OS-EXT-SRV-ATTR:instance_name).' }),
  launchedAt: dateTime({ description: 'When the server first reached Running (OS-SRV-USG:launched_at).' }),
  terminatedAt: dateTime(),
  flavor: flavorSnapshot,
  image: obj({ name: str(), uid: str() }, [], { description: 'The image the server was built from.' }),
  keyName: str(),
  instanceActions: arr(
    obj({
      action: str(),
      requestId: str(),
      userId: str(),
      projectId: str(),
      startTime: dateTime(),
      updatedAt: dateTime(),
      message: str(),
      events: arr(obj({ event: str(), startTime: dateTime(), finishTime: dateTime(), result: oneOf(['Success', 'Error'] as const), host: str() }, ['event', 'startTime'])),
    }, ['action', 'requestId', 'startTime']),
    { description: "Nova's instance actions (os-instance-actions), newest first, at most 50.", maxItems: 50 },
  ),
  handledRequests: obj({ reboot: str() }, [], { description: 'The requestId of the last imperative request acted on, per action.' }),
  rebooting: obj({ type: oneOf(['SOFT', 'HARD'] as const), fromVMI: str({ description: 'uid of the VMI being replaced' }) }, ['type'], { description: 'A reboot in progress.' }),
  conditions: conditions(),
});

export const ServerDefinition: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'Server',
  plural: 'servers',
  singular: 'server',
  shortNames: ['srv'],
  scope: 'Namespaced',
  description: 'A Nova server. Reconciled into one KubeVirt VirtualMachine of the same name; status holds the Nova view of it.',
  spec: serverSpec,
  status: serverStatus,
  printerColumns: [
    { name: 'Server', type: 'string', jsonPath: '.spec.name' },
    { name: 'Status', type: 'string', jsonPath: '.status.status' },
    { name: 'Task', type: 'string', jsonPath: '.status.taskState' },
    { name: 'Power', type: 'string', jsonPath: '.status.powerState' },
    { name: 'Networks', type: 'string', jsonPath: '.status.networks' },
    { name: 'Image', type: 'string', jsonPath: '.spec.image' },
    { name: 'Flavor', type: 'string', jsonPath: '.spec.flavor' },
    { name: 'Host', type: 'string', jsonPath: '.status.host', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const SERVERS = resourceTypeOf(ServerDefinition);
export type ServerSpec = Infer<typeof serverSpec>;
export type ServerStatus = Infer<typeof serverStatus>;
export type Fault = Infer<typeof fault>;
export type Address = Infer<typeof address>;
export type FlavorSnapshot = Infer<typeof flavorSnapshot>;
export type Server = CustomResource<ServerSpec, ServerStatus>;
