// /flavors: list, detail, show, create, update (2.55), delete; os-extra_specs; os-flavor-access.
import { randomUUID, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FLAVORS, type Flavor } from '../../api/flavor.ts';
import { badRequest, conflict, notFound, versionNotFound } from '../../nova/faults.ts';
import { extraSpecsView, extraSpecView, flavorAccessView, flavorId, flavorList, flavorShown } from '../../nova/views/flavors.ts';
import { isTrueish, last, type Query } from '../query.ts';
import { createFlavorSchema, EXTRA_SPEC_ITEM, EXTRA_SPECS, FLAVOR_ACCESS_ACTION, UPDATE_FLAVOR } from '../schemas/flavors.ts';
import { knownAction } from '../action-body.ts';
import { validate } from '../validate.ts';
import { cacheCatchUp, callerClient, checkQuery, idParam, page, patchFresh, requireAdmin, viewContext, writeSeen } from './common.ts';
import { canUseFlavor } from '../../compute/references.ts';

export async function flavorRoutes(app: FastifyInstance): Promise<void> {
  app.get('/flavors', (req) => listFlavors(req, false));
  app.get('/flavors/detail', (req) => listFlavors(req, true));
  app.get('/flavors/:id', showFlavor);
  app.post('/flavors', createFlavor);
  app.put('/flavors/:id', updateFlavor);
  app.delete('/flavors/:id', deleteFlavor);
  app.get('/flavors/:id/os-extra_specs', listExtraSpecs);
  app.get('/flavors/:id/os-extra_specs/:key', showExtraSpec);
  app.post('/flavors/:id/os-extra_specs', createExtraSpecs);
  app.put('/flavors/:id/os-extra_specs/:key', updateExtraSpec);
  app.delete('/flavors/:id/os-extra_specs/:key', deleteExtraSpec);
  app.get('/flavors/:id/os-flavor-access', listFlavorAccess);
  app.post('/flavors/:id/action', flavorAccessAction);
}

type SpecParams = { id: string; key: string };

const toInt = (v: unknown): number => (typeof v === 'string' ? Number.parseInt(v || '0', 10) : Number(v ?? 0));

/** A DNS-1123 name for a flavor created through the API: its name or id if they fit, else a hash. */
function metadataNameFor(name: string, id: string): string {
  for (const c of [name.toLowerCase(), id.toLowerCase()]) if (/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(c) && !c.includes('..')) return c;
  return `flavor-${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}

function find(req: FastifyRequest, id: string): Flavor {
  const f = req.server.kova.caches.flavors.byIndex('id', id)[0];
  if (!f) throw notFound(`Flavor ${id} could not be found.`);
  return f;
}

/** A flavor the caller may read: a private one only in a project on its access list (or by an admin), as Nova; else 404. */
async function findVisible(req: FastifyRequest, id: string): Promise<Flavor> {
  const f = find(req, id);
  if (!canUseFlavor(f, req.nova.project ?? { namespace: '' }) && !(await req.nova.isAdmin())) throw notFound(`Flavor ${id} could not be found.`);
  return f;
}

const SORT_KEYS: Record<string, (f: Flavor) => string | number> = {
  flavorid: flavorId, id: flavorId, name: (f) => f.spec.name, memory_mb: (f) => f.spec.ramMiB, vcpus: (f) => f.spec.vcpus,
  root_gb: (f) => f.spec.diskGiB ?? 0, ephemeral_gb: (f) => f.spec.ephemeralGiB ?? 0, swap: (f) => f.spec.swapMiB ?? 0, created_at: (f) => f.metadata.creationTimestamp ?? '',
};

/** The flavors the caller may see that match the query (is_public, minRam, minDisk, 2.102 name), sorted. */
async function visible(req: FastifyRequest, q: Query): Promise<Flavor[]> {
  const admin = await req.nova.isAdmin();
  const project = req.nova.project ?? { namespace: '' };
  const raw = last(q.is_public);
  const isPublic = raw === undefined ? true : raw.toLowerCase() === 'none' ? undefined : isTrueish(raw);
  if (raw !== undefined && raw.toLowerCase() !== 'none' && isPublic === undefined) throw badRequest(`Invalid is_public filter [${raw}]`);
  let list = req.server.kova.caches.flavors.list().filter((f) => {
    const pub = f.spec.isPublic !== false;
    const access = canUseFlavor(f, project);
    if (!admin) return isPublic === false ? !pub && access : access;
    return isPublic === undefined ? true : pub === isPublic || (!pub && isPublic && access);
  });
  const minRam = last(q.minRam);
  const minDisk = last(q.minDisk);
  if (minRam !== undefined) list = list.filter((f) => f.spec.ramMiB >= toInt(minRam));
  if (minDisk !== undefined) list = list.filter((f) => (f.spec.diskGiB ?? 0) >= toInt(minDisk));
  const name = last(q.name);
  if (name !== undefined && req.nova.version.atLeast('2.102')) list = list.filter((f) => f.spec.name === name);
  const key = last(q.sort_key) ?? 'flavorid';
  const dir = last(q.sort_dir) ?? 'asc';
  const k = SORT_KEYS[key];
  if (!k) throw badRequest(`Invalid sort_key ${key}`);
  if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort_dir ${dir}`);
  list.sort((a, b) => {
    const x = k(a);
    const y = k(b);
    const r = x < y ? -1 : x > y ? 1 : 0;
    return dir === 'asc' ? r : -r;
  });
  return list;
}

