// /flavors: list, detail, show, create, update (2.55), delete; os-extra_specs; os-flavor-access.
import { randomUUID, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FLAVORS, type Flavor } from '../../api/flavor.ts';
import { badRequest, conflict, notFound, versionNotFound } from '../../nova/faults.ts';
import { flavorDetail, flavorId, flavorSummary } from '../../nova/views/flavors.ts';
import { nextLink } from '../../nova/views/links.ts';
import type { FacadeDeps } from '../app.ts';
import { validate, S, type Schema } from '../validate.ts';
import { cacheCatchUp, callerClient, writeSeen, patchFresh, isTrueish, last, page, requireAdmin, viewContext, checkQuery } from './common.ts';

type Query = Record<string, string | string[] | undefined>;

const createSchema = (v55: boolean): Schema => ({
  type: 'object',
  required: ['flavor'],
  additionalProperties: false,
  properties: {
    flavor: {
      type: 'object',
      required: ['name', 'ram', 'vcpus', 'disk'],
      additionalProperties: false,
      properties: {
        name: { ...S.name },
        id: { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' },
        ram: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
        vcpus: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
        disk: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0 },
        'OS-FLV-EXT-DATA:ephemeral': { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0 },
        swap: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0 },
        rxtx_factor: { type: ['number', 'string'], minimum: 0 },
        'os-flavor-access:is_public': { type: ['boolean', 'string'] },
        ...(v55 ? { description: S.nullableString(65535) } : {}),
      },
    },
  },
});

const extraSpecsSchema: Schema = {
  type: 'object',
  required: ['extra_specs'],
  additionalProperties: false,
  properties: { extra_specs: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: ['string', 'number', 'boolean'], maxLength: 255 } }, additionalProperties: false } },
};

const toInt = (v: unknown): number => (typeof v === 'string' ? Number.parseInt(v || '0', 10) : Number(v ?? 0));

