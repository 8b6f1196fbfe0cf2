// A read-only Neutron v2.0 (/networking, docs/adr/017): the pod network, its subnets and the ports
// of the servers' interfaces, with Neutron's filters, fields, sorting, paging and error bodies.
// Enough for clients that read a server's networks from Neutron (Terraform's OpenStack provider,
// `openstack network list`, `openstack port list --server`). Writes answer Neutron's policy 403
// until writable networks come (NetworkAttachmentDefinitions).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GROUP } from '../../api/group.ts';
import { serverPortFacts } from '../../compute/network.ts';
import type { Caller } from '../../identity/auth.ts';
import { podNetwork, podSubnets, serverPorts, visibleTo, type NeutronResource } from '../../neutron/model.ts';
import { listBody, NeutronError, neutronErrorBody, selectFields, type NeutronQuery } from '../../neutron/query.ts';
import {
  ATTRIBUTES, COLLECTIONS, extensionShown, extensionsList, neutronResources, neutronVersions, notFound, unauthenticatedBody, writeRefused, type Collection,
} from '../../neutron/views.ts';
import { originOf } from '../origin.ts';

interface NeutronCaller {
  caller: Caller;
  admin: boolean;
}

export async function neutronRoutes(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof NeutronError) return reply.code(err.code).send(neutronErrorBody(err));
    const e = err as { statusCode?: number; code?: number | string; message?: string };
    const code = typeof e.code === 'number' ? e.code : e.statusCode;
    if (code && code >= 400 && code < 500) return reply.code(code).send(neutronErrorBody(new NeutronError(code, 'HTTPBadRequest', e.message ?? 'Bad request')));
    req.server.kova.log.error('unexpected error', { err, requestId: req.requestId, url: req.url });
    return reply.code(500).send(neutronErrorBody(new NeutronError(500, 'HTTPInternalServerError', 'Request Failed: internal server error while processing your request.')));
  });
  const base = (req: FastifyRequest): string => `${originOf(req)}/networking`;
  app.get('/', async (req) => neutronVersions(base(req)));
  for (const path of ['/v2.0', '/v2.0/']) app.get(path, async (req, reply) => (await authed(req, reply)) && neutronResources(base(req)));
  app.get('/v2.0/extensions', async (req, reply) => (await authed(req, reply)) && extensionsList());
  app.get('/v2.0/extensions/:alias', async (req, reply) => (await authed(req, reply)) && extensionShown((req.params as { alias: string }).alias));
  for (const collection of Object.keys(COLLECTIONS) as Collection[]) {
    app.get(`/v2.0/${collection}`, async (req, reply) => {
      const who = await authed(req, reply);
      if (!who) return reply;
      const q = req.query as NeutronQuery;
      return listBody(collection, await visible(req, who, collection), q, ATTRIBUTES[collection], `${base(req)}/v2.0/${collection}`);
    });
    app.get(`/v2.0/${collection}/:id`, async (req, reply) => {
      const who = await authed(req, reply);
      if (!who) return reply;
      const id = (req.params as { id: string }).id;
      const r = (await visible(req, who, collection)).find((x) => x.id === id);
      if (!r) throw notFound(collection, id);
      return { [COLLECTIONS[collection]]: selectFields(r, req.query as NeutronQuery) };
    });
    const refuse = (action: 'create' | 'update' | 'delete') => async (req: FastifyRequest, reply: FastifyReply) => {
      if (await authed(req, reply)) throw writeRefused(action, collection);
      return reply;
    };
    app.post(`/v2.0/${collection}`, refuse('create'));
    app.put(`/v2.0/${collection}/:id`, refuse('update'));
    app.delete(`/v2.0/${collection}/:id`, refuse('delete'));
  }
  app.all('/*', async () => {
    throw new NeutronError(404, 'HTTPNotFound', 'The resource could not be found.');
  });
}

/** The caller, or keystonemiddleware's 401 (then undefined). */
async function authed(req: FastifyRequest, reply: FastifyReply): Promise<NeutronCaller | undefined> {
  const { authn, authz } = req.server.kova;
  const caller = await authn.authenticate(String(req.headers['x-auth-token'] ?? ''));
  if (!caller) {
    reply.code(401).header('www-authenticate', `Keystone uri="${originOf(req)}/identity"`).send(unauthenticatedBody());
    return undefined;
  }
  return { caller, admin: await authz.isAdmin(caller) };
}

/**
 * The resources of a collection the caller may see, as they may see them: the pod network and its
 * subnets are shared with everyone; ports are those of the servers of the caller's project (who
 * must be able to list servers there), every project's for admins.
 */
async function visible(req: FastifyRequest, who: NeutronCaller, collection: Collection): Promise<NeutronResource[]> {
  const { caches, network, authz } = req.server.kova;
  let all: NeutronResource[];
  if (collection === 'networks') all = [podNetwork(network)];
  else if (collection === 'subnets') all = podSubnets(network);
  else {
    const ns = who.caller.project?.namespace;
    const servers = who.admin
      ? caches.servers.list()
      : ns && (await authz.can(who.caller, { verb: 'list', group: GROUP, resource: 'servers', namespace: ns })) ? caches.servers.list(ns) : [];
    all = servers.flatMap((s) => serverPorts(network, serverPortFacts(caches, s, network.name)));
  }
  return all.map((r) => visibleTo(collection, r, who.admin));
}
