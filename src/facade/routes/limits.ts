// /limits, /os-quota-sets and /os-quota-class-sets: Nova's quotas, kept in QuotaSet objects
// (docs/adr/019). Reads come from the caches; changes are written as the caller (an admin), after
// Nova's checks (a limit not below what is in use, a user's not above the project's).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type QuotaSet } from '../../api/quotaset.ts';
import { groupsOf, holdingsOf, kovaNamespace, limitsFor, QUOTASETS, quotaSetsOf, userQuotaName } from '../../compute/quotas.ts';
import { badRequest, notFound } from '../../nova/faults.ts';
import { CLASS_QUOTA_NAME, checkNewLimit, limitsOf, PROJECT_QUOTA_NAME, QUOTA_RESOURCES, specOf, usageOf, type Limits, type QuotaKey, type Usage } from '../../nova/quotas.ts';
import { limitsView, quotaClassSetView, quotaSetView } from '../../nova/views/limits.ts';
import { last, type Query } from '../query.ts';
import { quotaClassUpdateSchema, quotaSetUpdateSchema } from '../schemas/limits.ts';
import { validate } from '../validate.ts';
import { cacheCatchUp, callerClient, checkQuery, requireAdmin, requireProject } from './common.ts';

export async function limitRoutes(app: FastifyInstance): Promise<void> {
  app.get('/limits', showLimits);
  app.get('/os-quota-sets/:tenant', (req) => showQuotaSet(req, false));
  app.get('/os-quota-sets/:tenant/detail', (req) => showQuotaSet(req, true));
  app.get('/os-quota-sets/:tenant/defaults', showDefaultQuotaSet);
  app.put('/os-quota-sets/:tenant', updateQuotaSet);
  app.delete('/os-quota-sets/:tenant', deleteQuotaSet);
  app.get('/os-quota-class-sets/:id', showQuotaClassSet);
  app.put('/os-quota-class-sets/:id', updateQuotaClassSet);
}

const tenantParam = (req: FastifyRequest): string => (req.params as { tenant: string }).tenant;
const userParam = (req: FastifyRequest): string | undefined => last((req.query as Query).user_id) || undefined;

/** What a project (or one of its users) uses, from the caches. */
function usage(req: FastifyRequest, namespace: string, userId?: string): Usage {
  const c = req.server.kova.caches;
  return usageOf({ ...holdingsOf(c, c.servers.list(namespace), c.keyPairs.list(namespace)), serverGroups: groupsOf(c.serverGroups.list(namespace)) }, userId);
}

/** The namespace of the project asked about: the caller's own, or (admins) another; `rule` names Nova's policy. */
async function projectNamespace(req: FastifyRequest, tenant: string | undefined, rule: string): Promise<string> {
  const own = req.nova.project;
  if (!tenant || tenant === own?.id || tenant === own?.namespace) return requireProject(req).namespace;
  await requireAdmin(req, rule);
  const p = req.server.kova.caches.projectByIdOrName(tenant);
  if (!p) throw notFound(`Project ${tenant} could not be found.`);
  return p.namespace;
}

const limits = (req: FastifyRequest, namespace: string, userId?: string): Limits => limitsFor(req.server.kova.caches, req.server.kova.cfg, namespace, userId);

async function showLimits(req: FastifyRequest) {
  checkQuery(req, ['tenant_id']);
  const ns = await projectNamespace(req, (req.query as Record<string, string>).tenant_id, 'os_compute_api:limits:other_project');
  return limitsView(req.nova.version, limits(req, ns), usage(req, ns));
}

async function showQuotaSet(req: FastifyRequest, detail: boolean) {
  checkQuery(req, ['user_id']);
  const tenant = tenantParam(req);
  const ns = await projectNamespace(req, tenant, `os_compute_api:os-quota-sets:${detail ? 'detail' : 'show'}`);
  const user = userParam(req);
  return quotaSetView(req.nova.version, tenant, limits(req, ns, user), detail ? usage(req, ns, user) : undefined);
}

/** Nova's defaults (the class `default`), whoever asks. */
async function showDefaultQuotaSet(req: FastifyRequest) {
  const k = req.server.kova;
  return quotaSetView(req.nova.version, tenantParam(req), limitsOf(k.caches.quotaSets.get(CLASS_QUOTA_NAME, kovaNamespace(k.cfg))?.spec));
}

/** A limit as a request gives it (an integer, or a string of one) in Nova's range. */
function limitValue(key: string, v: unknown): number {
  const n = typeof v === 'number' ? v : Number.parseInt(String(v), 10);
  if (!Number.isInteger(n) || n < -1 || n > 0x7fffffff) throw badRequest(`Invalid input for field/attribute ${key}. Value: ${String(v)}.`);
  return n;
}

