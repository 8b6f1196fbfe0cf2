// Nova's server groups, pure: who the members are, how they count for quotas, and which slot a new
// member of an anti-affinity group with max_server_per_host > 1 takes (docs/adr/020).
import type { ServerGroup, ServerGroupPolicy } from '../api/server-group.ts';
import type { Server } from '../api/server.ts';

/** Whether a Server's `group` hint names this group (by metadata.name or Nova id). */
export const namesGroup = (s: Server, g: ServerGroup): boolean =>
  !!s.spec.serverGroup && s.metadata.namespace === g.metadata.namespace && (s.spec.serverGroup === g.metadata.name || s.spec.serverGroup === g.metadata.uid);

/**
 * A group's members, as Nova lists them: the servers whose hint named it, oldest first. A server
 * being deleted has left the group (Nova shows only instances that are not deleted).
 */
export function groupMembers(g: ServerGroup, servers: readonly Server[]): Server[] {
  return servers
    .filter((s) => namesGroup(s, g) && !s.metadata.deletionTimestamp)
    .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** A group's policy as Nova shows it before 2.64 (`policies`) and from it (`policy`, `rules`). */
export interface GroupPolicy {
  policy: ServerGroupPolicy;
  maxServerPerHost?: number;
}

/** How many servers of an anti-affinity group one host may run (1 unless the rule says more). */
export const perHost = (p: GroupPolicy): number => (p.policy === 'anti-affinity' ? p.maxServerPerHost ?? 1 : Number.POSITIVE_INFINITY);

/**
 * The slot a new member takes in an anti-affinity group that allows `max` servers per host: the
 * least used of 0..max-1 among the members placed so far (`taken`, one entry per member). Members
 * sharing a slot are kept on distinct hosts, so no host runs more than `max` of them.
 */
export function freeSlot(max: number, taken: readonly number[]): number {
  const use = Array.from({ length: max }, (_, i) => taken.filter((t) => t === i).length);
  return use.indexOf(Math.min(...use));
}

/** What a project's server groups count for Nova's quotas: server_groups, and server_group_members per group. */
export interface GroupUsage {
  serverGroups: number;
  /** Members per group, by the group's Nova id. */
  members: Record<string, number>;
}

/** A project's groups and their members (for the quota checks: server_groups, server_group_members). */
export function groupUsage(groups: readonly ServerGroup[], servers: readonly Server[]): GroupUsage {
  return { serverGroups: groups.length, members: Object.fromEntries(groups.map((g) => [g.metadata.uid ?? '', groupMembers(g, servers).length])) };
}
