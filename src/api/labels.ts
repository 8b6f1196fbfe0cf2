// Every label, annotation and finalizer key Kova writes or reads on Kubernetes objects, in one place,
// with the well-known Kubernetes labels it relies on. A reader finds any key by its name here.
import { createHash } from 'node:crypto';
import { GROUP } from './group.ts';

// Well-known Kubernetes labels.
/** A Node's availability zone (Nova's availability zone). */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** A Node's name as a label (Nova's host). */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kova' };

// Namespaces.
/** Makes a Namespace a Nova project; its value, if not empty, is the project id. */
export const PROJECT_LABEL = `${GROUP}/project`;

// Servers and what Kova makes for them.
/** On a VM, VMI, DataVolume, migration: the Server it belongs to (the Server's metadata.name). */
export const SERVER_LABEL = `${GROUP}/server`;
/** On a VM's template (so on its launcher pods): the uid of the ServerGroup the server is a member of. */
export const SERVER_GROUP_LABEL = `${GROUP}/server-group`;
/** On a VM's template: the member's slot in an anti-affinity group with max_server_per_host > 1 (docs/adr/020). */
export const SERVER_GROUP_SLOT_LABEL = `${GROUP}/server-group-slot`;
/** On a VM: the hash of what Kova applied, so an unchanged VM is not applied again. */
export const APPLIED_HASH = `${GROUP}/applied-hash`;
/** On a Server (before 0.x, read still): the Compute API's stamp of the last request it made of it (docs/adr/009). */
export const REQUEST_ANNOTATION = `${GROUP}/request`;
/** On a Server: one annotation per request the Compute API made of it, `request.compute.kova.io/<request id>` (docs/adr/009). */
export const REQUEST_STAMP_PREFIX = `request.${GROUP}/`;
/** On a project's quota Lease: the resourceVersion of the last Server write a holder made under it (docs/adr/019). */
export const LAST_SERVER_WRITE = `${GROUP}/last-server-write`;
/** On a Server: the Nova user who created it. */
export const USER_ANNOTATION = `${GROUP}/user-id`;
/** On a Server: Nova's reservation id of the create request that made it. */
export const RESERVATION_ANNOTATION = `${GROUP}/reservation-id`;
/** On a Server: its index within a multi-create. */
export const LAUNCH_INDEX_ANNOTATION = `${GROUP}/launch-index`;
/** On a Server: Nova's accessIPv4 and accessIPv6, as the user set them (shown and filtered on, never used). */
export const ACCESS_IPV4_ANNOTATION = `${GROUP}/access-ip-v4`;
export const ACCESS_IPV6_ANNOTATION = `${GROUP}/access-ip-v6`;
/**
 * On a Server: its admin password encrypted with its key pair's RSA key, base64 (Nova's
 * os-server-password; not a secret: Nova shows it to every reader). Written by the controller when
 * it sets a password, removed by DELETE os-server-password.
 */
export const SERVER_PASSWORD_ANNOTATION = `${GROUP}/server-password`;

// Flavors and key pairs.
/** On a namespaced instancetype: the Flavor it was made from. */
export const FLAVOR_LABEL = `${GROUP}/flavor`;
export const FLAVOR_ID_ANNOTATION = `${GROUP}/flavor-id`;
export const FLAVOR_NAME_ANNOTATION = `${GROUP}/flavor-name`;
/** On a key pair's Secret: the KeyPair it holds. */
export const KEYPAIR_LABEL = `${GROUP}/keypair`;

// Images (CDI DataSources in the images namespace).
/** The id of an image made by createImage, fixed before its DataSource exists. */
export const IMAGE_ID_LABEL = `${GROUP}/image-id`;
/** The image's Nova name, when it differs from the DataSource's name. */
export const IMAGE_NAME_ANNOTATION = `${GROUP}/image-name`;
/** The namespace (project) that made an image. */
export const IMAGE_OWNER_ANNOTATION = `${GROUP}/image-owner`;
/** The uid of the server an image was made from (createImage / createBackup). */
export const SOURCE_SERVER_LABEL = `${GROUP}/source-server`;
/** createBackup: the backup type, for rotation. */
export const BACKUP_TYPE_LABEL = `${GROUP}/backup-type`;
/** Glance-style image properties: `image.kova.io/<property>`. */
export const IMAGE_PROPERTY_PREFIX = 'image.kova.io/';

// Aggregates and hosts (Nodes).
/**
 * On an Aggregate: when the Compute API last changed it (Nova's updated_at). The apiserver's
 * managedFields times miss a removal (a host or metadata key taken out).
 */
export const UPDATED_AT_ANNOTATION = `${GROUP}/updated-at`;
/** On a Server: the controller records it as a DeletedServer before it goes (docs/adr/022). */
export const HISTORY_FINALIZER = `${GROUP}/history`;
/** On an Aggregate: its labels are removed from the Nodes before it goes. */
export const AGGREGATE_FINALIZER = `${GROUP}/aggregate-labels`;
/** A Node's membership of an aggregate (long names are shortened with a hash: label names have 63 characters). */
export function memberLabel(aggregateName: string): string {
  const n = aggregateName.length <= 63 ? aggregateName : `${aggregateName.slice(0, 46)}-${createHash('sha256').update(aggregateName).digest('hex').slice(0, 16)}`;
  return `member.aggregate.${GROUP}/${n}`;
}
/** An aggregate's metadata key, as a Node label (flavor extra specs select on it). */
export const aggregateMetadataLabel = (key: string): string => `metadata.aggregate.${GROUP}/${key}`;
/** On a Node: why its compute service was disabled (os-services). */
export const DISABLED_REASON = `${GROUP}/disabled-reason`;
/** Taint on a Node whose compute service is forced down. */
export const FORCED_DOWN_TAINT = `${GROUP}/forced-down`;
/** On a Node: host maintenance mode (os-hosts). */
export const MAINTENANCE = `${GROUP}/maintenance`;

// The KubeVirt simulator.
/** Annotations with this prefix on a Server are copied to its VM, for the KubeVirt simulator. */
export const SIM_ANNOTATION_PREFIX = 'sim.kova.io/';