/** The enforced resources a body sets (network quotas, shown until 2.36, are accepted and not kept). */
function requestedLimits(body: Record<string, unknown>): Partial<Record<QuotaKey, number>> {
  const out: Partial<Record<QuotaKey, number>> = {};
  for (const r of QUOTA_RESOURCES) if (body[r.key] !== undefined) out[r.key] = limitValue(r.key, body[r.key]);
  return out;
}

const truthy = (v: unknown): boolean => v === true || (typeof v === 'string' && ['true', '1', 'yes', 'on', 'y', 't'].includes(v.toLowerCase()));

/** Creates or updates a QuotaSet as the caller and waits until the cache shows it. */
async function writeQuotaSet(req: FastifyRequest, namespace: string, name: string, spec: QuotaSet['spec']): Promise<void> {
  const c = req.server.kova.caches;
  const client = callerClient(req);
  const cur = c.quotaSets.get(name, namespace);
  const written = cur
    ? await client.mergePatch<QuotaSet>(QUOTASETS, name, namespace, { spec })
    : await client.create<QuotaSet>(QUOTASETS, { apiVersion: 'compute.kova.io/v1alpha1', kind: 'QuotaSet', metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'kova-api' } }, spec });
  await cacheCatchUp(c.quotaSets, () => Number(c.quotaSets.get(name, namespace)?.metadata.resourceVersion ?? 0) >= Number(written.metadata.resourceVersion));
}

async function updateQuotaSet(req: FastifyRequest) {
  const v = req.nova.version;
  const body = validate<{ quota_set: Record<string, unknown> }>(quotaSetUpdateSchema(v), req.body).quota_set;
  const ns = await projectNamespace(req, tenantParam(req), 'os_compute_api:os-quota-sets:update');
  await requireAdmin(req, 'os_compute_api:os-quota-sets:update');
  const user = userParam(req);
  const values = requestedLimits(body);
  if (!truthy(body.force)) {
    const used = usage(req, ns, user);
    const project = user === undefined ? undefined : limits(req, ns);
    for (const [k, value] of Object.entries(values) as [QuotaKey, number][]) {
      const refusal = checkNewLimit(k, value, used[k] ?? 0, project?.[k]);
      if (refusal) throw badRequest(refusal);
    }
  }
  const existing = quotaSetsOf(req.server.kova.caches, req.server.kova.cfg, ns, user);
  const name = user === undefined ? PROJECT_QUOTA_NAME : existing.user?.metadata.name ?? userQuotaName(user);
  await writeQuotaSet(req, ns, name, { ...specOf(values), ...(user === undefined ? {} : { userId: user }) });
  return quotaSetView(v, undefined, limits(req, ns, user));
}

async function deleteQuotaSet(req: FastifyRequest, reply: FastifyReply) {
  const ns = await projectNamespace(req, tenantParam(req), 'os_compute_api:os-quota-sets:delete');
  await requireAdmin(req, 'os_compute_api:os-quota-sets:delete');
  const c = req.server.kova.caches;
  const user = userParam(req);
  const target = user === undefined ? quotaSetsOf(c, req.server.kova.cfg, ns).project : quotaSetsOf(c, req.server.kova.cfg, ns, user).user;
  if (target) {
    await callerClient(req).delete(QUOTASETS, target.metadata.name ?? '', ns);
    await cacheCatchUp(c.quotaSets, () => !c.quotaSets.get(target.metadata.name ?? '', ns));
  }
  return reply.code(202).send();
}

/** Kova keeps one quota class, `default`: any other answers with its values, as an unset class does in Nova. */
async function showQuotaClassSet(req: FastifyRequest) {
  await requireAdmin(req, 'os_compute_api:os-quota-class-sets:show');
  const k = req.server.kova;
  return quotaClassSetView(req.nova.version, (req.params as { id: string }).id, limitsOf(k.caches.quotaSets.get(CLASS_QUOTA_NAME, kovaNamespace(k.cfg))?.spec));
}

async function updateQuotaClassSet(req: FastifyRequest) {
  const v = req.nova.version;
  const body = validate<{ quota_class_set: Record<string, unknown> }>(quotaClassUpdateSchema(v), req.body).quota_class_set;
  await requireAdmin(req, 'os_compute_api:os-quota-class-sets:update');
  const id = (req.params as { id: string }).id;
  if (id !== CLASS_QUOTA_NAME) throw badRequest(`Kova keeps only the quota class '${CLASS_QUOTA_NAME}'; quota class '${id}' cannot be set.`);
  const k = req.server.kova;
  const ns = kovaNamespace(k.cfg);
  await writeQuotaSet(req, ns, CLASS_QUOTA_NAME, specOf(requestedLimits(body)));
  return quotaClassSetView(v, undefined, limitsOf(k.caches.quotaSets.get(CLASS_QUOTA_NAME, ns)?.spec));
}
