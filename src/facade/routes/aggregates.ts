// /os-aggregates (admin): backed by the Aggregate resource, whose controller labels the Nodes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AGGREGATES, type Aggregate } from '../../api/aggregate.ts';
import { badRequest, conflict, notFound } from '../../nova/faults.ts';
import { naiveTime } from '../../nova/views/links.ts';
import type { FacadeDeps } from '../app.ts';
import { validate, type Schema } from '../validate.ts';
import { cacheCatchUp, callerClient, patchFresh, requireAdmin } from './common.ts';
import { ZONE_LABEL } from '../../api/labels.ts';

const AZ = { type: ['string', 'null'], minLength: 1, maxLength: 255 };
const NAME = { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' };

export function aggregateView(req: FastifyRequest, a: Aggregate): Record<string, unknown> {
  const metadata: Record<string, string> = { ...a.spec.metadata };
  if (a.spec.availabilityZone) metadata.availability_zone = a.spec.availabilityZone;
  return {
    availability_zone: a.spec.availabilityZone ?? null,
    created_at: naiveTime(a.metadata.creationTimestamp),
    deleted: false,
    deleted_at: null,
    hosts: a.spec.hosts ?? [],
    id: a.spec.id ?? 0,
    metadata,
    name: a.spec.name,
    updated_at: null,
    ...(req.nova.version.atLeast('2.41') ? { uuid: a.metadata.uid } : {}),
  };
}

const dnsName = (name: string, id: number): string => {
  const n = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
  return `${n || 'aggregate'}-${id}`;
};

export function registerAggregateRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;
  const admin = (rule: string) => async (req: FastifyRequest) => requireAdmin(req, `os_compute_api:os-aggregates:${rule}`);
  const find = (id: string): Aggregate => {
    const a = c.aggregates.list().find((x) => String(x.spec.id) === id || x.metadata.uid === id);
    if (!a) throw notFound(`Aggregate ${id} could not be found.`);
    return a;
  };
  const update = (req: FastifyRequest, a: Aggregate, change: (current: Aggregate) => Record<string, unknown>): Promise<Aggregate> =>
    patchFresh(deps, req, c.aggregates, a, (cur) => ({ spec: change(cur) }));
  const patch = (req: FastifyRequest, a: Aggregate, spec: Record<string, unknown>): Promise<Aggregate> => update(req, a, () => spec);
  const uniqueName = (name: string, except?: Aggregate): void => {
    if (c.aggregates.list().some((x) => x.spec.name === name && x !== except)) throw conflict(`Aggregate ${name} already exists.`);
  };

  app.get('/os-aggregates', { onRequest: admin('index') }, async (req) => ({
    aggregates: c.aggregates.list().sort((a, b) => (a.spec.id ?? 0) - (b.spec.id ?? 0)).map((a) => aggregateView(req, a)),
  }));
  app.post('/os-aggregates', { onRequest: admin('create') }, async (req) => {
    const body = validate<{ aggregate: { name: string; availability_zone?: string | null } }>({
      type: 'object', required: ['aggregate'], additionalProperties: false,
      properties: { aggregate: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: NAME, availability_zone: AZ } } },
    } as Schema, req.body).aggregate;
    uniqueName(body.name);
    const id = Math.max(0, ...c.aggregates.list().map((a) => a.spec.id ?? 0)) + 1;
    const created = await callerClient(deps, req).create<Aggregate>(AGGREGATES, {
      metadata: { name: dnsName(body.name, id) },
      spec: { id, name: body.name, ...(body.availability_zone ? { availabilityZone: body.availability_zone } : {}) },
    });
    await cacheCatchUp(c.aggregates, () => !!c.aggregates.get(created.metadata.name ?? ''));
    const view = aggregateView(req, created);
    // Nova's create response has no hosts or metadata yet.
    delete view.hosts;
    delete view.metadata;
    return { aggregate: view };
  });
  app.get('/os-aggregates/:id', { onRequest: admin('show') }, async (req) => ({ aggregate: aggregateView(req, find((req.params as { id: string }).id)) }));
  app.put('/os-aggregates/:id', { onRequest: admin('update') }, async (req) => {
    const a = find((req.params as { id: string }).id);
    const body = validate<{ aggregate: { name?: string; availability_zone?: string | null } }>({
      type: 'object', required: ['aggregate'], additionalProperties: false,
      properties: { aggregate: { type: 'object', minProperties: 1, additionalProperties: false, properties: { name: NAME, availability_zone: AZ } } },
    } as Schema, req.body).aggregate;
    if (body.name !== undefined) uniqueName(body.name, a);
    const spec: Record<string, unknown> = {};
    if (body.name !== undefined) spec.name = body.name;
    if (body.availability_zone !== undefined) spec.availabilityZone = body.availability_zone;
    return { aggregate: aggregateView(req, await patch(req, a, spec)) };
  });
  app.delete('/os-aggregates/:id', { onRequest: admin('delete') }, async (req, reply) => {
    const a = find((req.params as { id: string }).id);
    if (a.spec.hosts?.length) throw badRequest(`Cannot perform action 'delete' on aggregate ${a.spec.id}. Reason: Host aggregate is not empty.`);
    await callerClient(deps, req).delete(AGGREGATES, a.metadata.name ?? '');
    return reply.code(200).send();
  });
  // 2.81: ask hosts to pre-cache images. CDI imports an image into a volume when a server needs it,
  // so there is nothing to warm: the request is checked and accepted.
  app.post('/os-aggregates/:id/images', { onRequest: admin('images') }, async (req, reply) => {
    if (!req.nova.version.atLeast('2.81')) throw notFound('The resource could not be found.');
    find((req.params as { id: string }).id);
    const body = validate<{ cache: { id: string }[] }>({
      type: 'object', required: ['cache'], additionalProperties: false,
      properties: { cache: { type: 'array', minItems: 1, items: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', format: 'uuid' } } } } },
    } as Schema, req.body);
    for (const { id } of body.cache) if (!c.images.byIndex('uid', id).length) throw badRequest(`Image ${id} could not be found.`);
    return reply.code(202).send();
  });
  app.post('/os-aggregates/:id/action', { onRequest: admin('update') }, async (req) => {
    const a = find((req.params as { id: string }).id);
    const hostBody = { type: 'object', required: ['host'], additionalProperties: false, properties: { host: { type: 'string', minLength: 1, maxLength: 255 } } };
    const body = validate<{ add_host?: { host: string }; remove_host?: { host: string }; set_metadata?: { metadata: Record<string, string | null> } }>({
      type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: false,
      properties: {
        add_host: hostBody,
        remove_host: hostBody,
        set_metadata: { type: 'object', required: ['metadata'], additionalProperties: false, properties: { metadata: { type: 'object', minProperties: 1, patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: ['string', 'null'], maxLength: 255 } }, additionalProperties: false } } },
      },
    } as Schema, req.body);
    const hosts = new Set(a.spec.hosts ?? []);
    if (body.add_host) {
      const host = body.add_host.host;
      if (!c.nodes.get(host)) throw notFound(`Compute host ${host} could not be found.`);
      if (hosts.has(host)) throw conflict(`Aggregate ${a.spec.id} already has host ${host}.`);
      // A host is in one availability zone only: Nova refuses to move it through another aggregate.
      const zone = c.nodes.get(host)?.metadata.labels?.[ZONE_LABEL];
      if (a.spec.availabilityZone && zone && zone !== a.spec.availabilityZone) {
        throw badRequest(`Cannot add host to aggregate ${a.spec.id}. Reason: One or more hosts already in availability zone(s) ['${zone}'].`);
      }
      return { aggregate: aggregateView(req, await update(req, a, (cur) => ({ hosts: [...new Set([...(cur.spec.hosts ?? []), host])] }))) };
    }
    if (body.remove_host) {
      const host = body.remove_host.host;
      if (!hosts.has(host)) throw notFound(`Cannot remove host ${host} in aggregate ${a.spec.id}: not found`);
      return { aggregate: aggregateView(req, await update(req, a, (cur) => ({ hosts: (cur.spec.hosts ?? []).filter((h) => h !== host) }))) };
    }
    const md = { ...(body.set_metadata?.metadata ?? {}) };
    const spec: Record<string, unknown> = {};
    if ('availability_zone' in md) {
      spec.availabilityZone = md.availability_zone;
      delete md.availability_zone;
    }
    if (Object.keys(md).length) spec.metadata = md;
    return { aggregate: aggregateView(req, await patch(req, a, spec)) };
  });
}
