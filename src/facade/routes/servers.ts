// /servers: create, list, detail, show, update, delete, and /servers/{id}/ips. Reads come from the
// Server cache (never the apiserver); writes go to the apiserver as the caller. The list's filters
// and order are facade/server-filters.ts; metadata and tags are server-metadata.ts.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_VERSION } from '../../api/group.ts';
import { SERVERS, type Server } from '../../api/server.ts';
import { LAUNCH_INDEX_ANNOTATION, RESERVATION_ANNOTATION, USER_ANNOTATION } from '../../api/labels.ts';
import { ownerReference, SECRETS } from '../../kube/types.ts';
import { CREATE_ACTION, checkAction, instanceActionOf } from '../../nova/actions.ts';
import { badRequest, conflict, forbidden, notFound } from '../../nova/faults.ts';
import { dnsLabel, requestedHostname } from '../../nova/hostname.ts';
import { checkInjectedFiles, userDataWithFiles, type InjectedFile } from '../../nova/personality.ts';
import { accessIpAnnotations } from '../../nova/server-columns.ts';
import { serverState } from '../../nova/server-state.ts';
import {
  addressesView, ipsView, networkAddressesView, reservationView, serverCreated, serverId, serverList, serverShown, serverUpdated,
} from '../../nova/views/servers.ts';
import { canUseFlavor, canUseImage, findHost, findKeyPair, zoneExists } from '../../compute/references.ts';
import { acquireQuotaLock, limitsFor, lockedServerHoldings, scopesFor, type QuotaLock } from '../../compute/quotas.ts';
import { checkMetadataItems, SERVER_GROUP_MEMBERS_EXCEEDED, serversThatFit } from '../../nova/quotas.ts';
import { groupMembers } from '../../nova/server-groups.ts';
import { findServerGroup } from '../../compute/server-groups.ts';
import { schedulerHints } from '../../nova/scheduler-hints.ts';
import { podNetworkId, requestedPodNetwork } from '../../neutron/model.ts';
import { createServerSchema, updateServerSchema } from '../schemas/servers.ts';
import { allTenants, checkListQuery, serverFilter, serverOrder, wantsDeleted } from '../server-filters.ts';
import { deletedServerRows, serverFacts, serverViewInputs } from '../server-inputs.ts';
import { stampAnnotations } from '../request-stamp.ts';
import { last, type Query } from '../query.ts';
import { validate } from '../validate.ts';
import { passwordSecretName, requestedPassword, shownPassword, writePasswordSecret } from '../admin-password.ts';
import { cacheCatchUp, callerClient, canListServers, findServer, idParam, page, pageInOrder, patchFresh, requireProject, viewContext } from './common.ts';
import { SERVERS_NEWEST_FIRST } from '../../cache/caches.ts';
import type { Page } from '../../nova/views/links.ts';

export async function serverRoutes(app: FastifyInstance): Promise<void> {
  app.get('/servers', (req) => listServers(req, false));
  app.get('/servers/detail', (req) => listServers(req, true));
  app.get('/servers/:id', showServer);
  app.post('/servers', createServer);
  app.put('/servers/:id', updateServer);
  app.delete('/servers/:id', deleteServer);
  app.get('/servers/:id/ips', listAddresses);
  app.get('/servers/:id/ips/:network', showNetworkAddresses);
}

async function listServers(req: FastifyRequest, detail: boolean): Promise<Record<string, unknown>> {
  const c = req.server.kova.caches;
  const q = req.query as Query;
  const v = req.nova.version;
  const admin = await req.nova.isAdmin();
  checkListQuery(q, v);
  const everyProject = allTenants(q);
  if (everyProject && !admin) throw forbidden(`Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.`);
  // Deleted servers are read from their records (docs/adr/022) when the query could show them.
  const withDeleted = wantsDeleted(q, admin, v);
  let ns: string | undefined;
  let inProject = (_s: Server): boolean => true;
  if (everyProject) {
    const project = last(q.project_id) ?? last(q.tenant_id);
    if (project) inProject = (s) => (c.projectIdOf(s.metadata.namespace ?? '') ?? s.metadata.namespace) === project || s.metadata.namespace === project;
  } else {
    ns = requireProject(req).namespace;
    await canListServers(req, ns);
  }
  const facts = (s: Server) => serverFacts(c, s);
  const filter = serverFilter(q, admin, v, facts);
  const keep = (s: Server): boolean => inProject(s) && filter(s);
  const paging = { limit: last(q.limit), marker: last(q.marker) };
  let p: Page<Server>;
  if (!withDeleted && q.sort_key === undefined && q.sort_dir === undefined) {
    // Nova's default order, kept by the cache: a page reads only as far as it needs.
    p = pageInOrder(c.servers, SERVERS_NEWEST_FIRST, ns, keep, (id) => c.servers.byIndex('uid', id)[0], paging);
  } else {
    const list = [...c.servers.list(ns), ...(withDeleted ? deletedServerRows(c, ns) : [])].filter(keep);
    list.sort(serverOrder(q, admin, v, facts));
    p = page(list, serverId, paging);
  }
  const vc = await viewContext(req);
  return serverList(vc, p, { detail, query: q, inputs: (s) => serverViewInputs(c, s) });
}

