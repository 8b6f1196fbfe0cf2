// What the server view needs beyond the Server, read from the caches: its image, flavor id, the
// zone and state of its host. Used by every route that answers with a server.
import type { Server } from '../api/server.ts';
import type { Caches } from '../cache/caches.ts';
import { hostZone } from '../compute/references.ts';
import { hostStatus } from '../nova/hosts.ts';
import { imageIdOf, imageProperties } from '../nova/images.ts';
import { flavorId } from '../nova/views/flavors.ts';
import type { ServerFacts } from '../nova/server-columns.ts';
import type { ServerViewInputs } from '../nova/views/servers.ts';
import type { UsageServer } from '../nova/views/usage.ts';
import { deletedAsServer, deletedUsage } from '../nova/history.ts';

export function serverViewInputs(c: Caches, s: Server): ServerViewInputs {
  const img = c.image(s.status?.image?.uid ?? s.spec.image) ?? c.image(s.spec.image);
  const node = s.status?.host ? c.nodes.get(s.status.host) : undefined;
  const flavor = c.flavor(s.spec.flavor);
  return {
    projectId: c.projectIdOf(s.metadata.namespace ?? '') ?? s.metadata.namespace ?? '',
    image: img ? { id: imageIdOf(img), properties: imageProperties(img.metadata.annotations) } : s.status?.image?.uid ? { id: s.status.image.uid } : undefined,
    flavorId: s.status?.flavor?.id ?? (flavor ? flavorId(flavor) : undefined),
    zone: hostZone(node),
    hostStatus: hostStatus(node),
    serverGroupId: s.spec.serverGroup ? c.serverGroup(s.metadata.namespace ?? '', s.spec.serverGroup)?.metadata.uid : undefined,
  };
}

/** A server's image id: the one it was built from, else its image reference's. */
function serverImageId(c: Caches, s: Server): string | undefined {
  const d = c.image(s.spec.image);
  return s.status?.image?.uid ?? (d ? imageIdOf(d) : undefined);
}

/** A server as os-simple-tenant-usage counts it: its flavor's size, when it ran. */
export function usageServer(c: Caches, s: Server): UsageServer {
  const f = s.status?.flavor;
  return {
    id: s.metadata.uid ?? '', name: s.spec.name, projectId: c.projectIdOf(s.metadata.namespace ?? '') ?? s.metadata.namespace ?? '',
    flavor: f?.name ?? s.spec.flavor, vcpus: f?.vcpus ?? 0, memoryMiB: f?.ramMiB ?? 0, localGiB: (f?.diskGiB ?? 0) + (f?.ephemeralGiB ?? 0),
    vmState: s.status?.vmState ?? 'building', launchedAt: s.status?.launchedAt, terminatedAt: s.status?.terminatedAt,
  };
}

/** What a server's row in Nova's instances table needs from the caches (list filters and sort keys). */
export function serverFacts(c: Caches, s: Server): ServerFacts {
  const node = s.status?.host ? c.nodes.get(s.status.host) : undefined;
  return { projectId: c.projectIdOf(s.metadata.namespace ?? '') ?? s.metadata.namespace ?? '', imageId: serverImageId(c, s), zone: hostZone(node) };
}

/** The records of deleted servers, but for a Server still finalizing (its record is written just before it goes). */
const records = (c: Caches, namespace?: string) => c.deletedServers.list(namespace).filter((d) => !c.servers.byIndex('uid', d.spec.serverId).length);

/** A project's deleted servers (every project's without one) as server rows: status DELETED (docs/adr/022). */
export const deletedServerRows = (c: Caches, namespace?: string): Server[] => records(c, namespace).map(deletedAsServer);

/** A project's deleted servers (every project's without one) as usage counts them: terminated. */
export const deletedUsageServers = (c: Caches, namespace?: string): UsageServer[] =>
  records(c, namespace).map((d) => deletedUsage(d, c.projectIdOf(d.metadata.namespace ?? '') ?? d.metadata.namespace ?? ''));
