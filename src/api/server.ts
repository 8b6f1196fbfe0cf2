import { GROUP, VERSION, resourceTypeOf } from './group.ts';
import { arr, bool, cel, conditions, dateTime, immutable, int, map, obj, oneOf, str, type Infer, type KindDefinition, type CustomResource } from './schema.ts';

/**
 * Annotation the Compute API puts on a Server with each request it makes of it (JSON:
 * {requestId, action, userId, projectId, at}); the controller turns it into an instance action.
 */

/** Nova's power_state names, as `openstack server show` prints them. */
export const POWER_STATES = ['NOSTATE', 'Running', 'Paused', 'Shutdown', 'Crashed', 'Suspended'] as const;
/** Nova's server statuses. */
export const NOVA_STATUSES = ['BUILD', 'ACTIVE', 'PAUSED', 'SUSPENDED', 'SHUTOFF', 'RESCUE', 'RESIZE', 'VERIFY_RESIZE', 'REVERT_RESIZE', 'MIGRATING', 'REBOOT', 'HARD_REBOOT', 'REBUILD', 'PASSWORD', 'SHELVED', 'SHELVED_OFFLOADED', 'SOFT_DELETED', 'DELETED', 'ERROR', 'UNKNOWN'] as const;

/** Desired power/lifecycle states a Server spec can ask for. */
export const POWER_REQUESTS = ['Running', 'Shutoff', 'Paused', 'Suspended', 'Shelved', 'ShelvedOffloaded', 'SoftDeleted'] as const;

const request = (description: string) => obj({ requestId: str({ minLength: 1, maxLength: 255 }) }, ['requestId'], { description: `An imperative request: ${description}` });

/** A password by reference, never inline: a Secret in the server's namespace. */
const passwordRef = (description: string) => obj(
  { secretName: str({ description: 'A Secret in this namespace whose key "password" holds the password.', minLength: 1, maxLength: 253 }) },
  ['secretName'],
  { description },
);