async function showServer(req: FastifyRequest): Promise<Record<string, unknown>> {
  const s = await findServer(req, idParam(req));
  return serverShown(await viewContext(req), s, serverViewInputs(req.server.kova.caches, s));
}

/** The one block device mapping Kova has: boot from an image copied into a volume (the root DataVolume). */
function bootImage(b: Record<string, unknown>): { imageRef: string; rootDiskGiB?: number } {
  const bdm = (b.block_device_mapping_v2 ?? b.block_device_mapping) as { source_type?: string; destination_type?: string; uuid?: string; boot_index?: number | string; volume_size?: number | string }[] | undefined;
  const imageRef = typeof b.imageRef === 'string' ? b.imageRef : '';
  if (!bdm?.length) return { imageRef };
  const boot = bdm.find((d) => String(d.boot_index ?? '') === '0');
  if (bdm.length > 1 || !boot || boot.source_type !== 'image' || !boot.uuid) throw badRequest('Block device mappings other than one image as the boot volume are not supported by Kova yet.');
  if (boot.volume_size === undefined) return { imageRef: boot.uuid };
  const rootDiskGiB = Number(boot.volume_size);
  if (!Number.isInteger(rootDiskGiB) || rootDiskGiB < 1) throw badRequest(`Invalid input for field/attribute volume_size. Value: ${boot.volume_size}.`);
  return { imageRef: boot.uuid, rootDiskGiB };
}

