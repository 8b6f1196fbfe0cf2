// GET /servers/{id}/os-instance-actions[/{request_id}]: what was asked of a server, newest first,
// from the records the controller keeps in Server.status.instanceActions (2.58 paging and time
// filters, 2.66 changes-before). From 2.21 a deleted server's actions are read from its record
// (docs/adr/022).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Server } from '../../api/server.ts';
import { notFound, NovaError } from '../../nova/faults.ts';
import { deletedAsServer } from '../../nova/history.ts';
import { instanceActionList, instanceActionShown } from '../../nova/views/instance-actions.ts';
import { canListServers, findServer, idParam, page, viewContext } from './common.ts';

export async function instanceActionRoutes(app: FastifyInstance): Promise<void> {
  app.get('/servers/:id/os-instance-actions', listInstanceActions);
  app.get('/servers/:id/os-instance-actions/:requestId', showInstanceAction);
}

async function listInstanceActions(req: FastifyRequest) {
  const id = idParam(req);
  const s = await serverOrDeleted(req, id);
  const q = req.query as Record<string, string | undefined>;
  const v = req.nova.version;
  let list = s.status?.instanceActions ?? [];
  if (v.atLeast('2.58')) {
    const since = q['changes-since'];
    const before = v.atLeast('2.66') ? q['changes-before'] : undefined;
    if (since) list = list.filter((a) => Date.parse(a.updatedAt ?? a.startTime) >= Date.parse(since));
    if (before) list = list.filter((a) => Date.parse(a.updatedAt ?? a.startTime) <= Date.parse(before));
  }
  const vc = await viewContext(req);
  const paged = v.atLeast('2.58') ? page(list, (a) => a.requestId, { limit: q.limit, marker: q.marker }) : { items: list, full: false, limit: 0 };
  return instanceActionList(vc, id, paged, q);
}

async function showInstanceAction(req: FastifyRequest) {
  const { id, requestId } = req.params as { id: string; requestId: string };
  const a = (await serverOrDeleted(req, id)).status?.instanceActions?.find((x) => x.requestId === requestId);
  if (!a) throw notFound(`Action ${requestId} not found`);
  return instanceActionShown(await viewContext(req), id, a);
}

/** The server, or from 2.21 a deleted one the caller may see (Nova reads deleted instances there); else Nova's 404. */
async function serverOrDeleted(req: FastifyRequest, id: string): Promise<Server> {
  try {
    return await findServer(req, id);
  } catch (e) {
    if (!(e instanceof NovaError && e.code === 404) || !req.nova.version.atLeast('2.21')) throw e;
    const d = req.server.kova.caches.deletedServers.byIndex('uid', id)[0];
    if (!d || (d.metadata.namespace !== req.nova.project?.namespace && !(await req.nova.isAdmin()))) throw e;
    await canListServers(req, d.metadata.namespace);
    return deletedAsServer(d);
  }
}