async function listFlavors(req: FastifyRequest, detail: boolean) {
  checkQuery(req, ['is_public', 'minRam', 'minDisk', 'sort_key', 'sort_dir', 'limit', 'marker', 'name']);
  const q = req.query as Query;
  const vc = await viewContext(req);
  return flavorList(vc, page(await visible(req, q), flavorId, { limit: last(q.limit), marker: last(q.marker) }), detail, q);
}

async function showFlavor(req: FastifyRequest) {
  const f = await findVisible(req, idParam(req));
  return flavorShown(await viewContext(req), f);
}

async function createFlavor(req: FastifyRequest) {
  const c = req.server.kova.caches;
  await requireAdmin(req, 'os_compute_api:os-flavor-manage:create');
  const body = validate<{ flavor: Record<string, unknown> }>(createFlavorSchema(req.nova.version), req.body).flavor;
  const id = (body.id as string | null | undefined) ?? randomUUID();
  const name = String(body.name);
  if (c.flavors.byIndex('id', id).length) throw conflict(`Flavor with ID ${id} already exists.`);
  if (c.flavors.list().some((f) => f.spec.name === name)) throw conflict(`Flavor with name ${name} already exists.`);
  const isPublicRaw = body['os-flavor-access:is_public'];
  const isPublic = typeof isPublicRaw === 'string' ? isTrueish(isPublicRaw) ?? true : isPublicRaw !== false;
  const spec: Flavor['spec'] = {
    id, name, vcpus: toInt(body.vcpus), ramMiB: toInt(body.ram), diskGiB: toInt(body.disk),
    ephemeralGiB: toInt(body['OS-FLV-EXT-DATA:ephemeral']), swapMiB: toInt(body.swap), isPublic,
    ...(typeof body.description === 'string' ? { description: body.description } : {}),
  };
  const created = await callerClient(req).create<Flavor>(FLAVORS, { metadata: { name: metadataNameFor(name, id) }, spec });
  await cacheCatchUp(c.flavors, () => c.flavors.byIndex('id', id).length > 0);
  return flavorShown(await viewContext(req), created);
}

async function updateFlavor(req: FastifyRequest) {
  if (!req.nova.version.atLeast('2.55')) throw versionNotFound();
  await requireAdmin(req, 'os_compute_api:os-flavor-manage:update');
  const body = validate<{ flavor: { description: string | null } }>(UPDATE_FLAVOR, req.body);
  const f = find(req, idParam(req));
  const updated = await writeSeen(req.server.kova.caches.flavors, f, () => callerClient(req).mergePatch<Flavor>(FLAVORS, f.metadata.name ?? '', undefined, { spec: { description: body.flavor.description } }));
  return flavorShown(await viewContext(req), updated);
}

