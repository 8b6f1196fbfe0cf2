// /os-aggregates (admin): backed by the Aggregate resource, whose controller labels the Nodes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AGGREGATES, type Aggregate } from '../../api/aggregate.ts';
import { UPDATED_AT_ANNOTATION, ZONE_LABEL } from '../../api/labels.ts';
import { badRequest, conflict, notFound } from '../../nova/faults.ts';
import { aggregateCreated, aggregateList, aggregateShown } from '../../nova/views/aggregates.ts';
import { AGGREGATE_ACTION, CACHE_IMAGES, CREATE_AGGREGATE, UPDATE_AGGREGATE } from '../schemas/aggregates.ts';
import { knownAction } from '../action-body.ts';
import { validate } from '../validate.ts';
import { cacheCatchUp, callerClient, idParam, patchFresh, requireAdmin } from './common.ts';
import { dnsLabel } from '../../nova/hostname.ts';

const admin = (rule: string) => async (req: FastifyRequest) => requireAdmin(req, `os_compute_api:os-aggregates:${rule}`);

export async function aggregateRoutes(app: FastifyInstance): Promise<void> {
  app.get('/os-aggregates', { onRequest: admin('index') }, listAggregates);
  app.post('/os-aggregates', { onRequest: admin('create') }, createAggregate);
  app.get('/os-aggregates/:id', { onRequest: admin('show') }, showAggregate);
  app.put('/os-aggregates/:id', { onRequest: admin('update') }, updateAggregate);
  app.delete('/os-aggregates/:id', { onRequest: admin('delete') }, deleteAggregate);
  app.post('/os-aggregates/:id/images', { onRequest: admin('images') }, cacheImages);
  app.post('/os-aggregates/:id/action', { onRequest: admin('update') }, aggregateAction);
}

/** An aggregate by Nova id (or uuid). */
function find(req: FastifyRequest): Aggregate {
  const id = idParam(req);
  const a = req.server.kova.caches.aggregates.list().find((x) => String(x.spec.id) === id || x.metadata.uid === id);
  if (!a) throw notFound(`Aggregate ${id} could not be found.`);
  return a;
}

/**
 * Patches the aggregate's spec as the caller, stamped with the time (Nova's updated_at); `change`
 * may depend on its current state (re-read on conflict).
 */
const update = (req: FastifyRequest, a: Aggregate, change: (current: Aggregate) => Record<string, unknown>): Promise<Aggregate> =>
  patchFresh(req, req.server.kova.caches.aggregates, a, (cur) => ({ metadata: { annotations: { [UPDATED_AT_ANNOTATION]: new Date().toISOString() } }, spec: change(cur) }));

function uniqueName(req: FastifyRequest, name: string, except?: Aggregate): void {
  if (req.server.kova.caches.aggregates.list().some((x) => x.spec.name === name && x !== except)) throw conflict(`Aggregate ${name} already exists.`);
}

/** A DNS-1123 object name for an aggregate made through the API. */
const dnsName = (name: string, id: number): string => {
  const n = dnsLabel(name, 50);
  return `${n || 'aggregate'}-${id}`;
};

async function listAggregates(req: FastifyRequest) {
  return aggregateList(req.nova.version, req.server.kova.caches.aggregates.list());
}

async function createAggregate(req: FastifyRequest) {
  const c = req.server.kova.caches;
  const body = validate<{ aggregate: { name: string; availability_zone?: string | null } }>(CREATE_AGGREGATE, req.body).aggregate;
  uniqueName(req, body.name);
  const id = Math.max(0, ...c.aggregates.list().map((a) => a.spec.id ?? 0)) + 1;
  const created = await callerClient(req).create<Aggregate>(AGGREGATES, {
    metadata: { name: dnsName(body.name, id) },
    spec: { id, name: body.name, ...(body.availability_zone ? { availabilityZone: body.availability_zone } : {}) },
  });
  await cacheCatchUp(c.aggregates, () => !!c.aggregates.get(created.metadata.name ?? ''));
  return aggregateCreated(req.nova.version, created);
}