async function createServer(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const c = req.server.kova.caches;
  const project = requireProject(req);
  const b = validate<{ server: Record<string, unknown> }>(createServerSchema(req.nova.version), req.body).server;
  const admin = await req.nova.isAdmin();
  const caller = req.nova.caller;

  // References, resolved the way Nova does (400 for a bad reference at create).
  const flavorRef = String(b.flavorRef).split('/').pop() ?? '';
  const flavor = c.flavors.byIndex('id', flavorRef)[0];
  if (!flavor || !canUseFlavor(flavor, project)) throw badRequest(`Flavor ${flavorRef} could not be found.`);
  const { imageRef, rootDiskGiB } = bootImage(b);
  if (!imageRef) throw badRequest('Missing imageRef attribute');
  const image = c.image(imageRef);
  if (!image || !canUseImage(image, project)) throw badRequest('Can not find requested image');
  let keyObjectName: string | undefined;
  if (b.key_name !== undefined) {
    const kp = findKeyPair(c, project.namespace, String(b.key_name), caller.user);
    if (!kp) throw badRequest('Invalid key_name provided.');
    keyObjectName = kp.metadata.name;
  }
  // Scheduler hints: the ones the kube-scheduler can enforce, or a 400 naming the one it cannot.
  const hints = schedulerHints(req.body as Record<string, unknown>);
  if (hints.serverGroup) {
    const g = findServerGroup(c, project.namespace, hints.serverGroup);
    if (!g) throw badRequest(`Instance group ${hints.serverGroup} could not be found.`);
    hints.serverGroup = g.metadata.name;
  }
  const nets = requestedPodNetwork(b.networks, podNetworkId(req.server.kova.network));
  if ('error' in nets) throw badRequest(nets.error);
  for (const sg of (b.security_groups as { name?: string }[] | undefined) ?? []) if (sg.name !== 'default') throw badRequest(`Security group ${sg.name} not found.`);
  let az = b.availability_zone as string | undefined;
  let host = (b.host ?? b.hypervisor_hostname) as string | undefined;
  if (az?.includes(':')) {
    const [zone, h, node] = az.split(':');
    if (!admin) throw forbidden(`Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.`);
    az = zone || undefined;
    host = node || h || undefined;
  }
  if ((b.host !== undefined || b.hypervisor_hostname !== undefined) && !admin) throw forbidden(`Policy doesn't allow compute:servers:create:requested_destination to be performed.`);
  if (host && !findHost(c, host)) throw badRequest(`Compute host ${host} could not be found.`);
  if (az && !zoneExists(c, az)) throw badRequest(`The requested availability zone is not available`);
  const min = Number(b.min_count ?? 1);
  const max = Number(b.max_count ?? min);
  if (min > max) throw badRequest('min_count must be <= max_count');
  if (max > 1 && b.hostname !== undefined) throw badRequest('Cannot specify hostname when creating multiple servers.');
  // Personality files (≤ 2.56) reach the guest through cloud-init, with the user's data.
  const limits = limitsFor(c, req.server.kova.cfg, project.namespace, caller.user);
  const files = (b.personality as InjectedFile[] | undefined) ?? [];
  checkInjectedFiles(files, limits);
  const tooMuchMetadata = checkMetadataItems(limits, Object.keys((b.metadata as Record<string, string> | undefined) ?? {}).length);
  if (tooMuchMetadata) throw forbidden(tooMuchMetadata);
  const userData = files.length ? userDataWithFiles(b.user_data as string | undefined, files, `==kova-${randomBytes(12).toString('hex')}==`) : (b.user_data as string | undefined);
  // One admin password for every server the request makes, as in Nova.
  const password = requestedPassword(req, b.adminPass);
  const reservation = `r-${randomBytes(4).toString('hex')}`;
  const accessIps = Object.fromEntries(Object.entries(accessIpAnnotations(b)).filter((e): e is [string, string] => !!e[1]));

  const client = callerClient(req);
  const created: Server[] = [];
  // Counted and created under the project's quota lock: as many as fit between min and max (docs/adr/019).
  const lock = await acquireQuotaLock(req.server.kova.client, project.namespace);
  const fit = await serversThatFitNow(req, lock, project.namespace, flavor.spec, min, max, hints.serverGroup).catch(async (e: unknown) => {
    await lock.release();
    throw e;
  });
  try {
    for (let i = 0; i < fit; i++) {
      const name = max > 1 ? `${b.name}-${i + 1}` : String(b.name);
      const objectName = `${dnsLabel(name, 40) || 'server'}-${randomBytes(3).toString('hex')}`;
      const spec: Server['spec'] = {
        name,
        flavor: flavor.metadata.name ?? flavorRef,
        image: image.metadata.name ?? imageRef,
        ...(rootDiskGiB ? { rootDiskGiB } : {}),
        networks: nets.networks,
        ...(keyObjectName ? { keyName: keyObjectName } : {}),
        ...(userData ? { userData: { secretName: `${objectName}-user-data` } } : {}),
        ...(password !== undefined ? { adminPassword: { secretName: passwordSecretName(req, objectName) } } : {}),
        ...(b.metadata ? { metadata: b.metadata as Record<string, string> } : {}),
        ...(Array.isArray(b.tags) && b.tags.length ? { tags: b.tags as string[] } : {}),
        ...(az ? { availabilityZone: az } : {}),
        ...(host ? { host } : {}),
        ...(typeof b.hostname === 'string' ? { hostname: requestedHostname(b.hostname) } : {}),
        ...(typeof b.description === 'string' ? { description: b.description } : {}),
        ...hints,
      };
      const server = await client.create<Server>(SERVERS, {
        metadata: {
          name: objectName,
          namespace: project.namespace,
          annotations: {
            [USER_ANNOTATION]: caller.user, [RESERVATION_ANNOTATION]: reservation, [LAUNCH_INDEX_ANNOTATION]: String(i),
            ...stampAnnotations(req, CREATE_ACTION.instanceAction),
            ...accessIps,
          },
        },
        spec,
      });
      created.push(server);
      lock.wrote(server);
      if (userData) {
        await client.create(SECRETS, {
          metadata: { name: `${objectName}-user-data`, namespace: project.namespace, ownerReferences: [ownerReference(server, API_VERSION, 'Server')] },
          type: 'Opaque',
          data: { userdata: userData },
        });
      }
      if (password !== undefined) await writePasswordSecret(req, server, password);
    }
  } catch (e) {
    // Nothing half-created: remove what this request made (the Secrets go with their Server).
    await Promise.all(created.map((s) => client.delete(SERVERS, s.metadata.name ?? '', project.namespace).catch(() => undefined)));
    await lock.release();
    throw e;
  }
  await lock.release();
  await cacheCatchUp(c.servers, () => created.every((s) => c.servers.byIndex('uid', serverId(s)).length > 0));
  if (b.return_reservation_id === true || b.return_reservation_id === 'True' || b.return_reservation_id === 'true') {
    return reply.code(202).send(reservationView(reservation));
  }
  const first = created[0]!;
  const vc = await viewContext(req);
  reply.header('location', `${vc.origin}${vc.prefix}/servers/${serverId(first)}`);
  return reply.code(202).send(serverCreated(vc, first, shownPassword(req, password)));
}

/**
 * How many of min..max servers fit the project's and the user's quotas and the group's
 * server_group_members, counted under the quota lock (compute/quotas.ts `lockedServerHoldings`:
 * from the cache when it is current, and a refusal only on a fresh list).
 */
