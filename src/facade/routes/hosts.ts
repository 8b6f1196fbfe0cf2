// Hosts are Kubernetes Nodes: os-services (nova-compute per Node; disable = cordon, forced_down = a
// taint), os-hypervisors (capacity and the servers on each Node), os-hosts (≤ 2.42) and
// os-availability-zone (the topology.kubernetes.io/zone label). All admin-only but the zone list.
import { DISABLED_REASON, FORCED_DOWN_TAINT, MAINTENANCE, REQUEST_ANNOTATION, ZONE_LABEL } from '../../api/labels.ts';
import { requestStamp } from './server-actions.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Server } from '../../api/server.ts';
import { NODES, type Node } from '../../kube/types.ts';
import { badRequest, conflict, NovaError, notFound, versionNotFound } from '../../nova/faults.ts';
import { nextLink } from '../../nova/views/links.ts';
import type { FacadeDeps } from '../app.ts';
import { validate } from '../validate.ts';
import { cacheCatchUp, callerClient, patchFresh, last, page, requireAdmin, viewContext, checkQuery } from './common.ts';

export const DEFAULT_ZONE = 'nova';

export const zoneOf = (n: Node): string => n.metadata.labels?.[ZONE_LABEL] || DEFAULT_ZONE;
/** Nova's integer ids (before 2.53) from a Node's uid; UUIDs from 2.53. */
const intId = (uid: string): number => Number.parseInt(uid.replace(/-/g, '').slice(0, 7), 16);
export const isReady = (n: Node): boolean => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
export const forcedDown = (n: Node): boolean => !!n.spec?.taints?.some((t) => t.key === FORCED_DOWN_TAINT);
const heartbeat = (n: Node): string | null => n.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime?.replace(/Z$/, '.000000') ?? null;
const quantity = (q: string | undefined, unit: 'Mi' | 'Gi' | 'cores'): number => {
  if (!q) return 0;
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)$/.exec(q);
  if (!m) return 0;
  const n = Number(m[1]);
  const bytes: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };
  if (unit === 'cores') return Math.floor(m[2] === 'm' ? n / 1000 : n);
  return Math.floor((n * (bytes[m[2] ?? ''] ?? 1)) / (unit === 'Mi' ? 2 ** 20 : 2 ** 30));
};

