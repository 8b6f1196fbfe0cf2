// Hosts are Kubernetes Nodes: os-services (nova-compute per Node; disable = cordon, forced_down = a
// taint), os-hypervisors (capacity and the servers on each Node), os-hosts (≤ 2.42) and
// os-availability-zone (the topology.kubernetes.io/zone label). All admin-only but the zone list.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DISABLED_REASON, FORCED_DOWN_TAINT, MAINTENANCE } from '../../api/labels.ts';
import type { Server } from '../../api/server.ts';
import type { Caches } from '../../cache/caches.ts';
import { NODES, type Node } from '../../kube/types.ts';
import { instanceActionOf } from '../../nova/actions.ts';
import { badRequest, conflict, NovaError, notFound, versionNotFound } from '../../nova/faults.ts';
import { hostIdAt, legacyIntId, zoneOf } from '../../nova/hosts.ts';
import { availabilityZoneDetail, availabilityZoneList } from '../../nova/views/availability-zones.ts';
import { hostList, hostShown, hostUpdated } from '../../nova/views/hosts.ts';
import { hypervisorList, hypervisorSearch, hypervisorShown, hypervisorStatistics, hypervisorUptime } from '../../nova/views/hypervisors.ts';
import { computeService, serviceIdAt, type Service } from '../../nova/services.ts';
import { legacyServiceUpdated, serviceList, serviceShown, type LegacyServiceUpdate } from '../../nova/views/services.ts';
import { servicesOf } from '../../compute/services.ts';
import { last } from '../query.ts';
import { stampAnnotations } from '../request-stamp.ts';
import { HOST_UPDATE, LEGACY_SERVICE_UPDATE, SERVICE_UPDATE } from '../schemas/hosts.ts';
import { validate } from '../validate.ts';
import { cacheCatchUp, callerClient, checkQuery, page, patchFresh, requireAdmin, viewContext } from './common.ts';

/** Nova's admin-only rule for a route, checked as the request arrives. */
const admin = (rule: string) => async (req: FastifyRequest) => requireAdmin(req, rule);

export async function hostRoutes(app: FastifyInstance): Promise<void> {
  // os-services
  app.get('/os-services', { onRequest: admin('os_compute_api:os-services:list') }, listServices);
  for (const action of ['enable', 'disable', 'disable-log-reason', 'force-down']) {
    app.put(`/os-services/${action}`, { onRequest: admin('os_compute_api:os-services:update') }, (req) => updateServiceBefore253(req, action));
  }
  app.put('/os-services/:id', { onRequest: admin('os_compute_api:os-services:update') }, updateService);
  app.delete('/os-services/:id', { onRequest: admin('os_compute_api:os-services:delete') }, deleteService);

  // os-hypervisors
  for (const detail of [false, true]) {
    app.get(detail ? '/os-hypervisors/detail' : '/os-hypervisors', { onRequest: admin('os_compute_api:os-hypervisors:list') }, (req) => listHypervisors(req, detail));
  }
  app.get('/os-hypervisors/statistics', { onRequest: admin('os_compute_api:os-hypervisors:statistics') }, hypervisorTotals);
  app.get('/os-hypervisors/:id', { onRequest: admin('os_compute_api:os-hypervisors:show') }, showHypervisor);
  app.get('/os-hypervisors/:id/uptime', { onRequest: admin('os_compute_api:os-hypervisors:uptime') }, showHypervisorUptime);
  for (const what of ['search', 'servers'] as const) {
    app.get(`/os-hypervisors/:pattern/${what}`, { onRequest: admin('os_compute_api:os-hypervisors:search') }, (req) => searchHypervisors(req, what === 'servers'));
  }

  // os-hosts (≤ 2.42)
  app.get('/os-hosts', { onRequest: admin('os_compute_api:os-hosts:list') }, listHosts);
  app.get('/os-hosts/:host', { onRequest: admin('os_compute_api:os-hosts:show') }, showHost);
  app.put('/os-hosts/:host', { onRequest: admin('os_compute_api:os-hosts:update') }, updateHost);
  for (const action of ['reboot', 'shutdown', 'startup']) {
    app.get(`/os-hosts/:host/${action}`, { onRequest: admin('os_compute_api:os-hosts:' + action) }, hostPowerAction);
  }

  // os-availability-zone
  app.get('/os-availability-zone', listAvailabilityZones);
  app.get('/os-availability-zone/detail', { onRequest: admin('os_compute_api:os-availability-zone:detail') }, listAvailabilityZoneDetail);
}

const caches = (req: FastifyRequest): Caches => req.server.kova.caches;
const nodes = (req: FastifyRequest): Node[] => caches(req).nodes.list().sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
const serversOnOf = (req: FastifyRequest) => (host: string): Server[] => caches(req).servers.list().filter((s) => s.status?.host === host);
const since253 = (req: FastifyRequest): boolean => req.nova.version.atLeast('2.53');
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function findNode(req: FastifyRequest, host: string): Node {
  const n = caches(req).nodes.get(host);
  if (!n) throw notFound(`Compute host ${host} could not be found.`);
  return n;
}