async function serversThatFitNow(req: FastifyRequest, lock: QuotaLock, namespace: string, flavor: { vcpus: number; ramMiB: number }, min: number, max: number, group: string | undefined): Promise<number> {
  const { client, caches, cfg } = req.server.kova;
  const g = group ? findServerGroup(caches, namespace, group) : undefined;
  for (let fresh = false; ; fresh = true) {
    const count = await lockedServerHoldings(client, caches, namespace, lock, { fresh });
    const fit = serversThatFit(scopesFor(caches, cfg, namespace, count.holdings, req.nova.caller.user), flavor, min, max);
    // server_group_members: the group's members now and each new one.
    const groupFull = !('refusal' in fit) && !!g && groupMembers(g, count.servers).length + fit.count > limitsFor(caches, cfg, namespace, req.nova.caller.user).server_group_members;
    const short = 'refusal' in fit || groupFull || fit.count < max;
    if (short && !count.fresh) continue; // (the cache may still hold servers deleted a moment ago)
    if ('refusal' in fit) throw forbidden(fit.refusal);
    if (groupFull) throw forbidden(SERVER_GROUP_MEMBERS_EXCEEDED);
    return fit.count;
  }
}

async function updateServer(req: FastifyRequest): Promise<Record<string, unknown>> {
  const c = req.server.kova.caches;
  const s = await findServer(req, idParam(req));
  const body = validate<{ server: { name?: string; description?: string | null; hostname?: string; accessIPv4?: string; accessIPv6?: string; pinned_availability_zone?: string | null } }>(updateServerSchema(req.nova.version), req.body).server;
  const spec: Record<string, unknown> = {};
  if (body.name !== undefined) spec.name = body.name;
  if (body.description !== undefined) spec.description = body.description;
  if (body.hostname !== undefined) spec.hostname = requestedHostname(body.hostname);
  if (body.pinned_availability_zone !== undefined) {
    const pin = pinnedZone(s, body.pinned_availability_zone, serverViewInputs(c, s).zone ?? s.spec.availabilityZone);
    if (pin !== undefined) spec.availabilityZone = pin;
  }
  const annotations = accessIpAnnotations(body);
  const updated = Object.keys(spec).length || Object.keys(annotations).length
    ? await patchFresh(req, c.servers, s, () => ({ ...(Object.keys(annotations).length ? { metadata: { annotations } } : {}), spec }))
    : s;
  return serverUpdated(await viewContext(req), updated, serverViewInputs(c, updated));
}

/**
 * 2.104: the zone to pin (or null to unpin), as Nova allows it: only to the zone the server is in,
 * and a pinned server is unpinned before it is pinned elsewhere; undefined when nothing changes.
 */
function pinnedZone(s: Server, requested: string | null, currentZone: string | undefined): string | null | undefined {
  const pinned = s.spec.availabilityZone;
  if (requested === null) return pinned === undefined ? undefined : null;
  if (pinned !== undefined) {
    if (requested !== pinned) throw conflict('Cannot change pinned availability zone directly. Unpin first by setting pinned_availability_zone to null.');
    return undefined;
  }
  if (requested !== currentZone) throw conflict(`Server can only be pinned to its current availability zone '${currentZone ?? ''}', but '${requested}' was requested.`);
  return requested;
}

async function deleteServer(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { caches: c, cfg } = req.server.kova;
  const s = await findServer(req, idParam(req));
  checkAction('delete', serverState(s, { pending: true }), { admin: await req.nova.isAdmin() });
  // With a reclaim interval, Nova soft-deletes a launched server; the controller reclaims it later.
  if ((cfg.reclaimInstanceIntervalSeconds ?? 0) > 0 && s.status?.launchedAt) {
    await patchFresh(req, c.servers, s, (current) => ({ metadata: { annotations: stampAnnotations(req, instanceActionOf('delete'), current) }, spec: { powerState: 'SoftDeleted' } }));
    return reply.code(204).send();
  }
  // The delete is stamped first: the deleted server's record names who deleted it (docs/adr/022).
  await patchFresh(req, c.servers, s, (current) => ({ metadata: { annotations: stampAnnotations(req, instanceActionOf('delete'), current) } }));
  await callerClient(req).delete(SERVERS, s.metadata.name ?? '', s.metadata.namespace, { uid: s.metadata.uid });
  await cacheCatchUp(c.servers, () => { const x = c.servers.byIndex('uid', serverId(s))[0]; return !x || !!x.metadata.deletionTimestamp; });
  return reply.code(204).send();
}

async function listAddresses(req: FastifyRequest): Promise<Record<string, unknown>> {
  return addressesView(await findServer(req, idParam(req)));
}

async function showNetworkAddresses(req: FastifyRequest): Promise<Record<string, unknown>> {
  const { id, network } = req.params as { id: string; network: string };
  const ips = ipsView(await findServer(req, id))[network];
  if (!ips) throw notFound('Instance is not a member of specified network');
  return networkAddressesView(network, ips);
}
