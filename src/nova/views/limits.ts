// Nova's /limits and os-quota-sets bodies per microversion (2.36 drops the network quotas, 2.39
// maxImageMeta, 2.57 the personality quotas), with Nova's default quotas. Pure.
import type { Version } from '../microversion.ts';

/** Nova's default quotas (the `[quota]` options). Kova does not enforce them yet. */
export const DEFAULT_QUOTAS = {
  instances: 10, cores: 20, ram: 51200, metadata_items: 128, key_pairs: 100, server_groups: 10, server_group_members: 10,
  injected_files: 5, injected_file_content_bytes: 10240, injected_file_path_bytes: 255,
  fixed_ips: -1, floating_ips: 10, security_groups: 10, security_group_rules: 20,
};

type QuotaKey = keyof typeof DEFAULT_QUOTAS;

/** What a project uses. */
export interface ProjectUsage {
  instances: number;
  cores: number;
  ram: number;
  key_pairs: number;
}

function quotaKeys(v: Version): QuotaKey[] {
  const keys: QuotaKey[] = ['cores', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_groups', 'server_group_members'];
  if (!v.atLeast('2.57')) keys.push('injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes');
  if (!v.atLeast('2.36')) keys.push('fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules');
  return keys;
}

export function limitsView(v: Version, u: ProjectUsage): Record<string, unknown> {
  const q = DEFAULT_QUOTAS;
  const absolute: Record<string, number> = {
    maxServerMeta: q.metadata_items, maxTotalCores: q.cores, maxTotalInstances: q.instances, maxTotalKeypairs: q.key_pairs,
    maxTotalRAMSize: q.ram, maxServerGroups: q.server_groups, maxServerGroupMembers: q.server_group_members,
    totalCoresUsed: u.cores, totalInstancesUsed: u.instances, totalRAMUsed: u.ram, totalServerGroupsUsed: 0,
  };
  if (!v.atLeast('2.39')) absolute.maxImageMeta = 128;
  if (!v.atLeast('2.57')) Object.assign(absolute, { maxPersonality: q.injected_files, maxPersonalitySize: q.injected_file_content_bytes });
  if (!v.atLeast('2.36')) Object.assign(absolute, { maxTotalFloatingIps: q.floating_ips, maxSecurityGroups: q.security_groups, maxSecurityGroupRules: q.security_group_rules, totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0 });
  return { limits: { absolute, rate: [] } };
}

/** A quota set: the limits, or with `usage` (the detail form) each as {in_use, limit, reserved}. */
export function quotaSetView(v: Version, id: string, usage?: ProjectUsage): Record<string, unknown> {
  const set: Record<string, unknown> = { id };
  for (const k of quotaKeys(v)) {
    const used = (usage as Record<string, number> | undefined)?.[k] ?? 0;
    set[k] = usage ? { in_use: used, limit: DEFAULT_QUOTAS[k], reserved: 0 } : DEFAULT_QUOTAS[k];
  }
  return { quota_set: set };
}
