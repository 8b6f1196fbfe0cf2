// Server groups for a project, the same from both doors: a group by name or Nova id, its members,
// and what a project's groups count for the quotas (server_groups, server_group_members).
import type { ServerGroup } from '../api/server-group.ts';
import type { Caches } from '../cache/caches.ts';
import { groupMembers, groupUsage, type GroupUsage } from '../nova/server-groups.ts';

/** A group of the project's namespace, by metadata.name or Nova id. */
export const findServerGroup = (caches: Pick<Caches, 'serverGroup'>, namespace: string, ref: string): ServerGroup | undefined => caches.serverGroup(namespace, ref);

/** The Nova ids of a group's members (servers not being deleted whose hint named it). */
export const memberIds = (caches: Pick<Caches, 'servers'>, g: ServerGroup): string[] =>
  groupMembers(g, caches.servers.list(g.metadata.namespace)).map((s) => s.metadata.uid ?? '');

/**
 * A project's server groups and the members of each, for the quota checks: `serverGroups` against
 * server_groups, `members[groupId]` (+ the servers a request adds) against server_group_members.
 */
export const serverGroupUsage = (caches: Pick<Caches, 'servers' | 'serverGroups'>, namespace: string): GroupUsage =>
  groupUsage(caches.serverGroups.list(namespace), caches.servers.list(namespace));
