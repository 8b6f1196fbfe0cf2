// DeletedServer: the compact record the controller keeps of a Server once it is deleted (docs/adr/022),
// named by the server's Nova id in the server's namespace, so that changes-since, instance actions
// (2.21) and os-simple-tenant-usage still know it. No user data, password, metadata or tags.
import { GROUP, VERSION, resourceTypeOf } from './group.ts';
import { dateTime, int, obj, str, type CustomResource, type Infer, type KindDefinition } from './schema.ts';
import { instanceActions } from './server.ts';

const deletedServerSpec = obj(
  {
    serverId: str({ description: 'The Nova id of the deleted server (the Server\'s uid).', minLength: 1, maxLength: 64 }),
    name: str({ description: 'Nova server name.', maxLength: 255 }),
    userId: str({ description: 'The Nova user that created it.', maxLength: 255 }),
    projectId: str({ description: 'The Nova project it was in.', maxLength: 255 }),
    flavor: obj({ id: str(), name: str(), vcpus: int(), ramMiB: int(), diskGiB: int(), ephemeralGiB: int(), swapMiB: int() }, [], { description: 'The flavor it last ran with.' }),
    image: obj({ name: str(), uid: str() }, [], { description: 'The image it was built from.' }),
    host: str({ description: 'The Node it last ran on.' }),
    createdAt: dateTime(),
    launchedAt: dateTime({ description: 'When it first reached Running (OS-SRV-USG:launched_at).' }),
    deletedAt: dateTime({ description: 'When it was deleted (terminated_at, deleted_at).' }),
    instanceActions,
  },
  ['serverId', 'name', 'deletedAt'],
);

export const DeletedServerDefinition: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'DeletedServer',
  plural: 'deletedservers',
  singular: 'deletedserver',
  shortNames: ['dsrv'],
  scope: 'Namespaced',
  description: 'What Kova keeps of a deleted Nova server, for a bounded time and number (written by the controller).',
  spec: deletedServerSpec,
  // A record has no status; the field is declared (not empty: the apiserver drops an empty properties map).
  status: obj({ observedGeneration: int({ minimum: 0, description: 'Reserved: the controller writes no status to a record.' }) }),
  printerColumns: [
    { name: 'Server', type: 'string', jsonPath: '.spec.name' },
    { name: 'Id', type: 'string', jsonPath: '.spec.serverId' },
    { name: 'Launched', type: 'date', jsonPath: '.spec.launchedAt', priority: 1 },
    { name: 'Deleted', type: 'date', jsonPath: '.spec.deletedAt' },
  ],
};

export const DELETED_SERVERS = resourceTypeOf(DeletedServerDefinition);
export type DeletedServerSpec = Infer<typeof deletedServerSpec>;
export type DeletedServer = CustomResource<DeletedServerSpec, { observedGeneration?: number }>;
