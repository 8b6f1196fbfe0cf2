// os-simple-tenant-usage: every project's usage over a period (admins), or one project's (its
// readers and admins), from the live servers' launched_at and terminated_at and the deleted
// servers' records (docs/adr/022); 2.40 pages them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Server } from '../../api/server.ts';
import { badRequest, forbidden } from '../../nova/faults.ts';
import { activeDuring, tenantUsageList, tenantUsageShown, usagePeriod, type UsageServer } from '../../nova/views/usage.ts';
import { last, type Query } from '../query.ts';
import { deletedUsageServers, usageServer } from '../server-inputs.ts';
import { canListServers, checkQuery, page, requireAdmin, viewContext } from './common.ts';

export async function usageRoutes(app: FastifyInstance): Promise<void> {
  app.get('/os-simple-tenant-usage', listUsage);
  app.get('/os-simple-tenant-usage/:tenant', showUsage);
}

/** The query Nova reads (unknown keys refused from 2.75), the period, and the page of a project's (every project's) live and deleted servers active in it. */
function usagePage(req: FastifyRequest, namespace: string | null | undefined, keys: string[]): { period: { start: Date; stop: Date }; now: Date; items: UsageServer[]; limit: number; query: Query } {
  const v = req.nova.version;
  const paging = v.atLeast('2.40');
  checkQuery(req, [...keys, ...(paging ? ['limit', 'marker'] : [])], '2.75');
  const q = req.query as Query;
  const now = new Date();
  const period = usagePeriod(last(q.start), last(q.end), now);
  const c = req.server.kova.caches;
  // null: no project (an unknown tenant); undefined: every project.
  const live: Server[] = namespace === null ? [] : c.servers.list(namespace);
  const deleted = namespace === null ? [] : deletedUsageServers(c, namespace);
  const active = activeDuring([...live.map((s) => usageServer(c, s)), ...deleted], period);
  if (!paging) return { period, now, items: active, limit: 0, query: q };
  const marker = last(q.marker);
  if (marker !== undefined && !active.some((s) => s.id === marker)) throw badRequest(`Marker ${marker} could not be found.`);
  const p = page(active, (s) => s.id, { limit: last(q.limit), marker });
  return { period, now, items: p.items, limit: p.limit, query: q };
}

async function listUsage(req: FastifyRequest) {
  await requireAdmin(req, 'os_compute_api:os-simple-tenant-usage:list');
  const u = usagePage(req, undefined, ['start', 'end', 'detailed']);
  return tenantUsageList(await viewContext(req), u.items, { ...u, detailed: last(u.query.detailed) === '1' });
}

async function showUsage(req: FastifyRequest) {
  const tenant = (req.params as { tenant: string }).tenant;
  const c = req.server.kova.caches;
  const project = c.projectByIdOrName(tenant);
  const own = req.nova.project && (tenant === req.nova.project.id || tenant === req.nova.project.namespace);
  if (own) await canListServers(req, req.nova.project?.namespace);
  else if (!(await req.nova.isAdmin())) throw forbidden(`Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.`);
  const u = usagePage(req, project ? project.namespace : null, ['start', 'end']);
  return tenantUsageShown(await viewContext(req), tenant, u.items, u);
}
