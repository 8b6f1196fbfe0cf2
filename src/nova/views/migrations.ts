// Nova's migration bodies per microversion: /os-migrations (2.23 type and links, 2.59 uuid and
// paging, 2.80 user and project) and /servers/{id}/migrations (in-progress live migrations), from
// the records the controller keeps in Server.status.migrations. Pure.
import type { MigrationRecord, Server } from '../../api/server.ts';
import { pageBody, type NextPage, type Page, type ViewContext } from './links.ts';

const IN_PROGRESS = ['queued', 'preparing', 'running'];
/** A live migration still running: the only kind /servers/{id}/migrations shows. */
export const inProgressLive = (m: MigrationRecord): boolean => m.type === 'live-migration' && IN_PROGRESS.includes(m.status);
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

/** A migration and the server it moves. */
export interface MigrationRow {
  s: Server;
  m: MigrationRecord;
}

/** GET /os-migrations: a page of rows (every row before 2.59), with `migrations_links` when full. */
export const migrationList = (c: ViewContext, p: Page<MigrationRow>, next: NextPage<MigrationRow>): Record<string, unknown> =>
  pageBody(c, 'migrations', p, (r) => migrationView(c, r.s, r.m, false), next);

/** GET /servers/{id}/migrations: its live migrations in progress. */
export const serverMigrationList = (c: ViewContext, s: Server) => ({ migrations: (s.status?.migrations ?? []).filter(inProgressLive).map((m) => migrationView(c, s, m, true)) });

export const serverMigrationShown = (c: ViewContext, s: Server, m: MigrationRecord) => ({ migration: migrationView(c, s, m, true) });
