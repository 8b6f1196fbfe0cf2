// /limits with real usage, read-only /os-quota-sets with Nova's default quotas, and /extensions.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, NovaError, notFound } from '../../nova/faults.ts';
import type { FacadeDeps } from '../app.ts';
import { requireProject, checkQuery } from './common.ts';

/** Nova's default quotas (the `[quota]` options). Kova does not enforce them yet. */
export const DEFAULT_QUOTAS = {
  instances: 10, cores: 20, ram: 51200, metadata_items: 128, key_pairs: 100, server_groups: 10, server_group_members: 10,
  injected_files: 5, injected_file_content_bytes: 10240, injected_file_path_bytes: 255,
  fixed_ips: -1, floating_ips: 10, security_groups: 10, security_group_rules: 20,
};

function quotaKeys(req: FastifyRequest): (keyof typeof DEFAULT_QUOTAS)[] {
  const v = req.nova.version;
  const keys: (keyof typeof DEFAULT_QUOTAS)[] = ['cores', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_groups', 'server_group_members'];
  if (!v.atLeast('2.57')) keys.push('injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes');
  if (!v.atLeast('2.36')) keys.push('fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules');
  return keys;
}

export function registerLimitRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;
  const usage = (namespace: string) => {
    const servers = c.servers.list(namespace);
    return {
      instances: servers.length,
      cores: servers.reduce((a, s) => a + (s.status?.flavor?.vcpus ?? 0), 0),
      ram: servers.reduce((a, s) => a + (s.status?.flavor?.ramMiB ?? 0), 0),
      key_pairs: c.keyPairs.list(namespace).length,
    };
  };
  const projectOf = async (req: FastifyRequest, tenant: string | undefined): Promise<string> => {
    const own = req.nova.project;
    if (!tenant || tenant === own?.id || tenant === own?.namespace) return requireProject(req).namespace;
    if (!(await req.nova.isAdmin())) throw forbidden(`Policy doesn't allow os_compute_api:limits:other_project to be performed.`);
    const p = c.projectByIdOrName(tenant);
    if (!p) throw notFound(`Project ${tenant} could not be found.`);
    return p.namespace;
  };

  app.get('/limits', async (req) => {
    checkQuery(req, ['tenant_id']);
    const v = req.nova.version;
    const u = usage(await projectOf(req, (req.query as Record<string, string>).tenant_id));
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
  });

  const quotaSet = (req: FastifyRequest, id: string, detail: boolean, u?: ReturnType<typeof usage>) => {
    const set: Record<string, unknown> = { id };
    for (const k of quotaKeys(req)) {
      const used = (u as Record<string, number> | undefined)?.[k] ?? 0;
      set[k] = detail ? { in_use: used, limit: DEFAULT_QUOTAS[k], reserved: 0 } : DEFAULT_QUOTAS[k];
    }
    return { quota_set: set };
  };
  app.get('/os-quota-sets/:tenant', async (req) => {
    const tenant = (req.params as { tenant: string }).tenant;
    await projectOf(req, tenant);
    return quotaSet(req, tenant, false);
  });
  app.get('/os-quota-sets/:tenant/detail', async (req) => {
    const tenant = (req.params as { tenant: string }).tenant;
    return quotaSet(req, tenant, true, usage(await projectOf(req, tenant)));
  });
  app.get('/os-quota-sets/:tenant/defaults', async (req) => quotaSet(req, (req.params as { tenant: string }).tenant, false));
  for (const method of ['PUT', 'DELETE'] as const) {
    app.route({ method, url: '/os-quota-sets/:tenant', handler: async () => {
      throw new NovaError(501, 'Kova serves Nova\'s default quotas read-only: quota changes are not supported yet.');
    } });
  }
  app.get('/extensions', async () => ({ extensions: [] }));
}