/** Cordons or uncordons a Node, with the reason, maintenance mark and forced-down taint, as the caller. */
function patchNode(req: FastifyRequest, n: Node, patch: { unschedulable?: boolean; reason?: string | null; forcedDown?: boolean; maintenance?: boolean }): Promise<Node> {
  return patchFresh(req, caches(req).nodes, n, (cur) => {
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
}

// ------------------------------------------------------------------------------ os-services

/** Every service at this moment (the Leases are read now). */
const services = (req: FastifyRequest): Service[] => servicesOf(caches(req));

async function listServices(req: FastifyRequest) {
  checkQuery(req, ['host', 'binary']);
  const q = req.query as Record<string, string | undefined>;
  const list = services(req).filter((s) => (!q.host || s.host === q.host) && (!q.binary || s.binary === q.binary));
  return serviceList(req.nova.version, list);
}

/** Nova changes and deletes nova-compute services only. */
const onlyCompute = (binary: string) => badRequest(`Updating a ${binary} service is not supported. Only nova-compute services can be updated.`);

/** Before 2.53: PUT /os-services/{enable|disable|disable-log-reason|force-down} with {host, binary}. */
async function updateServiceBefore253(req: FastifyRequest, action: string) {
  if (since253(req)) throw versionNotFound();
  if (action === 'force-down' && !req.nova.version.atLeast('2.11')) throw versionNotFound();
  const body = validate<LegacyServiceUpdate>(LEGACY_SERVICE_UPDATE, req.body);
  if (action === 'disable-log-reason' && !body.disabled_reason) throw badRequest('Missing disabled reason field');
  if (action === 'force-down' && body.forced_down === undefined) throw badRequest('Missing forced_down field');
  if (body.binary !== 'nova-compute') throw onlyCompute(body.binary);
  const n = caches(req).nodes.get(body.host);
  if (!n) throw notFound(`Host '${body.host}' is not mapped to any cell`);
  if (action === 'enable') await patchNode(req, n, { unschedulable: false, reason: null });
  if (action === 'disable') await patchNode(req, n, { unschedulable: true });
  if (action === 'disable-log-reason') await patchNode(req, n, { unschedulable: true, reason: body.disabled_reason });
  if (action === 'force-down') await patchNode(req, n, { forcedDown: body.forced_down });
  return legacyServiceUpdated(action, body);
}

/** A service by the id in the path: a uuid from 2.53 (Nova's 400 otherwise), an integer before. */
async function findService(req: FastifyRequest, notFoundMessage: (id: string) => string): Promise<Service> {
  const id = (req.params as { id: string }).id;
  if (since253(req) && !UUID.test(id)) throw badRequest(`Invalid uuid ${id}`);
  if (!since253(req) && !/^-?\d+$/.test(id)) throw badRequest('Invalid input received: id must be an integer');
  const s = services(req).find((x) => String(serviceIdAt(req.nova.version, x)) === id);
  if (!s) throw notFound(notFoundMessage(id));
  return s;
}

async function updateService(req: FastifyRequest) {
  if (!since253(req)) throw versionNotFound();
  const body = validate<{ status?: 'enabled' | 'disabled'; disabled_reason?: string; forced_down?: boolean }>(SERVICE_UPDATE, req.body);
  const s = await findService(req, (id) => `Service ${id} could not be found.`);
  if (s.binary !== 'nova-compute') throw onlyCompute(s.binary);
  if (body.disabled_reason && body.status === 'enabled') throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
  if (body.status === undefined && body.forced_down === undefined) throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
  const n = findNode(req, s.host);
  const updated = await patchNode(req, n, {
    ...(body.status ? { unschedulable: body.status === 'disabled', reason: body.status === 'disabled' ? body.disabled_reason ?? null : null } : {}),
    ...(body.forced_down !== undefined ? { forcedDown: body.forced_down } : {}),
  });
  return serviceShown(req.nova.version, computeService(updated));
}

async function deleteService(req: FastifyRequest, reply: FastifyReply) {
  const c = caches(req);
  const s = await findService(req, (id) => `Service ${id} not found.`);
  // The scheduler's and conductor's records are their leaders' Leases, renewed every few seconds.
  if (s.binary !== 'nova-compute') throw conflict(`Deleting a ${s.binary} service is not supported: it is its leader's Lease, which the running service renews.`);
  if (serversOnOf(req)(s.host).length) throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
  await callerClient(req).delete(NODES, s.host);
  await cacheCatchUp(c.nodes, () => !c.nodes.get(s.host));
  return reply.code(204).send();
}

// --------------------------------------------------------------------------- os-hypervisors

/** ?with_servers (2.53). */
const withServers = (req: FastifyRequest): boolean => since253(req) && ['1', 'true', 'yes'].includes(((req.query as Record<string, string | undefined>).with_servers ?? '').toLowerCase());

async function listHypervisors(req: FastifyRequest, detail: boolean) {
  checkQuery(req, ['limit', 'marker', 'hypervisor_hostname_pattern', 'with_servers']);
  const q = req.query as Record<string, string | undefined>;
  const v = req.nova.version;
  let list = nodes(req);
  if (q.hypervisor_hostname_pattern !== undefined && since253(req)) list = list.filter((n) => (n.metadata.name ?? '').includes(q.hypervisor_hostname_pattern ?? ''));
  const idOf = (n: Node): string => String(hostIdAt(v, n));
  const paged = v.atLeast('2.33') ? page(list, idOf, { limit: q.limit, marker: q.marker }) : { items: list, full: false, limit: 0 };
  return hypervisorList(await viewContext(req), paged, {
    detail, servers: withServers(req), serversOn: serversOnOf(req), next: { path: detail ? 'os-hypervisors/detail' : 'os-hypervisors', query: q, idOf },
  });
}

async function hypervisorTotals(req: FastifyRequest) {
  if (req.nova.version.atLeast('2.88')) throw versionNotFound();
  return hypervisorStatistics(req.nova.version, nodes(req), serversOnOf(req));
}

function findHypervisor(req: FastifyRequest): Node {
  const id = (req.params as { id: string }).id;
  const n = caches(req).nodes.list().find((x) => (since253(req) ? x.metadata.uid === id : String(legacyIntId(x.metadata.uid ?? '')) === id));
  if (!n) throw notFound(`Hypervisor with ID ${id} could not be found.`);
  return n;
}

async function showHypervisor(req: FastifyRequest) {
  const n = findHypervisor(req);
  return hypervisorShown(req.nova.version, n, serversOnOf(req)(n.metadata.name ?? ''), withServers(req));
}

async function showHypervisorUptime(req: FastifyRequest) {
  if (req.nova.version.atLeast('2.88')) throw versionNotFound();
  return hypervisorUptime(req.nova.version, findHypervisor(req), new Date());
}

async function searchHypervisors(req: FastifyRequest, servers: boolean) {
  if (since253(req)) throw versionNotFound();
  const pattern = (req.params as { pattern: string }).pattern;
  const found = nodes(req).filter((n) => (n.metadata.name ?? '').includes(pattern));
  if (!found.length) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
  return hypervisorSearch(req.nova.version, found, servers ? serversOnOf(req) : undefined);
}

// ------------------------------------------------------------------------- os-hosts (≤ 2.42)

function guardHosts(req: FastifyRequest): void {
  if (req.nova.version.atLeast('2.43')) throw versionNotFound();
}

async function listHosts(req: FastifyRequest) {
  guardHosts(req);
  const zone = last((req.query as Record<string, string>).zone);
  return hostList(nodes(req).filter((n) => !zone || zoneOf(n) === zone));
}

async function showHost(req: FastifyRequest) {
  guardHosts(req);
  const c = caches(req);
  const n = findNode(req, (req.params as { host: string }).host);
  return hostShown(n, serversOnOf(req)(n.metadata.name ?? ''), (s) => c.projectIdOf(s.metadata.namespace ?? '') ?? s.metadata.namespace ?? '');
}

/** Each live-migratable server on the host gets a live migration request. */
async function drain(req: FastifyRequest, host: string): Promise<void> {
  for (const s of serversOnOf(req)(host)) {
    if (!['active', 'paused'].includes(s.status?.vmState ?? '') || s.status?.taskState || s.status?.operation) continue;
    await patchFresh(req, caches(req).servers, s, (current) => ({
      metadata: { annotations: stampAnnotations(req, instanceActionOf('os-migrateLive'), current) },
      spec: { migrate: { requestId: `${req.requestId}-${s.metadata.uid?.slice(0, 8)}`, live: true, host: null } },
    }));
  }
}

async function updateHost(req: FastifyRequest) {
  guardHosts(req);
  const host = (req.params as { host: string }).host;
  const body = validate<{ status?: 'enable' | 'disable'; maintenance_mode?: 'enable' | 'disable' }>(HOST_UPDATE, req.body);
  const n = findNode(req, host);
  const status = body.status?.toLowerCase();
  const maintenance = body.maintenance_mode?.toLowerCase();
  // Maintenance mode cordons the Node and live-migrates its running servers away (as the caller).
  if (maintenance) await patchNode(req, n, { unschedulable: maintenance === 'enable', maintenance: maintenance === 'enable' });
  if (maintenance === 'enable') await drain(req, host);
  if (status) await patchNode(req, caches(req).nodes.get(host) ?? n, { unschedulable: status === 'disable' });
  return hostUpdated(host, { maintenance, status });
}

async function hostPowerAction(req: FastifyRequest): Promise<never> {
  guardHosts(req);
  findNode(req, (req.params as { host: string }).host);
  // As Nova does for a virt driver without host power management.
  throw new NovaError(501, 'Virt driver does not implement host power management.');
}

// --------------------------------------------------------------------- os-availability-zone

async function listAvailabilityZones(req: FastifyRequest) {
  return availabilityZoneList(services(req));
}

async function listAvailabilityZoneDetail(req: FastifyRequest) {
  return availabilityZoneDetail(services(req));
}