async function deleteFlavor(req: FastifyRequest, reply: FastifyReply) {
  const c = req.server.kova.caches;
  await requireAdmin(req, 'os_compute_api:os-flavor-manage:delete');
  const f = find(req, idParam(req));
  await callerClient(req).delete(FLAVORS, f.metadata.name ?? '');
  await cacheCatchUp(c.flavors, () => !c.flavors.get(f.metadata.name ?? ''));
  return reply.code(202).send();
}

// Extra specs.

async function listExtraSpecs(req: FastifyRequest) {
  return extraSpecsView(await findVisible(req, idParam(req)));
}

async function showExtraSpec(req: FastifyRequest) {
  const { id, key } = req.params as SpecParams;
  const value = (await findVisible(req, id)).spec.extraSpecs?.[key];
  if (value === undefined) throw notFound(`Flavor ${id} has no extra specs with key ${key}.`);
  return extraSpecView(key, value);
}

function patchExtraSpecs(req: FastifyRequest, id: string, changes: Record<string, string | null>): Promise<Flavor> {
  const f = find(req, id);
  return writeSeen(req.server.kova.caches.flavors, f, () => callerClient(req).mergePatch<Flavor>(FLAVORS, f.metadata.name ?? '', undefined, { spec: { extraSpecs: changes } }));
}

async function createExtraSpecs(req: FastifyRequest) {
  await requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:create');
  const body = validate<{ extra_specs: Record<string, unknown> }>(EXTRA_SPECS, req.body);
  const changes = Object.fromEntries(Object.entries(body.extra_specs).map(([k, v]) => [k, String(v)]));
  return extraSpecsView(await patchExtraSpecs(req, idParam(req), changes));
}

async function updateExtraSpec(req: FastifyRequest) {
  await requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:update');
  const { id, key } = req.params as SpecParams;
  const body = validate<Record<string, unknown>>(EXTRA_SPEC_ITEM, req.body);
  if (!(key in body)) throw badRequest('Request body and URI mismatch');
  await patchExtraSpecs(req, id, { [key]: String(body[key]) });
  return extraSpecView(key, String(body[key]));
}

async function deleteExtraSpec(req: FastifyRequest, reply: FastifyReply) {
  await requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:delete');
  const { id, key } = req.params as SpecParams;
  if (find(req, id).spec.extraSpecs?.[key] === undefined) throw notFound(`Flavor ${id} has no extra specs with key ${key}.`);
  await patchExtraSpecs(req, id, { [key]: null });
  return reply.code(200).send();
}

// Flavor access.

async function listFlavorAccess(req: FastifyRequest) {
  await requireAdmin(req, 'os_compute_api:os-flavor-access');
  const f = find(req, idParam(req));
  if (f.spec.isPublic !== false) throw notFound('Access list not available for public flavors.');
  return flavorAccessView(f);
}

async function flavorAccessAction(req: FastifyRequest) {
  // Nova reads the action's name before its policy.
  knownAction(req.body, ['addTenantAccess', 'removeTenantAccess']);
  await requireAdmin(req, 'os_compute_api:os-flavor-access');
  const id = idParam(req);
  const body = validate<{ addTenantAccess?: { tenant: string }; removeTenantAccess?: { tenant: string } }>(FLAVOR_ACCESS_ACTION, req.body);
  const f = find(req, id);
  const projects = new Set(f.spec.projects ?? []);
  if (body.addTenantAccess) {
    if (f.spec.isPublic !== false) throw conflict('Can not add access to a public flavor.');
    if (projects.has(body.addTenantAccess.tenant)) throw conflict(`Flavor access already exists for flavor ${id} and project ${body.addTenantAccess.tenant} combination.`);
  } else if (body.removeTenantAccess) {
    if (!projects.has(body.removeTenantAccess.tenant)) throw notFound(`Flavor access not found for ${id} / ${body.removeTenantAccess.tenant} combination.`);
  }
  const add = body.addTenantAccess?.tenant;
  const remove = body.removeTenantAccess?.tenant;
  const updated = await patchFresh(req, req.server.kova.caches.flavors, f, (cur) => ({
    spec: { projects: [...new Set([...(cur.spec.projects ?? []), ...(add ? [add] : [])])].filter((p) => p !== remove) },
  }));
  return flavorAccessView(updated);
}