/** Another Server of the namespace, as a label value (its metadata.name or Nova id). */
const serverRef = str({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' });

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
      adminPassword: passwordRef('The admin password to set in the guest (for the user the image names: os_admin_user, else Administrator for os_type windows, else root), through KubeVirt\'s guest agent. A new Secret per change (changePassword, rebuild, evacuate); the controller copies it into the Secret <server>-credentials that the VM reads (docs/adr/016).'),
      metadata: map(str({ maxLength: 255 }), { description: 'Nova server metadata.', maxProperties: 128 }),
      tags: arr(str({ minLength: 1, maxLength: 60, pattern: '^[^/,]+$' }), { description: 'Nova server tags (2.26).', maxItems: 50, 'x-kubernetes-list-type': 'set' }),
      availabilityZone: str({ description: 'Availability zone (Node label topology.kubernetes.io/zone).', minLength: 1, maxLength: 255 }),
      host: str({ description: 'Requested host (a Node name), as admins may ask from Nova 2.74.', minLength: 1, maxLength: 253 }),
      serverGroup: str({ description: "Nova's `group` scheduler hint: a ServerGroup in this namespace, by metadata.name or Nova id. Its policy becomes the VM's pod (anti-)affinity (docs/adr/020).", minLength: 1, maxLength: 253 }),
      sameHost: arr(serverRef, { description: "Nova's `same_host` hint: run on a host that runs one of these Servers (metadata.name or Nova id).", maxItems: 100 }),
      differentHost: arr(serverRef, { description: "Nova's `different_host` hint: run on a host that runs none of these Servers (metadata.name or Nova id).", maxItems: 100 }),
      hostname: str({ description: 'Guest hostname (2.90); defaults to a sanitised name.', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
      networks: oneOf(['auto', 'none'] as const, { description: 'auto: one interface on the pod network; none: no network (2.37).', default: 'auto' }),
      powerState: oneOf(POWER_REQUESTS, {
        description: 'Desired state: Running (start, resume, unpause, unshelve, restore), Shutoff (stop), Paused (pause), Suspended (suspend: a pause shown as Nova\'s SUSPENDED; see docs/adr/010), Shelved / ShelvedOffloaded (shelve, shelveOffload) or SoftDeleted (a delete the controller reclaims later; restore undoes it).',
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
      rebuild: obj(
        {
          requestId: str({ description: 'A new id rebuilds the server from spec.image (an image change alone rebuilds too).', minLength: 1, maxLength: 255 }),
          preserveEphemeral: bool(),
        },
        ['requestId'],
        { description: 'An imperative request: rebuild the root disk from spec.image once for this requestId.' },
      ),
      confirmResize: request('Confirm the resize or cold migration waiting in VERIFY_RESIZE.'),
      revertResize: request('Revert the resize or cold migration waiting in VERIFY_RESIZE (a resize also sets spec.flavor back).'),
      migrate: obj(
        {
          requestId: str({ minLength: 1, maxLength: 255 }),
          live: bool({ description: 'Live migration (a VirtualMachineInstanceMigration) rather than a cold one (VERIFY_RESIZE).' }),
          host: str({ description: 'Target Node (admins).', minLength: 1, maxLength: 253 }),
        },
        ['requestId'],
        { description: 'An imperative request: move the server to another host once for this requestId.' },
      ),
      evacuate: obj(
        { requestId: str({ minLength: 1, maxLength: 255 }), host: str({ minLength: 1, maxLength: 253 }) },
        ['requestId'],
        { description: 'An imperative request (admins): rebuild the server on another host because its host is down.' },
      ),
      resetState: obj(
        { requestId: str({ minLength: 1, maxLength: 255 }), state: oneOf(['active', 'error'] as const) },
        ['requestId', 'state'],
        { description: 'An imperative request (admins): force vm_state to active (clearing any task) or error.' },
      ),
      rescue: obj(
        {
          requestId: str({ minLength: 1, maxLength: 255 }),
          image: str({ description: 'Rescue image (DataSource); default: the server\'s image.', minLength: 1, maxLength: 253 }),
          adminPassword: passwordRef('The password of the rescue guest while rescued; at unrescue the guest gets spec.adminPassword again.'),
        },
        ['requestId'],
        { description: 'Present: the server runs in rescue mode (booted from the rescue image, its root disk attached second). Removing it unrescues.' },
      ),
      createImage: obj(
        {
          requestId: str({ minLength: 1, maxLength: 255 }),
          imageId: str({ description: 'The id the new image gets (label compute.kova.io/image-id on its DataSource).', minLength: 1, maxLength: 64 }),
          name: str({ minLength: 1, maxLength: 255 }),
          metadata: map(str({ maxLength: 255 }), { maxProperties: 128 }),
          backupType: str({ description: 'createBackup: the backup type (daily, weekly …).', maxLength: 255 }),
          rotation: int({ description: 'createBackup: how many backups of this type to keep.', minimum: 0 }),
        },
        ['requestId', 'imageId', 'name'],
        { description: 'An imperative request: copy the root disk into a new image once for this requestId.' },
      ),
      lockedReason: str({ description: 'Why the server is locked (2.73).', maxLength: 255 }),
      lockedBy: oneOf(['owner', 'admin'] as const, { description: 'Who locked it: only an admin may unlock an admin\'s lock.' }),
    },
    ['name', 'flavor', 'image'],
  ),
  immutable('rootDiskGiB', 'rootDiskGiB is immutable'),
  immutable('host', 'host is immutable'),
  immutable('networks', 'networks is immutable'),
  immutable('serverGroup', 'serverGroup is immutable (a scheduler hint)'),
  immutable('sameHost', 'sameHost is immutable (a scheduler hint)'),
  immutable('differentHost', 'differentHost is immutable (a scheduler hint)'),
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

/** The flavor a server was built with, as its status (and a deleted server's record) keeps it. */
export const flavorSnapshot = obj({
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

/** Nova's instance actions, newest first (a Server's status, a deleted server's record). */
export const instanceActions = arr(
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
);

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
  instanceActions,
  handledRequests: map(str(), { description: 'The requestId of the last imperative request acted on, per action.' }),
  rebooting: obj({
    type: oneOf(['SOFT', 'HARD'] as const),
    fromVMI: str({ description: 'uid of the VMI being rebooted (replaced, for HARD)' }),
    sent: bool({ description: 'SOFT: the softreboot subresource call was made.' }),
  }, ['type'], { description: 'A reboot in progress.' }),
  operation: obj({
    kind: oneOf(['resize', 'migrate', 'liveMigrate', 'rebuild', 'evacuate', 'rescue', 'unrescue', 'createImage'] as const),
    requestId: str(),
    phase: str({ description: 'Where the work is: prep, migrating, verify, reverting …' }),
    startedAt: dateTime(),
    fromVMI: str({ description: 'uid of the VMI this operation replaces' }),
    fromHost: str(),
    toHost: str({ description: 'Requested target host, if any' }),
    fromFlavor: flavorSnapshot,
    toFlavor: flavorSnapshot,
    image: str({ description: 'rebuild/rescue: the image (DataSource)' }),
    rootVolume: str({ description: 'rebuild: the new root DataVolume' }),
    migrationName: str({ description: 'liveMigrate: the VirtualMachineInstanceMigration' }),
    migrationId: str({ description: 'The migration record in status.migrations' }),
    imageId: str({ description: 'createImage: the new image id' }),
  }, ['kind', 'requestId', 'phase'], { description: 'The one long-running Nova task in flight (Nova allows one task_state at a time).' }),
  rootVolume: str({ description: 'The DataVolume holding the root disk (a rebuild replaces it).' }),
  rescueVolume: str({ description: 'The rescue disk while rescued.' }),
  resetToError: bool({ description: 'os-resetState error: shown as ERROR until an action clears it.' }),
  shelvedAt: dateTime(),
  offloaded: bool({ description: 'Shelved and offloaded: no host.' }),
  deletedAt: dateTime({ description: 'Soft deleted at; reclaimed after the reclaim interval.' }),
  migrations: arr(
    obj({
      id: int(),
      uuid: str(),
      type: oneOf(['resize', 'migration', 'live-migration', 'evacuation'] as const),
      status: str(),
      sourceHost: str(),
      destHost: str(),
      oldFlavorId: str(),
      newFlavorId: str(),
      userId: str(),
      projectId: str(),
      createdAt: dateTime(),
      updatedAt: dateTime(),
      memoryTotalBytes: int(),
      memoryProcessedBytes: int(),
    }, ['id', 'uuid', 'type', 'status', 'createdAt']),
    { description: "Nova's migration records for this server, newest first, at most 20.", maxItems: 20 },
  ),
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

/** The long-running task in flight (resize, migration, rebuild …), as kept in status. */
export type Operation = NonNullable<ServerStatus['operation']>;
/** One of Nova's migration records, as kept in status. */
export type MigrationRecord = NonNullable<ServerStatus['migrations']>[number];
