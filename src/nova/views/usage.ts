// os-simple-tenant-usage: what each project's servers used over a period (hours, and vCPU, RAM and
// disk hours), from their launched_at and terminated_at, as Nova's simple_tenant_usage.py counts
// it; 2.40 pages the servers. A deleted server counts from its record (docs/adr/022), terminated
// when it was deleted. Pure.
import { badRequest } from '../faults.ts';
import { naiveTime, type ViewContext } from './links.ts';

/** One server as usage counts it. */
export interface UsageServer {
  id: string;
  name: string;
  projectId: string;
  flavor: string;
  vcpus: number;
  memoryMiB: number;
  /** Root plus ephemeral disk. */
  localGiB: number;
  vmState: string;
  launchedAt?: string;
  terminatedAt?: string;
}

/** A period's bounds as Nova reads them: ISO times without a zone (UTC), with or without fractions. */
export function parsePeriodTime(text: string | undefined, now: Date): Date {
  if (!text) return now;
  const m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d{1,6})?$/.exec(text);
  // The space form needs the fraction (Nova's "%Y-%m-%d %H:%M:%S.%f").
  if (!m || (text[10] === ' ' && !m[7])) throw badRequest('Invalid datetime string: Datetime is in invalid format');
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ? m[7].slice(0, 4) : ''}Z`);
  if (Number.isNaN(d.getTime())) throw badRequest('Invalid datetime string: Datetime is in invalid format');
  return d;
}

/** The period a request asks about: start before end (both now by default), the end no later than now. */
export function usagePeriod(start: string | undefined, end: string | undefined, now: Date): { start: Date; stop: Date } {
  const s = parsePeriodTime(start, now);
  let e = parsePeriodTime(end, now);
  if ((start || end) && !(s < e)) throw badRequest('Invalid start time. The start time cannot occur after the end time.');
  if (e > now) e = now;
  return { start: s, stop: e };
}

/** Servers that ran during the period (launched before its end, not terminated before its start), by project then id. */
export const activeDuring = (servers: UsageServer[], p: { start: Date; stop: Date }): UsageServer[] =>
  servers
    .filter((s) => s.launchedAt && Date.parse(s.launchedAt) < p.stop.getTime() && (!s.terminatedAt || Date.parse(s.terminatedAt) > p.start.getTime()))
    .sort((a, b) => (a.projectId === b.projectId ? (a.id < b.id ? -1 : 1) : a.projectId < b.projectId ? -1 : 1));

/** Hours a server ran within the period. */
function hoursFor(s: UsageServer, p: { start: Date; stop: Date }): number {
  if (!s.launchedAt) return 0;
  const launched = Date.parse(s.launchedAt);
  const terminated = s.terminatedAt ? Date.parse(s.terminatedAt) : undefined;
  if (terminated !== undefined && terminated < p.start.getTime()) return 0;
  if (launched > p.stop.getTime()) return 0;
  const from = Math.max(launched, p.start.getTime());
  const to = terminated !== undefined ? Math.min(p.stop.getTime(), terminated) : p.stop.getTime();
  return (to - from) / 3_600_000;
}

/** A naive timestamp as Python's isoformat writes one (fractions only when there are some). */
const isoformat = (d: Date): string => d.toISOString().replace(/Z$/, '').replace(/\.000$/, '').replace(/\.(\d{3})$/, '.$1000');

function serverUsage(s: UsageServer, p: { start: Date; stop: Date }, now: Date): Record<string, unknown> {
  const started = Date.parse(s.launchedAt ?? '');
  const ended = s.terminatedAt ? Date.parse(s.terminatedAt) : undefined;
  return {
    ended_at: s.terminatedAt ? naiveTime(s.terminatedAt) : null,
    flavor: s.flavor,
    hours: hoursFor(s, p),
    instance_id: s.id,
    local_gb: s.localGiB,
    memory_mb: s.memoryMiB,
    name: s.name,
    started_at: naiveTime(s.launchedAt),
    state: ended !== undefined ? 'terminated' : s.vmState,
    tenant_id: s.projectId,
    uptime: Math.floor(((ended ?? now.getTime()) - started) / 1000),
    vcpus: s.vcpus,
  };
}

/** Per-project totals of a page of servers, in the order of their first server, with each server's usage when `detailed`. */
function tenantUsages(page: UsageServer[], p: { start: Date; stop: Date }, now: Date, detailed: boolean): Record<string, unknown>[] {
  const byProject = new Map<string, Record<string, unknown> & { server_usages?: unknown[] }>();
  for (const s of page) {
    const u = serverUsage(s, p, now);
    const hours = u.hours as number;
    let t = byProject.get(s.projectId);
    if (!t) {
      t = {
        tenant_id: s.projectId, ...(detailed ? { server_usages: [] } : {}),
        total_local_gb_usage: 0, total_vcpus_usage: 0, total_memory_mb_usage: 0, total_hours: 0,
        start: isoformat(p.start), stop: isoformat(p.stop),
      };
      byProject.set(s.projectId, t);
    }
    t.total_local_gb_usage = (t.total_local_gb_usage as number) + s.localGiB * hours;
    t.total_vcpus_usage = (t.total_vcpus_usage as number) + s.vcpus * hours;
    t.total_memory_mb_usage = (t.total_memory_mb_usage as number) + s.memoryMiB * hours;
    t.total_hours = (t.total_hours as number) + hours;
    t.server_usages?.push(u);
  }
  return [...byProject.values()];
}

/** Nova's next link (2.40) when the page is as long as the limit: the query's keys sorted, the last server as marker. */
function usageLinks(c: ViewContext, path: string, query: Record<string, unknown>, page: UsageServer[], limit: number): { href: string; rel: string }[] | undefined {
  if (!limit || page.length !== limit) return undefined;
  const params = new URLSearchParams();
  const values: [string, string][] = Object.entries({ ...query, marker: page.at(-1)!.id }).flatMap(([k, v]) => (v === undefined ? [] : ([] as unknown[]).concat(v).map((x): [string, string] => [k, String(x)])));
  for (const [k, v] of values.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) params.append(k, v);
  return [{ href: `${c.origin}${c.prefix}/${path}?${params.toString()}`, rel: 'next' }];
}

/** GET /os-simple-tenant-usage: every project's usage (with its servers when `detailed`). */
export function tenantUsageList(c: ViewContext, page: UsageServer[], o: { period: { start: Date; stop: Date }; now: Date; detailed: boolean; limit: number; query: Record<string, unknown> }): Record<string, unknown> {
  const body: Record<string, unknown> = { tenant_usages: tenantUsages(page, o.period, o.now, o.detailed) };
  const links = c.version.atLeast('2.40') ? usageLinks(c, 'os-simple-tenant-usage', o.query, page, o.limit) : undefined;
  if (links) body.tenant_usages_links = links;
  return body;
}

/** GET /os-simple-tenant-usage/{tenant_id}: one project's usage with its servers ({} when it used nothing). */
export function tenantUsageShown(c: ViewContext, tenantId: string, page: UsageServer[], o: { period: { start: Date; stop: Date }; now: Date; limit: number; query: Record<string, unknown> }): Record<string, unknown> {
  const body: Record<string, unknown> = { tenant_usage: tenantUsages(page, o.period, o.now, true)[0] ?? {} };
  const links = c.version.atLeast('2.40') ? usageLinks(c, `os-simple-tenant-usage/${tenantId}`, o.query, page, o.limit) : undefined;
  if (links) body.tenant_usage_links = links;
  return body;
}
