// Nova's os-hosts bodies (up to 2.42): the compute hosts (Nodes), one host's resources per
// project, and the answer of a host update. Pure.
import type { Server } from '../../api/server.ts';
import type { Node } from '../../kube/types.ts';
import { zoneOf } from '../hosts.ts';
import { hostUsage } from './hypervisors.ts';

export const hostList = (nodes: Node[]) => ({ hosts: nodes.map((n) => ({ host_name: n.metadata.name, service: 'compute', zone: zoneOf(n) })) });

/** GET /os-hosts/{host}: its totals, what is used, and what each project uses (by project id). */
export function hostShown(n: Node, servers: Server[], projectIdOf: (s: Server) => string): Record<string, unknown> {
  const u = hostUsage(n, servers);
  const host = n.metadata.name;
  const resource = (project: string, cpu: number, memory_mb: number, disk_gb: number) => ({ resource: { cpu, disk_gb, host, memory_mb, project } });
  const perProject = new Map<string, { cpu: number; ram: number; disk: number }>();
  for (const s of u.servers) {
    const p = projectIdOf(s);
    const a = perProject.get(p) ?? { cpu: 0, ram: 0, disk: 0 };
    perProject.set(p, { cpu: a.cpu + (s.status?.flavor?.vcpus ?? 0), ram: a.ram + (s.status?.flavor?.ramMiB ?? 0), disk: a.disk + (s.status?.flavor?.diskGiB ?? 0) });
  }
  return {
    host: [
      resource('(total)', u.vcpus, u.memory, u.disk),
      resource('(used_now)', u.used.vcpus, u.used.ram, u.used.disk),
      resource('(used_max)', u.used.vcpus, u.used.ram, u.used.disk),
      ...[...perProject].map(([p, a]) => resource(p, a.cpu, a.ram, a.disk)),
    ],
  };
}

/** PUT /os-hosts/{host}: the host and what changed ('enable' / 'disable', lower case). */
export function hostUpdated(host: string, change: { maintenance?: string; status?: string }): Record<string, string> {
  const out: Record<string, string> = { host };
  if (change.maintenance) out.maintenance_mode = change.maintenance === 'enable' ? 'on_maintenance' : 'off_maintenance';
  if (change.status) out.status = change.status === 'enable' ? 'enabled' : 'disabled';
  return out;
}
