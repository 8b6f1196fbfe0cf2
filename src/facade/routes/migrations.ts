// Migrations: /os-migrations (admins, every server's) and /servers/{id}/migrations (in-progress live
// migrations of one server: show, force_complete, abort). Records come from Server.status.migrations,
// kept by the controller; a live migration is a KubeVirt VirtualMachineInstanceMigration.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MigrationRecord, Server } from '../../api/server.ts';
import { VIRTUAL_MACHINE_INSTANCE_MIGRATIONS } from '../../kubevirt/types.ts';
import { badRequest, notFound, versionNotFound } from '../../nova/faults.ts';
import { nextLink, type ViewContext } from '../../nova/views/links.ts';
import type { FacadeDeps } from '../app.ts';
import { callerClient, findServer, page, requireAdmin, viewContext } from './common.ts';

const IN_PROGRESS = ['queued', 'preparing', 'running'];
const inProgressLive = (m: MigrationRecord): boolean => m.type === 'live-migration' && IN_PROGRESS.includes(m.status);
const novaTime = (t: string | undefined): string | null => (t ? t.replace(/Z$/, '.000000') : null);
/** Nova's flavor (instance type) ids are integers. */
const flavorInt = (id: string | undefined): number | null => {
  if (id === undefined) return null;
  const n = Number(id);
  return Number.isInteger(n) ? n : Number.parseInt(Buffer.from(id).toString('hex').slice(0, 7), 16);
};

function migrationView(c: ViewContext, s: Server, m: MigrationRecord, forServer: boolean): Record<string, unknown> {
  const v = c.version;
  const id = s.metadata.uid ?? '';
  const out: Record<string, unknown> = {
    created_at: novaTime(m.createdAt),
    dest_compute: m.destHost ?? null,
    dest_host: m.destHost ?? null,
    dest_node: m.destHost ?? null,
    id: m.id,
    ...(forServer ? { server_uuid: id } : { instance_uuid: id, new_instance_type_id: flavorInt(m.newFlavorId), old_instance_type_id: flavorInt(m.oldFlavorId) }),
    source_compute: m.sourceHost ?? null,
    source_node: m.sourceHost ?? null,
    status: m.status,
    updated_at: novaTime(m.updatedAt ?? m.createdAt),
  };
  if (forServer) {
    // KubeVirt reports no transfer counters through the VMIM: Nova's fields, zero.
    Object.assign(out, { memory_total_bytes: m.memoryTotalBytes ?? 0, memory_processed_bytes: m.memoryProcessedBytes ?? 0, memory_remaining_bytes: Math.max(0, (m.memoryTotalBytes ?? 0) - (m.memoryProcessedBytes ?? 0)), disk_total_bytes: 0, disk_processed_bytes: 0, disk_remaining_bytes: 0 });
  } else if (v.atLeast('2.23')) {
    out.migration_type = m.type;
    if (inProgressLive(m)) out.links = [{ href: `${c.origin}${c.prefix}/servers/${id}/migrations/${m.id}`, rel: 'self' }, { href: `${c.origin}/servers/${id}/migrations/${m.id}`, rel: 'bookmark' }];
  }
  if (v.atLeast('2.59')) out.uuid = m.uuid;
  if (v.atLeast('2.80')) {
    out.user_id = m.userId ?? null;
    out.project_id = m.projectId ?? null;
  }
  return out;
}