/** A DNS-1123 name for a flavor created through the API: its name or id if they fit, else a hash. */
function metadataNameFor(name: string, id: string): string {
  for (const c of [name.toLowerCase(), id.toLowerCase()]) if (/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(c) && !c.includes('..')) return c;
  return `flavor-${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}

export function registerFlavorRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;
  const find = (id: string): Flavor => {
    const f = c.flavors.byIndex('id', id)[0];
    if (!f) throw notFound(`Flavor ${id} could not be found.`);
    return f;
  };
  const visible = async (req: FastifyRequest, q: Query): Promise<Flavor[]> => {
    const admin = await req.nova.isAdmin();
    const project = req.nova.project?.id;
    const raw = last(q.is_public);
    const isPublic = raw === undefined ? true : raw.toLowerCase() === 'none' ? undefined : isTrueish(raw);
    if (raw !== undefined && raw.toLowerCase() !== 'none' && isPublic === undefined) throw badRequest(`Invalid is_public filter [${raw}]`);
    let list = c.flavors.list().filter((f) => {
      const pub = f.spec.isPublic !== false;
      const access = pub || (project !== undefined && (f.spec.projects ?? []).includes(project));
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
    const keyOf: Record<string, (f: Flavor) => string | number> = {
      flavorid: flavorId, id: flavorId, name: (f) => f.spec.name, memory_mb: (f) => f.spec.ramMiB, vcpus: (f) => f.spec.vcpus,
      root_gb: (f) => f.spec.diskGiB ?? 0, ephemeral_gb: (f) => f.spec.ephemeralGiB ?? 0, swap: (f) => f.spec.swapMiB ?? 0, created_at: (f) => f.metadata.creationTimestamp ?? '',
    };
    const k = keyOf[key];
    if (!k) throw badRequest(`Invalid sort_key ${key}`);
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort_dir ${dir}`);
    list.sort((a, b) => {
      const x = k(a);
      const y = k(b);
      const r = x < y ? -1 : x > y ? 1 : 0;
      return dir === 'asc' ? r : -r;
    });
    return list;
  };

  for (const detail of [false, true]) {
    app.get(detail ? '/flavors/detail' : '/flavors', async (req) => {
      checkQuery(req, ['is_public', 'minRam', 'minDisk', 'sort_key', 'sort_dir', 'limit', 'marker', 'name']);
      const q = req.query as Query;
      const vc = await viewContext(req);
      const { items, full, limit } = page(await visible(req, q), flavorId, { limit: last(q.limit), marker: last(q.marker) });
      const body: Record<string, unknown> = { flavors: items.map((f) => (detail ? flavorDetail(vc, f) : flavorSummary(vc, f))) };
      if (full && items.length) body.flavors_links = nextLink(vc, detail ? 'flavors/detail' : 'flavors', q, flavorId(items.at(-1)!), limit);
      return body;
    });
  }

  app.get('/flavors/:id', async (req) => {
    const f = find((req.params as { id: string }).id);
    return { flavor: flavorDetail(await viewContext(req), f) };
  });

  app.post('/flavors', async (req) => {
    await requireAdmin(req, 'os_compute_api:os-flavor-manage:create');
    const v = req.nova.version;
    const body = validate<{ flavor: Record<string, unknown> }>(createSchema(v.atLeast('2.55')), req.body).flavor;
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
    const created = await callerClient(deps, req).create<Flavor>(FLAVORS, { metadata: { name: metadataNameFor(name, id) }, spec });
    await cacheCatchUp(c.flavors, () => c.flavors.byIndex('id', id).length > 0);
    return { flavor: flavorDetail(await viewContext(req), created) };
  });

  app.put('/flavors/:id', async (req) => {
    if (!req.nova.version.atLeast('2.55')) throw versionNotFound();
    await requireAdmin(req, 'os_compute_api:os-flavor-manage:update');
    const body = validate<{ flavor: { description: string | null } }>({
      type: 'object', required: ['flavor'], additionalProperties: false,
      properties: { flavor: { type: 'object', required: ['description'], additionalProperties: false, properties: { description: S.nullableString(65535) } } },
    }, req.body);
    const f = find((req.params as { id: string }).id);
    const updated = await writeSeen(c.flavors, f, () => callerClient(deps, req).mergePatch<Flavor>(FLAVORS, f.metadata.name ?? '', undefined, { spec: { description: body.flavor.description } }));
    return { flavor: flavorDetail(await viewContext(req), updated) };
  });

  app.delete('/flavors/:id', async (req, reply) => {
    await requireAdmin(req, 'os_compute_api:os-flavor-manage:delete');
    const f = find((req.params as { id: string }).id);
    await callerClient(deps, req).delete(FLAVORS, f.metadata.name ?? '');
    await cacheCatchUp(c.flavors, () => !c.flavors.get(f.metadata.name ?? ''));
    return reply.code(202).send();
  });

  // Extra specs.
  app.get('/flavors/:id/os-extra_specs', async (req) => ({ extra_specs: find((req.params as { id: string }).id).spec.extraSpecs ?? {} }));
  app.get('/flavors/:id/os-extra_specs/:key', async (req) => {
    const { id, key } = req.params as { id: string; key: string };
    const value = find(id).spec.extraSpecs?.[key];
    if (value === undefined) throw notFound(`Flavor ${id} has no extra specs with key ${key}.`);
    return { [key]: value };
  });
  const patchExtraSpecs = async (req: FastifyRequest, id: string, changes: Record<string, string | null>): Promise<Flavor> => {
    const f = find(id);
    return writeSeen(c.flavors, f, () => callerClient(deps, req).mergePatch<Flavor>(FLAVORS, f.metadata.name ?? '', undefined, { spec: { extraSpecs: changes } }));
  };
  app.post('/flavors/:id/os-extra_specs', async (req) => {
    await requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:create');
    const body = validate<{ extra_specs: Record<string, unknown> }>(extraSpecsSchema, req.body);
    const changes = Object.fromEntries(Object.entries(body.extra_specs).map(([k, v]) => [k, String(v)]));
    const f = await patchExtraSpecs(req, (req.params as { id: string }).id, changes);
    return { extra_specs: f.spec.extraSpecs ?? {} };
  });
  app.put('/flavors/:id/os-extra_specs/:key', async (req) => {
    await requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:update');
    const { id, key } = req.params as { id: string; key: string };
    const body = validate<Record<string, unknown>>({ type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: 255 } }, req.body);
    if (!(key in body)) throw badRequest('Request body and URI mismatch');
    await patchExtraSpecs(req, id, { [key]: String(body[key]) });
    return { [key]: String(body[key]) };
  });
  app.delete('/flavors/:id/os-extra_specs/:key', async (req, reply) => {
    await requireAdmin(req, 'os_compute_api:os-flavor-extra-specs:delete');
    const { id, key } = req.params as { id: string; key: string };
    if (find(id).spec.extraSpecs?.[key] === undefined) throw notFound(`Flavor ${id} has no extra specs with key ${key}.`);
    await patchExtraSpecs(req, id, { [key]: null });
    return reply.code(200).send();
  });

  // Flavor access.
  const accessList = (f: Flavor) => ({ flavor_access: (f.spec.projects ?? []).map((tenant_id) => ({ flavor_id: flavorId(f), tenant_id })) });
  app.get('/flavors/:id/os-flavor-access', async (req) => {
    await requireAdmin(req, 'os_compute_api:os-flavor-access');
    const f = find((req.params as { id: string }).id);
    if (f.spec.isPublic !== false) throw notFound('Access list not available for public flavors.');
    return accessList(f);
  });
  app.post('/flavors/:id/action', async (req) => {
    await requireAdmin(req, 'os_compute_api:os-flavor-access');
    const id = (req.params as { id: string }).id;
    const body = validate<{ addTenantAccess?: { tenant: string }; removeTenantAccess?: { tenant: string } }>({
      type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: false,
      properties: Object.fromEntries(['addTenantAccess', 'removeTenantAccess'].map((a) => [a, { type: 'object', required: ['tenant'], additionalProperties: false, properties: { tenant: { type: 'string', minLength: 1, maxLength: 255 } } }])),
    }, req.body);
    const f = find(id);
    const projects = new Set(f.spec.projects ?? []);
    if (body.addTenantAccess) {
      if (f.spec.isPublic !== false) throw conflict('Can not add access to a public flavor.');
      if (projects.has(body.addTenantAccess.tenant)) throw conflict(`Flavor access already exists for flavor ${id} and project ${body.addTenantAccess.tenant} combination.`);
    } else if (body.removeTenantAccess) {
      if (!projects.has(body.removeTenantAccess.tenant)) throw notFound(`Flavor access not found for ${id} / ${body.removeTenantAccess.tenant} combination.`);
    }
    const add = body.addTenantAccess?.tenant;
    const remove = body.removeTenantAccess?.tenant;
    const updated = await patchFresh(deps, req, c.flavors, f, (cur) => ({
      spec: { projects: [...new Set([...(cur.spec.projects ?? []), ...(add ? [add] : [])])].filter((p) => p !== remove) },
    }));
    return accessList(updated);
  });
}
