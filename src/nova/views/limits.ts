// Nova's /limits, os-quota-sets and os-quota-class-sets bodies per microversion (2.36 drops the
// network quotas, 2.39 maxImageMeta, 2.50 adds the server group quotas to quota classes and drops
// their network ones, 2.57 the personality quotas). Pure.
import type { Version } from '../microversion.ts';
import { NETWORK_QUOTAS, type Limits, type QuotaKey, type Usage } from '../quotas.ts';

type ShownKey = QuotaKey | keyof typeof NETWORK_QUOTAS;
const INJECTED: QuotaKey[] = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];
const NETWORK = Object.keys(NETWORK_QUOTAS) as (keyof typeof NETWORK_QUOTAS)[];
const valueOf = (limits: Limits, k: ShownKey): number => (k in NETWORK_QUOTAS ? NETWORK_QUOTAS[k as keyof typeof NETWORK_QUOTAS] : limits[k as QuotaKey]);

/** The resources a quota set shows at `v`. */
export function quotaKeys(v: Version): ShownKey[] {
  const keys: ShownKey[] = ['cores', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_groups', 'server_group_members'];
  if (!v.atLeast('2.57')) keys.push(...INJECTED);
  if (!v.atLeast('2.36')) keys.push(...NETWORK);
  return keys;
}

/** The resources a quota class set shows at `v` (server groups from 2.50, which drops the network ones). */
export function classKeys(v: Version): ShownKey[] {
  const keys: ShownKey[] = ['cores', 'instances', 'key_pairs', 'metadata_items', 'ram'];
  if (v.atLeast('2.50')) keys.push('server_groups', 'server_group_members');
  else keys.push(...NETWORK);
  if (!v.atLeast('2.57')) keys.push(...INJECTED);
  return keys;
}

export function limitsView(v: Version, q: Limits, u: Usage): Record<string, unknown> {
  const absolute: Record<string, number> = {
    maxServerMeta: q.metadata_items, maxTotalCores: q.cores, maxTotalInstances: q.instances, maxTotalKeypairs: q.key_pairs,
    maxTotalRAMSize: q.ram, maxServerGroups: q.server_groups, maxServerGroupMembers: q.server_group_members,
    totalCoresUsed: u.cores ?? 0, totalInstancesUsed: u.instances ?? 0, totalRAMUsed: u.ram ?? 0, totalServerGroupsUsed: u.server_groups ?? 0,
  };
  if (!v.atLeast('2.39')) absolute.maxImageMeta = q.metadata_items;
  if (!v.atLeast('2.57')) Object.assign(absolute, { maxPersonality: q.injected_files, maxPersonalitySize: q.injected_file_content_bytes });
  if (!v.atLeast('2.36')) Object.assign(absolute, { maxTotalFloatingIps: NETWORK_QUOTAS.floating_ips, maxSecurityGroups: NETWORK_QUOTAS.security_groups, maxSecurityGroupRules: NETWORK_QUOTAS.security_group_rules, totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0 });
  return { limits: { absolute, rate: [] } };
}

/**
 * A quota set: the limits, or with `usage` (the detail form) each as {in_use, limit, reserved}.
 * `id` is left out where Nova leaves it out (the answer to an update).
 */
export function quotaSetView(v: Version, id: string | undefined, limits: Limits, usage?: Usage): Record<string, unknown> {
  const set: Record<string, unknown> = id === undefined ? {} : { id };
  for (const k of quotaKeys(v)) {
    const limit = valueOf(limits, k);
    set[k] = usage ? { in_use: usage[k as QuotaKey] ?? 0, limit, reserved: 0 } : limit;
  }
  return { quota_set: set };
}

/** A quota class set (`id` left out in the answer to an update, as Nova does). */
export function quotaClassSetView(v: Version, id: string | undefined, limits: Limits): Record<string, unknown> {
  const set: Record<string, unknown> = id === undefined ? {} : { id };
  for (const k of classKeys(v)) set[k] = valueOf(limits, k);
  return { quota_class_set: set };
}