export function registerMigrationRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;

  app.get('/os-migrations', async (req) => {
    await requireAdmin(req, 'os_compute_api:os-migrations:index');
    const v = req.nova.version;
    const q = req.query as Record<string, string | undefined>;
    let rows = c.servers.list().flatMap((s) => (s.status?.migrations ?? []).map((m, i) => ({ s, m, i })));
    if (q.instance_uuid) rows = rows.filter((r) => r.s.metadata.uid === q.instance_uuid);
    if (q.status) rows = rows.filter((r) => r.m.status === q.status);
    if (q.host) rows = rows.filter((r) => r.m.sourceHost === q.host || r.m.destHost === q.host);
    if (q.source_compute) rows = rows.filter((r) => r.m.sourceHost === q.source_compute);
    if (q.migration_type && v.atLeast('2.23')) rows = rows.filter((r) => r.m.type === q.migration_type);
    if (v.atLeast('2.59') && q['changes-since']) rows = rows.filter((r) => Date.parse(r.m.updatedAt ?? r.m.createdAt) >= Date.parse(q['changes-since']!));
    if (v.atLeast('2.66') && q['changes-before']) rows = rows.filter((r) => Date.parse(r.m.updatedAt ?? r.m.createdAt) <= Date.parse(q['changes-before']!));
    if (v.atLeast('2.80') && q.user_id) rows = rows.filter((r) => r.m.userId === q.user_id);
    if (v.atLeast('2.80') && q.project_id) rows = rows.filter((r) => r.m.projectId === q.project_id);
    // Newest first; within one second, a server's own list is newest first.
    rows.sort((a, b) => b.m.createdAt.localeCompare(a.m.createdAt) || (a.s === b.s ? a.i - b.i : b.m.id - a.m.id));
    const vc = await viewContext(req);
    if (!v.atLeast('2.59')) return { migrations: rows.map((r) => migrationView(vc, r.s, r.m, false)) };
    if (q.marker && !rows.some((r) => r.m.uuid === q.marker)) throw badRequest(`Marker ${q.marker} could not be found.`);
    const paged = page(rows, (r) => r.m.uuid, { limit: q.limit, marker: q.marker });
    const body: Record<string, unknown> = { migrations: paged.items.map((r) => migrationView(vc, r.s, r.m, false)) };
    if (paged.full && paged.items.length) body.migrations_links = nextLink(vc, 'os-migrations', q, paged.items.at(-1)!.m.uuid, paged.limit);
    return body;
  });

  const liveOne = async (req: FastifyRequest, minVersion: string): Promise<{ s: Server; m: MigrationRecord }> => {
    if (!req.nova.version.atLeast(minVersion)) throw versionNotFound();
    const { id, mid } = req.params as { id: string; mid: string };
    await requireAdmin(req, 'os_compute_api:servers:migrations:show');
    const s = await findServer(deps, req, id);
    const m = (s.status?.migrations ?? []).find((x) => String(x.id) === mid);
    if (!m || !inProgressLive(m)) throw notFound(`Migration ${mid} for instance ${id} not found or is not in progress.`);
    return { s, m };
  };

  app.get('/servers/:id/migrations', async (req) => {
    if (!req.nova.version.atLeast('2.23')) throw versionNotFound();
    await requireAdmin(req, 'os_compute_api:servers:migrations:index');
    const s = await findServer(deps, req, (req.params as { id: string }).id);
    const vc = await viewContext(req);
    return { migrations: (s.status?.migrations ?? []).filter(inProgressLive).map((m) => migrationView(vc, s, m, true)) };
  });
  app.get('/servers/:id/migrations/:mid', async (req) => {
    const { s, m } = await liveOne(req, '2.23');
    return { migration: migrationView(await viewContext(req), s, m, true) };
  });
  app.post('/servers/:id/migrations/:mid/action', async (req, reply) => {
    const { m } = await liveOne(req, '2.22');
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || Object.keys(body).length !== 1 || !('force_complete' in body)) throw badRequest('Malformed request body');
    if (m.status !== 'running') throw badRequest(`Migration ${m.id} state of instance is ${m.status}. Cannot force_complete while the migration is in this state.`);
    // KubeVirt has no call to force a running migration to complete; it converges on its own (README).
    return reply.code(202).send();
  });
  app.delete('/servers/:id/migrations/:mid', async (req, reply) => {
    const { s } = await liveOne(req, '2.24');
    const op = s.status?.operation;
    if (op?.kind === 'liveMigrate' && op.migrationName) {
      // Abort is KubeVirt's: delete the VirtualMachineInstanceMigration while it runs.
      await callerClient(deps, req).delete(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, op.migrationName, s.metadata.namespace);
    }
    return reply.code(202).send();
  });
}
