// Nova's os-hypervisors bodies: one hypervisor per Node, its capacity from the Node and its usage
// from the servers placed on it, per microversion (2.28 cpu_info object, 2.33 paging, 2.53 uuids
// and with_servers, 2.88 no usage figures). Pure.
import type { Server } from '../../api/server.ts';
import type { Node } from '../../kube/types.ts';
import { forcedDown, hostIdAt, isReady } from '../hosts.ts';
import type { Version } from '../microversion.ts';
import { disabledReason } from './services.ts';
import { pageBody, type NextPage, type Page, type ViewContext } from './links.ts';

/** A Kubernetes quantity ("8", "1500m", "16Gi") in whole cores, MiB or GiB. */
function quantity(q: string | undefined, unit: 'Mi' | 'Gi' | 'cores'): number {
  if (!q) return 0;
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(q);
  if (!m) return 0;
  const n = Number(m[1]);
  const bytes: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };
  if (unit === 'cores') return Math.floor(m[2] === 'm' ? n / 1000 : n);
  return Math.floor((n * (bytes[m[2] ?? ''] ?? 1)) / (unit === 'Mi' ? 2 ** 20 : 2 ** 30));
}

/** A host's capacity (the Node's) and what the servers on it use (their flavors). */
export function hostUsage(n: Node, servers: Server[]) {
  const vcpus = quantity(n.status?.capacity?.cpu, 'cores');
  const memory = quantity(n.status?.capacity?.memory, 'Mi');
  const disk = quantity(n.status?.capacity?.['ephemeral-storage'], 'Gi');
  const used = servers.reduce((a, s) => ({ vcpus: a.vcpus + (s.status?.flavor?.vcpus ?? 0), ram: a.ram + (s.status?.flavor?.ramMiB ?? 0), disk: a.disk + (s.status?.flavor?.diskGiB ?? 0) }), { vcpus: 0, ram: 0, disk: 0 });
  return { servers, vcpus, memory, disk, used };
}

export const hypervisorSummary = (v: Version, n: Node): Record<string, unknown> => ({
  hypervisor_hostname: n.metadata.name,
  id: hostIdAt(v, n),
  state: isReady(n) && !forcedDown(n) ? 'up' : 'down',
  status: n.spec?.unschedulable ? 'disabled' : 'enabled',
});

export function hypervisorDetail(v: Version, n: Node, servers: Server[]): Record<string, unknown> {
  const u = hostUsage(n, servers);
  const info = n.status?.nodeInfo ?? {};
  const out: Record<string, unknown> = {
    ...hypervisorSummary(v, n),
    host_ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
    hypervisor_type: 'QEMU',
    hypervisor_version: 1000,
    service: { host: n.metadata.name, id: hostIdAt(v, n), disabled_reason: disabledReason(n) },
  };
  if (v.atLeast('2.88')) {
    out.uptime = null;
    return out;
  }
  const cpuInfo = { arch: info.architecture === 'amd64' ? 'x86_64' : info.architecture ?? 'x86_64', model: '', vendor: '', features: [], topology: { cores: u.vcpus, threads: 1, sockets: 1 } };
  return {
    ...out,
    cpu_info: v.atLeast('2.28') ? cpuInfo : JSON.stringify(cpuInfo),
    current_workload: 0,
    disk_available_least: u.disk - u.used.disk,
    free_disk_gb: u.disk - u.used.disk,
    free_ram_mb: u.memory - u.used.ram,
    local_gb: u.disk,
    local_gb_used: u.used.disk,
    memory_mb: u.memory,
    memory_mb_used: u.used.ram,
    running_vms: u.servers.length,
    vcpus: u.vcpus,
    vcpus_used: u.used.vcpus,
  };
}

/** A hypervisor view with the servers on it (2.53 with_servers, and os-hypervisors/{pattern}/servers). */
const withServers = (view: Record<string, unknown>, servers: Server[]): Record<string, unknown> => ({
  ...view,
  servers: servers.map((s) => ({ uuid: s.metadata.uid, name: s.status?.instanceName ?? s.metadata.name })),
});

/** What a hypervisor view needs beyond the Node: the servers on a host. */
export type ServersOn = (host: string) => Server[];

/** GET /os-hypervisors and /os-hypervisors/detail. */
export function hypervisorList(c: ViewContext, p: Page<Node>, o: { detail: boolean; servers: boolean; serversOn: ServersOn; next: NextPage<Node> }): Record<string, unknown> {
  return pageBody(c, 'hypervisors', p, (n) => {
    const on = o.serversOn(n.metadata.name ?? '');
    const view = o.detail ? hypervisorDetail(c.version, n, on) : hypervisorSummary(c.version, n);
    return o.servers ? withServers(view, on) : view;
  }, o.next);
}

/** GET /os-hypervisors/{id}. */
export function hypervisorShown(v: Version, n: Node, servers: Server[], listServers: boolean): Record<string, unknown> {
  const view = hypervisorDetail(v, n, servers);
  return { hypervisor: listServers ? withServers(view, servers) : view };
}

/** GET /os-hypervisors/statistics (before 2.88): the sums over every hypervisor. */
export function hypervisorStatistics(v: Version, nodes: Node[], serversOn: ServersOn): Record<string, unknown> {
  const all = nodes.map((n) => hypervisorDetail(v, n, serversOn(n.metadata.name ?? '')));
  const sum = (k: string) => all.reduce((a, h) => a + Number(h[k] ?? 0), 0);
  const keys = ['current_workload', 'disk_available_least', 'free_disk_gb', 'free_ram_mb', 'local_gb', 'local_gb_used', 'memory_mb', 'memory_mb_used', 'running_vms', 'vcpus', 'vcpus_used'];
  return { hypervisor_statistics: { count: all.length, ...Object.fromEntries(keys.map((k) => [k, sum(k)])) } };
}

/** GET /os-hypervisors/{id}/uptime (before 2.88): the Node's age as `uptime` prints it. */
export function hypervisorUptime(v: Version, n: Node, now: Date): Record<string, unknown> {
  const since = n.metadata.creationTimestamp ? now.getTime() - Date.parse(n.metadata.creationTimestamp) : 0;
  const days = Math.floor(since / 86_400_000);
  return { hypervisor: { ...hypervisorSummary(v, n), uptime: ` ${now.toISOString().slice(11, 19)} up ${days} days` } };
}

/** GET /os-hypervisors/{pattern}/search and …/servers (before 2.53). */
export function hypervisorSearch(v: Version, found: Node[], serversOn: ServersOn | undefined): Record<string, unknown> {
  return { hypervisors: found.map((n) => (serversOn ? withServers(hypervisorSummary(v, n), serversOn(n.metadata.name ?? '')) : hypervisorSummary(v, n))) };
}