export function registerHostRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;
  const nodes = (): Node[] => c.nodes.list().sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const serversOn = (host: string): Server[] => c.servers.list().filter((s) => s.status?.host === host);
  const admin = (rule: string) => async (req: FastifyRequest) => requireAdmin(req, rule);
  const new53 = (req: FastifyRequest): boolean => req.nova.version.atLeast('2.53');

  // ---------------------------------------------------------------------------- os-services
  const serviceView = (req: FastifyRequest, n: Node): Record<string, unknown> => {
    const v = req.nova.version;
    const out: Record<string, unknown> = {
      binary: 'nova-compute',
      disabled_reason: n.spec?.unschedulable ? n.metadata.annotations?.[DISABLED_REASON] ?? null : null,
      host: n.metadata.name,
      id: new53(req) ? n.metadata.uid : intId(n.metadata.uid ?? ''),
      state: isReady(n) && !forcedDown(n) ? 'up' : 'down',
      status: n.spec?.unschedulable ? 'disabled' : 'enabled',
      updated_at: heartbeat(n),
      zone: zoneOf(n),
    };
    if (v.atLeast('2.11')) out.forced_down = forcedDown(n);
    return out;
  };
  const findNode = (host: string): Node => {
    const n = c.nodes.get(host);
    if (!n) throw notFound(`Compute host ${host} could not be found.`);
    return n;
  };
  const patchNode = (req: FastifyRequest, n: Node, patch: { unschedulable?: boolean; reason?: string | null; forcedDown?: boolean; maintenance?: boolean }): Promise<Node> =>
    patchFresh(deps, req, c.nodes, n, (cur) => {
      const spec: Record<string, unknown> = {};
      const annotations: Record<string, string | null> = {};
      if (patch.unschedulable !== undefined) spec.unschedulable = patch.unschedulable;
      if (patch.reason !== undefined) annotations[DISABLED_REASON] = patch.reason;
      if (patch.maintenance !== undefined) annotations[MAINTENANCE] = patch.maintenance ? 'true' : null;
      if (patch.forcedDown !== undefined) {
        const others = (cur.spec?.taints ?? []).filter((t) => t.key !== FORCED_DOWN_TAINT);
        spec.taints = patch.forcedDown ? [...others, { key: FORCED_DOWN_TAINT, value: 'true', effect: 'NoSchedule' }] : others;
      }
      return { ...(Object.keys(annotations).length ? { metadata: { annotations } } : {}), spec };
    });

  app.get('/os-services', { onRequest: admin('os_compute_api:os-services:list') }, async (req) => {
    checkQuery(req, ['host', 'binary']);
    const q = req.query as Record<string, string | undefined>;
    if (q.binary && q.binary !== 'nova-compute') return { services: [] };
    return { services: nodes().filter((n) => !q.host || n.metadata.name === q.host).map((n) => serviceView(req, n)) };
  });
  // Before 2.53: PUT /os-services/{enable|disable|disable-log-reason|force-down} with {host, binary}.
  const legacy = (action: string) => async (req: FastifyRequest) => {
    if (new53(req)) throw versionNotFound();
    if (action === 'force-down' && !req.nova.version.atLeast('2.11')) throw versionNotFound();
    const body = validate<{ host: string; binary: string; disabled_reason?: string; forced_down?: boolean }>({
      type: 'object', required: ['host', 'binary'],
      properties: { host: { type: 'string', minLength: 1, maxLength: 255 }, binary: { type: 'string', minLength: 1, maxLength: 255 }, disabled_reason: { type: 'string', minLength: 1, maxLength: 255 }, forced_down: { type: 'boolean' } },
    }, req.body);
    if (body.binary !== 'nova-compute') throw badRequest(`Service ${body.binary} on host ${body.host} is not a compute service: only nova-compute services can be changed`);
    const n = findNode(body.host);
    if (action === 'enable') await patchNode(req, n, { unschedulable: false, reason: null });
    if (action === 'disable') await patchNode(req, n, { unschedulable: true });
    if (action === 'disable-log-reason') {
      if (!body.disabled_reason) throw badRequest('Missing disabled reason field');
      await patchNode(req, n, { unschedulable: true, reason: body.disabled_reason });
      return { service: { binary: body.binary, host: body.host, disabled_reason: body.disabled_reason, status: 'disabled' } };
    }
    if (action === 'force-down') {
      if (body.forced_down === undefined) throw badRequest("'forced_down' is a required property");
      await patchNode(req, n, { forcedDown: body.forced_down });
      return { service: { binary: body.binary, host: body.host, forced_down: body.forced_down } };
    }
    return { service: { binary: body.binary, host: body.host, status: action === 'enable' ? 'enabled' : 'disabled' } };
  };
  for (const action of ['enable', 'disable', 'disable-log-reason', 'force-down']) {
    app.put(`/os-services/${action}`, { onRequest: admin('os_compute_api:os-services:update') }, legacy(action));
  }
  app.put('/os-services/:id', { onRequest: admin('os_compute_api:os-services:update') }, async (req) => {
    if (!new53(req)) throw versionNotFound();
    const id = (req.params as { id: string }).id;
    const n = c.nodes.list().find((x) => x.metadata.uid === id);
    if (!n) throw notFound(`Service ${id} could not be found.`);
    const body = validate<{ status?: 'enabled' | 'disabled'; disabled_reason?: string; forced_down?: boolean }>({
      type: 'object', additionalProperties: false, minProperties: 1,
      properties: { status: { type: 'string', enum: ['enabled', 'disabled'] }, disabled_reason: { type: 'string', minLength: 1, maxLength: 255 }, forced_down: { type: 'boolean' } },
    }, req.body);
    if (body.disabled_reason && body.status !== 'disabled') throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
    const updated = await patchNode(req, n, {
      ...(body.status ? { unschedulable: body.status === 'disabled', reason: body.status === 'disabled' ? body.disabled_reason ?? null : null } : {}),
      ...(body.forced_down !== undefined ? { forcedDown: body.forced_down } : {}),
    });
    return { service: serviceView(req, updated) };
  });
  app.delete('/os-services/:id', { onRequest: admin('os_compute_api:os-services:delete') }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const n = c.nodes.list().find((x) => x.metadata.uid === id || String(intId(x.metadata.uid ?? '')) === id);
    if (!n) throw notFound(`Service ${id} could not be found.`);
    if (serversOn(n.metadata.name ?? '').length) throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
    await callerClient(deps, req).delete(NODES, n.metadata.name ?? '');
    await cacheCatchUp(c.nodes, () => !c.nodes.get(n.metadata.name ?? ''));
    return reply.code(204).send();
  });

  // -------------------------------------------------------------------------- os-hypervisors
  const usage = (n: Node) => {
    const servers = serversOn(n.metadata.name ?? '');
    const vcpus = quantity(n.status?.capacity?.cpu, 'cores');
    const memory = quantity(n.status?.capacity?.memory, 'Mi');
    const disk = quantity(n.status?.capacity?.['ephemeral-storage'], 'Gi');
    const used = servers.reduce((a, s) => ({ vcpus: a.vcpus + (s.status?.flavor?.vcpus ?? 0), ram: a.ram + (s.status?.flavor?.ramMiB ?? 0), disk: a.disk + (s.status?.flavor?.diskGiB ?? 0) }), { vcpus: 0, ram: 0, disk: 0 });
    return { servers, vcpus, memory, disk, used };
  };
  const hypervisorSummary = (req: FastifyRequest, n: Node): Record<string, unknown> => ({
    hypervisor_hostname: n.metadata.name,
    id: new53(req) ? n.metadata.uid : intId(n.metadata.uid ?? ''),
    state: isReady(n) && !forcedDown(n) ? 'up' : 'down',
    status: n.spec?.unschedulable ? 'disabled' : 'enabled',
  });
  const hypervisorDetail = (req: FastifyRequest, n: Node): Record<string, unknown> => {
    const v = req.nova.version;
    const u = usage(n);
    const info = n.status?.nodeInfo ?? {};
    const out: Record<string, unknown> = {
      ...hypervisorSummary(req, n),
      host_ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
      hypervisor_type: 'QEMU',
      hypervisor_version: 1000,
      service: { host: n.metadata.name, id: new53(req) ? n.metadata.uid : intId(n.metadata.uid ?? ''), disabled_reason: n.spec?.unschedulable ? n.metadata.annotations?.[DISABLED_REASON] ?? null : null },
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
  };
  const withServers = (n: Node, view: Record<string, unknown>): Record<string, unknown> => {
    const servers = serversOn(n.metadata.name ?? '').map((s) => ({ uuid: s.metadata.uid, name: s.status?.instanceName ?? s.metadata.name }));
    return { ...view, servers };
  };
  const findHypervisor = (req: FastifyRequest, id: string): Node => {
    const n = c.nodes.list().find((x) => (new53(req) ? x.metadata.uid === id : String(intId(x.metadata.uid ?? '')) === id));
    if (!n) throw notFound(`Hypervisor with ID ${id} could not be found.`);
    return n;
  };
  for (const detail of [false, true]) {
    app.get(detail ? '/os-hypervisors/detail' : '/os-hypervisors', { onRequest: admin('os_compute_api:os-hypervisors:list') }, async (req) => {
      checkQuery(req, ['limit', 'marker', 'hypervisor_hostname_pattern', 'with_servers']);
      const q = req.query as Record<string, string | undefined>;
      let list = nodes();
      if (q.hypervisor_hostname_pattern !== undefined && new53(req)) list = list.filter((n) => (n.metadata.name ?? '').includes(q.hypervisor_hostname_pattern ?? ''));
      const paged = req.nova.version.atLeast('2.33') ? page(list, (n) => String(hypervisorSummary(req, n).id), { limit: q.limit, marker: q.marker }) : { items: list, full: false, limit: 0 };
      const servers = new53(req) && ['1', 'true', 'yes'].includes((q.with_servers ?? '').toLowerCase());
      const body: Record<string, unknown> = {
        hypervisors: paged.items.map((n) => {
          const view = detail ? hypervisorDetail(req, n) : hypervisorSummary(req, n);
          return servers ? withServers(n, view) : view;
        }),
      };
      if (paged.full && paged.items.length) body.hypervisors_links = nextLink(await viewContext(req), detail ? 'os-hypervisors/detail' : 'os-hypervisors', q, String(hypervisorSummary(req, paged.items.at(-1)!).id), paged.limit);
      return body;
    });
  }
  app.get('/os-hypervisors/statistics', { onRequest: admin('os_compute_api:os-hypervisors:statistics') }, async (req) => {
    if (req.nova.version.atLeast('2.88')) throw versionNotFound();
    const all = nodes().map((n) => hypervisorDetail(req, n));
    const sum = (k: string) => all.reduce((a, h) => a + Number(h[k] ?? 0), 0);
    const keys = ['current_workload', 'disk_available_least', 'free_disk_gb', 'free_ram_mb', 'local_gb', 'local_gb_used', 'memory_mb', 'memory_mb_used', 'running_vms', 'vcpus', 'vcpus_used'];
    return { hypervisor_statistics: { count: all.length, ...Object.fromEntries(keys.map((k) => [k, sum(k)])) } };
  });
  app.get('/os-hypervisors/:id', { onRequest: admin('os_compute_api:os-hypervisors:show') }, async (req) => {
    const n = findHypervisor(req, (req.params as { id: string }).id);
    const q = req.query as Record<string, string | undefined>;
    const view = hypervisorDetail(req, n);
    return { hypervisor: new53(req) && ['1', 'true', 'yes'].includes((q.with_servers ?? '').toLowerCase()) ? withServers(n, view) : view };
  });
  app.get('/os-hypervisors/:id/uptime', { onRequest: admin('os_compute_api:os-hypervisors:uptime') }, async (req) => {
    if (req.nova.version.atLeast('2.88')) throw versionNotFound();
    const n = findHypervisor(req, (req.params as { id: string }).id);
    const since = n.metadata.creationTimestamp ? Date.now() - Date.parse(n.metadata.creationTimestamp) : 0;
    const days = Math.floor(since / 86_400_000);
    return { hypervisor: { ...hypervisorSummary(req, n), uptime: ` ${new Date().toISOString().slice(11, 19)} up ${days} days` } };
  });
  for (const what of ['search', 'servers'] as const) {
    app.get(`/os-hypervisors/:pattern/${what}`, { onRequest: admin('os_compute_api:os-hypervisors:search') }, async (req) => {
      if (new53(req)) throw versionNotFound();
      const pattern = (req.params as { pattern: string }).pattern;
      const found = nodes().filter((n) => (n.metadata.name ?? '').includes(pattern));
      if (!found.length) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
      return { hypervisors: found.map((n) => (what === 'servers' ? withServers(n, hypervisorSummary(req, n)) : hypervisorSummary(req, n))) };
    });
  }

  // ------------------------------------------------------------------------- os-hosts (≤ 2.42)
  const guardHosts = (req: FastifyRequest): void => {
    if (req.nova.version.atLeast('2.43')) throw versionNotFound();
  };
  app.get('/os-hosts', { onRequest: admin('os_compute_api:os-hosts:list') }, async (req) => {
    guardHosts(req);
    const zone = last((req.query as Record<string, string>).zone);
    return { hosts: nodes().filter((n) => !zone || zoneOf(n) === zone).map((n) => ({ host_name: n.metadata.name, service: 'compute', zone: zoneOf(n) })) };
  });
  app.get('/os-hosts/:host', { onRequest: admin('os_compute_api:os-hosts:show') }, async (req) => {
    guardHosts(req);
    const n = findNode((req.params as { host: string }).host);
    const u = usage(n);
    const host = n.metadata.name;
    const resource = (project: string, cpu: number, memory_mb: number, disk_gb: number) => ({ resource: { cpu, disk_gb, host, memory_mb, project } });
    const perProject = new Map<string, { cpu: number; ram: number; disk: number }>();
    for (const s of u.servers) {
      const p = c.projectIdOf(s.metadata.namespace ?? '') ?? s.metadata.namespace ?? '';
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
  });
  /** Each live-migratable server on the host gets a live migration request. */
  const drain = async (req: FastifyRequest, host: string): Promise<void> => {
    for (const s of serversOn(host)) {
      if (!['active', 'paused'].includes(s.status?.vmState ?? '') || s.status?.taskState || s.status?.operation) continue;
      await patchFresh(deps, req, c.servers, s, () => ({
        metadata: { annotations: { [REQUEST_ANNOTATION]: requestStamp(req, 'live-migration') } },
        spec: { migrate: { requestId: `${req.requestId}-${s.metadata.uid?.slice(0, 8)}`, live: true, host: null } },
      }));
    }
  };
  app.put('/os-hosts/:host', { onRequest: admin('os_compute_api:os-hosts:update') }, async (req) => {
    guardHosts(req);
    const host = (req.params as { host: string }).host;
    const body = validate<{ status?: 'enable' | 'disable'; maintenance_mode?: 'enable' | 'disable' }>({
      type: 'object', additionalProperties: false, minProperties: 1,
      properties: { status: { type: 'string', enum: ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'] }, maintenance_mode: { type: 'string', enum: ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'] } },
    }, req.body);
    const n = findNode(host);
    const out: Record<string, string> = { host };
    const status = body.status?.toLowerCase();
    const maintenance = body.maintenance_mode?.toLowerCase();
    // Maintenance mode cordons the Node and live-migrates its running servers away (as the caller).
    if (maintenance) await patchNode(req, n, { unschedulable: maintenance === 'enable', maintenance: maintenance === 'enable' });
    if (maintenance === 'enable') await drain(req, host);
    if (status) await patchNode(req, c.nodes.get(host) ?? n, { unschedulable: status === 'disable' });
    if (maintenance) out.maintenance_mode = maintenance === 'enable' ? 'on_maintenance' : 'off_maintenance';
    if (status) out.status = status === 'enable' ? 'enabled' : 'disabled';
    return out;
  });
  for (const action of ['reboot', 'shutdown', 'startup']) {
    app.get(`/os-hosts/:host/${action}`, { onRequest: admin('os_compute_api:os-hosts:' + action) }, async (req) => {
      guardHosts(req);
      findNode((req.params as { host: string }).host);
      // As Nova does for a virt driver without host power management.
      throw new NovaError(501, 'Virt driver does not implement host power management.');
    });
  }

  // -------------------------------------------------------------------- os-availability-zone
  app.get('/os-availability-zone', async () => {
    const zones = [...new Set(nodes().map(zoneOf))].sort();
    return { availabilityZoneInfo: zones.map((z) => ({ zoneName: z, zoneState: { available: nodes().some((n) => zoneOf(n) === z && isReady(n) && !n.spec?.unschedulable) }, hosts: null })) };
  });
  app.get('/os-availability-zone/detail', { onRequest: admin('os_compute_api:os-availability-zone:detail') }, async () => {
    const zones = [...new Set(nodes().map(zoneOf))].sort();
    return {
      availabilityZoneInfo: zones.map((z) => ({
        zoneName: z,
        zoneState: { available: true },
        hosts: Object.fromEntries(nodes().filter((n) => zoneOf(n) === z).map((n) => [n.metadata.name, { 'nova-compute': { active: !n.spec?.unschedulable, available: isReady(n) && !forcedDown(n), updated_at: heartbeat(n) } }])),
      })),
    };
  });
}