async function showAggregate(req: FastifyRequest) {
  return aggregateShown(req.nova.version, find(req));
}

async function updateAggregate(req: FastifyRequest) {
  const a = find(req);
  const body = validate<{ aggregate: { name?: string; availability_zone?: string | null } }>(UPDATE_AGGREGATE, req.body).aggregate;
  if (body.name !== undefined) uniqueName(req, body.name, a);
  const spec: Record<string, unknown> = {};
  if (body.name !== undefined) spec.name = body.name;
  if (body.availability_zone !== undefined) spec.availabilityZone = body.availability_zone;
  return aggregateShown(req.nova.version, await update(req, a, () => spec));
}

async function deleteAggregate(req: FastifyRequest, reply: FastifyReply) {
  const a = find(req);
  if (a.spec.hosts?.length) throw badRequest(`Cannot perform action 'delete' on aggregate ${a.spec.id}. Reason: Host aggregate is not empty.`);
  await callerClient(req).delete(AGGREGATES, a.metadata.name ?? '');
  return reply.code(200).send();
}

/**
 * 2.81: ask hosts to pre-cache images. CDI imports an image into a volume when a server needs it,
 * so there is nothing to warm: the request is checked and accepted.
 */
async function cacheImages(req: FastifyRequest, reply: FastifyReply) {
  if (!req.nova.version.atLeast('2.81')) throw notFound('The resource could not be found.');
  find(req);
  const body = validate<{ cache: { id: string }[] }>(CACHE_IMAGES, req.body);
  for (const { id } of body.cache) if (!req.server.kova.caches.images.byIndex('uid', id).length) throw badRequest(`Image ${id} could not be found.`);
  return reply.code(202).send();
}

async function aggregateAction(req: FastifyRequest) {
  const nodes = req.server.kova.caches.nodes;
  const v = req.nova.version;
  const a = find(req);
  knownAction(req.body, ['add_host', 'remove_host', 'set_metadata']);
  const body = validate<{ add_host?: { host: string }; remove_host?: { host: string }; set_metadata?: { metadata: Record<string, string | null> } }>(AGGREGATE_ACTION, req.body);
  const hosts = new Set(a.spec.hosts ?? []);
  if (body.add_host) {
    const host = body.add_host.host;
    if (!nodes.get(host)) throw notFound(`Compute host ${host} could not be found.`);
    if (hosts.has(host)) throw conflict(`Aggregate ${a.spec.id} already has host ${host}.`);
    // A host is in one availability zone only: Nova refuses to move it through another aggregate.
    const zone = nodes.get(host)?.metadata.labels?.[ZONE_LABEL];
    if (a.spec.availabilityZone && zone && zone !== a.spec.availabilityZone) {
      throw badRequest(`Cannot add host to aggregate ${a.spec.id}. Reason: One or more hosts already in availability zone(s) ['${zone}'].`);
    }
    return aggregateShown(v, await update(req, a, (cur) => ({ hosts: [...new Set([...(cur.spec.hosts ?? []), host])] })));
  }
  if (body.remove_host) {
    const host = body.remove_host.host;
    if (!hosts.has(host)) throw notFound(`Cannot remove host ${host} in aggregate ${a.spec.id}: not found`);
    return aggregateShown(v, await update(req, a, (cur) => ({ hosts: (cur.spec.hosts ?? []).filter((h) => h !== host) })));
  }
  const md = { ...(body.set_metadata?.metadata ?? {}) };
  const spec: Record<string, unknown> = {};
  if ('availability_zone' in md) {
    spec.availabilityZone = md.availability_zone;
    delete md.availability_zone;
  }
  if (Object.keys(md).length) spec.metadata = md;
  return aggregateShown(v, await update(req, a, () => spec));
}
