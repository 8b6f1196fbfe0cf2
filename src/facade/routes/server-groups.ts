// /os-server-groups: list (all_projects for admins, limit / offset), show, create, delete. Backed by
// the ServerGroup resource; a group's members are read from the Server cache (docs/adr/020).
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GROUP } from '../../api/group.ts';
import { SERVER_GROUPS, type ServerGroup, type ServerGroupPolicy } from '../../api/server-group.ts';
import { memberIds } from '../../compute/server-groups.ts';
import { badRequest, forbidden, notFound } from '../../nova/faults.ts';
import { dnsLabel } from '../../nova/hostname.ts';
import { serverGroupList, serverGroupShown, type GroupViewInputs } from '../../nova/views/server-groups.ts';
import { last, type Query } from '../query.ts';
import { createServerGroupSchema } from '../schemas/server-groups.ts';
import { validate } from '../validate.ts';
import { cacheCatchUp, callerClient, checkQuery, idParam, requireProject, viewContext } from './common.ts';

export async function serverGroupRoutes(app: FastifyInstance): Promise<void> {
  app.get('/os-server-groups', listServerGroups);
  app.post('/os-server-groups', createServerGroup);
  app.get('/os-server-groups/:id', showServerGroup);
  app.delete('/os-server-groups/:id', deleteServerGroup);
}

/** Reading a project's groups needs `list servergroups` there (kova-reader or more). */
async function canRead(req: FastifyRequest, namespace: string | undefined, rule: string): Promise<void> {
  if (!(await req.server.kova.authz.can(req.nova.caller, { verb: 'list', group: GROUP, resource: 'servergroups', namespace }))) {
    throw forbidden(`Policy doesn't allow os_compute_api:os-server-groups:${rule} to be performed.`);
  }
}

const inputs = (req: FastifyRequest) => (g: ServerGroup): GroupViewInputs => {
  const c = req.server.kova.caches;
  const ns = g.metadata.namespace ?? '';
  return { projectId: c.projectIdOf(ns) ?? ns, members: memberIds(c, g) };
};

/** A group by Nova id; another project's group is a 404 unless the caller is an admin. */
async function find(req: FastifyRequest, rule: string): Promise<ServerGroup> {
  const id = idParam(req);
  const g = req.server.kova.caches.serverGroups.byIndex('uid', id)[0];
  if (!g || (g.metadata.namespace !== req.nova.project?.namespace && !(await req.nova.isAdmin()))) throw notFound(`Instance group ${id} could not be found.`);
  await canRead(req, g.metadata.namespace, rule);
  return g;
}

/** Nova's limit / offset (non-negative integers; a limit of 0 or none is the maximum, 1000). */
function limitAndOffset(q: Query): { limit: number; offset: number } {
  const num = (k: string): number | undefined => {
    const v = last(q[k]);
    if (v === undefined) return undefined;
    if (!/^[0-9]+$/.test(v)) throw badRequest(`Invalid input for query parameters ${k}. Value: ${v}. '${v}' does not match '^[0-9]*$'`);
    return Number(v);
  };
  return { limit: Math.min(num('limit') || 1000, 1000), offset: num('offset') ?? 0 };
}

const byAge = (a: ServerGroup, b: ServerGroup): number =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

async function listServerGroups(req: FastifyRequest) {
  checkQuery(req, ['all_projects', 'limit', 'offset'], '2.75');
  const c = req.server.kova.caches;
  const q = req.query as Query;
  const { limit, offset } = limitAndOffset(q);
  let groups: ServerGroup[];
  // A non-admin asking for all projects gets their own, as in Nova.
  if (q.all_projects !== undefined && (await req.nova.isAdmin())) {
    groups = c.serverGroups.list();
  } else {
    const ns = requireProject(req).namespace;
    await canRead(req, ns, 'index');
    groups = c.serverGroups.list(ns);
  }
  return serverGroupList(await viewContext(req), groups.sort(byAge).slice(offset, offset + limit), inputs(req));
}

async function showServerGroup(req: FastifyRequest) {
  const g = await find(req, 'show');
  return serverGroupShown(await viewContext(req), g, inputs(req)(g));
}

interface CreateBody {
  server_group: { name: string; policies?: ServerGroupPolicy[]; policy?: ServerGroupPolicy; rules?: { max_server_per_host?: number | string } };
}

async function createServerGroup(req: FastifyRequest) {
  const c = req.server.kova.caches;
  const ns = requireProject(req).namespace;
  const body = validate<CreateBody>(createServerGroupSchema(req.nova.version), req.body).server_group;
  const policy = body.policy ?? body.policies![0]!;
  const max = body.rules?.max_server_per_host;
  if (body.rules && Object.keys(body.rules).length && policy !== 'anti-affinity') throw badRequest('Only anti-affinity policy supports rules.');
  if (max !== undefined && !(Number(max) >= 1)) throw badRequest(`Invalid input for field/attribute max_server_per_host. Value: ${max}. ${max} is less than the minimum of 1`);
  const group: ServerGroup = {
    metadata: { name: `${dnsLabel(body.name, 40) || 'group'}-${randomBytes(3).toString('hex')}`, namespace: ns },
    spec: { name: body.name, policy, ...(max !== undefined ? { rules: { maxServerPerHost: Number(max) } } : {}), userId: req.nova.caller.user },
  };
  const created = await callerClient(req).create<ServerGroup>(SERVER_GROUPS, group);
  await cacheCatchUp(c.serverGroups, () => !!c.serverGroups.get(created.metadata.name ?? '', ns));
  return serverGroupShown(await viewContext(req), created, inputs(req)(created));
}

async function deleteServerGroup(req: FastifyRequest, reply: FastifyReply) {
  const c = req.server.kova.caches;
  const g = await find(req, 'delete');
  await callerClient(req).delete(SERVER_GROUPS, g.metadata.name ?? '', g.metadata.namespace);
  await cacheCatchUp(c.serverGroups, () => !c.serverGroups.get(g.metadata.name ?? '', g.metadata.namespace));
  return reply.code(204).send();
}
