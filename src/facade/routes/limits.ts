// /limits with real usage, and read-only /os-quota-sets with Nova's default quotas.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forbidden, NovaError, notFound } from '../../nova/faults.ts';
import { limitsView, quotaSetView, type ProjectUsage } from '../../nova/views/limits.ts';
import { QUOTA_SET_UPDATE } from '../schemas/limits.ts';
import { validate } from '../validate.ts';
import { checkQuery, requireProject } from './common.ts';

export async function limitRoutes(app: FastifyInstance): Promise<void> {
  app.get('/limits', showLimits);
  app.get('/os-quota-sets/:tenant', showQuotaSet);
  app.get('/os-quota-sets/:tenant/detail', showQuotaSetDetail);
  app.get('/os-quota-sets/:tenant/defaults', showDefaultQuotaSet);
  app.put('/os-quota-sets/:tenant', async (req) => {
    validate(QUOTA_SET_UPDATE, req.body);
    return refuseQuotaChange();
  });
  app.delete('/os-quota-sets/:tenant', refuseQuotaChange);
}

const tenantParam = (req: FastifyRequest): string => (req.params as { tenant: string }).tenant;

/** What a project (namespace) uses, from the caches. */
function usage(req: FastifyRequest, namespace: string): ProjectUsage {
  const c = req.server.kova.caches;
  const servers = c.servers.list(namespace);
  return {
    instances: servers.length,
    cores: servers.reduce((a, s) => a + (s.status?.flavor?.vcpus ?? 0), 0),
    ram: servers.reduce((a, s) => a + (s.status?.flavor?.ramMiB ?? 0), 0),
    key_pairs: c.keyPairs.list(namespace).length,
  };
}

/** The namespace of the project asked about: the caller's own, or (admins) another. */
async function projectNamespace(req: FastifyRequest, tenant: string | undefined): Promise<string> {
  const own = req.nova.project;
  if (!tenant || tenant === own?.id || tenant === own?.namespace) return requireProject(req).namespace;
  if (!(await req.nova.isAdmin())) throw forbidden(`Policy doesn't allow os_compute_api:limits:other_project to be performed.`);
  const p = req.server.kova.caches.projectByIdOrName(tenant);
  if (!p) throw notFound(`Project ${tenant} could not be found.`);
  return p.namespace;
}

async function showLimits(req: FastifyRequest) {
  checkQuery(req, ['tenant_id']);
  return limitsView(req.nova.version, usage(req, await projectNamespace(req, (req.query as Record<string, string>).tenant_id)));
}

async function showQuotaSet(req: FastifyRequest) {
  const tenant = tenantParam(req);
  await projectNamespace(req, tenant);
  return quotaSetView(req.nova.version, tenant);
}

async function showQuotaSetDetail(req: FastifyRequest) {
  const tenant = tenantParam(req);
  return quotaSetView(req.nova.version, tenant, usage(req, await projectNamespace(req, tenant)));
}

async function showDefaultQuotaSet(req: FastifyRequest) {
  return quotaSetView(req.nova.version, tenantParam(req));
}

async function refuseQuotaChange(): Promise<never> {
  throw new NovaError(501, 'Kova serves Nova\'s default quotas read-only: quota changes are not supported yet.');
}
