// Migrations: /os-migrations (admins, every server's) and /servers/{id}/migrations (in-progress live
// migrations of one server: show, force_complete, abort). Records come from Server.status.migrations,
// kept by the controller; a live migration is a KubeVirt VirtualMachineInstanceMigration.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MigrationRecord, Server } from '../../api/server.ts';
import { VIRTUAL_MACHINE_INSTANCE_MIGRATIONS } from '../../kubevirt/types.ts';
import { badRequest, notFound, versionNotFound } from '../../nova/faults.ts';
import { inProgressLive, migrationList, serverMigrationList, serverMigrationShown, type MigrationRow } from '../../nova/views/migrations.ts';
import { knownAction } from '../action-body.ts';
import { callerClient, findServer, idParam, page, requireAdmin, viewContext } from './common.ts';

export async function migrationRoutes(app: FastifyInstance): Promise<void> {
  app.get('/os-migrations', listMigrations);
  app.get('/servers/:id/migrations', listServerMigrations);
  app.get('/servers/:id/migrations/:mid', showServerMigration);
  app.post('/servers/:id/migrations/:mid/action', serverMigrationAction);
  app.delete('/servers/:id/migrations/:mid', abortServerMigration);
}

async function listMigrations(req: FastifyRequest) {
  await requireAdmin(req, 'os_compute_api:os-migrations:index');
  const v = req.nova.version;
  const q = req.query as Record<string, string | undefined>;
  let rows = req.server.kova.caches.servers.list().flatMap((s) => (s.status?.migrations ?? []).map((m, i) => ({ s, m, i })));
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
  const idOf = (r: MigrationRow): string => r.m.uuid;
  if (!v.atLeast('2.59')) return migrationList(vc, { items: rows, full: false, limit: 0 }, { path: 'os-migrations', query: q, idOf });
  if (q.marker && !rows.some((r) => r.m.uuid === q.marker)) throw badRequest(`Marker ${q.marker} could not be found.`);
  return migrationList(vc, page(rows, idOf, { limit: q.limit, marker: q.marker }), { path: 'os-migrations', query: q, idOf });
}

/** An in-progress live migration of a server the caller may see (admins only), from `minVersion`. */
async function liveOne(req: FastifyRequest, minVersion: string): Promise<{ s: Server; m: MigrationRecord }> {
  if (!req.nova.version.atLeast(minVersion)) throw versionNotFound();
  const { id, mid } = req.params as { id: string; mid: string };
  await requireAdmin(req, 'os_compute_api:servers:migrations:show');
  const s = await findServer(req, id);
  const m = (s.status?.migrations ?? []).find((x) => String(x.id) === mid);
  if (!m || !inProgressLive(m)) throw notFound(`Migration ${mid} for instance ${id} not found or is not in progress.`);
  return { s, m };
}

async function listServerMigrations(req: FastifyRequest) {
  if (!req.nova.version.atLeast('2.23')) throw versionNotFound();
  await requireAdmin(req, 'os_compute_api:servers:migrations:index');
  const s = await findServer(req, idParam(req));
  return serverMigrationList(await viewContext(req), s);
}

async function showServerMigration(req: FastifyRequest) {
  const { s, m } = await liveOne(req, '2.23');
  return serverMigrationShown(await viewContext(req), s, m);
}

async function serverMigrationAction(req: FastifyRequest, reply: FastifyReply) {
  // Nova reads the action's name first.
  knownAction(req.body, ['force_complete']);
  const { m } = await liveOne(req, '2.22');
  if (m.status !== 'running') throw invalidMigrationState(req, m, 'force_complete');
  // KubeVirt has no call to force a running migration to complete; it converges on its own (README).
  return reply.code(202).send();
}

/** Nova's refusal of an action on a migration in a state that does not allow it. */
function invalidMigrationState(req: FastifyRequest, m: MigrationRecord, method: string): Error {
  const { id } = req.params as { id: string };
  return badRequest(`Migration ${m.id} state of instance ${id} is ${m.status}. Cannot ${method} while the migration is in this state.`);
}

/** Abort is KubeVirt's: delete the VirtualMachineInstanceMigration (virt-controller signals the handlers). */
async function abortServerMigration(req: FastifyRequest, reply: FastifyReply) {
  const { s, m } = await liveOne(req, '2.24');
  // Nova aborts a running migration; one still queued or preparing only from 2.65.
  const abortable = req.nova.version.atLeast('2.65') ? ['queued', 'preparing', 'running'] : ['running'];
  if (!abortable.includes(m.status ?? '')) throw invalidMigrationState(req, m, 'abort live migration');
  const op = s.status?.operation;
  if (op?.kind === 'liveMigrate' && op.migrationName) {
    await callerClient(req).delete(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, op.migrationName, s.metadata.namespace);
  }
  return reply.code(202).send();
}
