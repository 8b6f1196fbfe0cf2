// /servers: create, list, detail, show, update, delete; /ips; /metadata; /tags.
// Reads come from the Server cache (never the apiserver); writes go to the apiserver as the caller.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_VERSION } from '../../api/group.ts';
import { SERVERS, type Server } from '../../api/server.ts';
import { LAUNCH_INDEX_ANNOTATION, REQUEST_ANNOTATION, RESERVATION_ANNOTATION, USER_ANNOTATION } from '../../api/labels.ts';
import { ownerReference, SECRETS } from '../../kube/types.ts';
import { badRequest, forbidden, notFound, versionNotFound } from '../../nova/faults.ts';
import { nextLink } from '../../nova/views/links.ts';
import { flavorId } from '../../nova/views/flavors.ts';
import { ipsView, serverDetail, serverId, serverSummary, updatedAt, type ServerViewInputs } from '../../nova/views/servers.ts';
import { POWER_STATE_CODES } from '../../nova/status.ts';
import type { FacadeDeps } from '../app.ts';
import { S, validate, type Schema } from '../validate.ts';
import { cacheCatchUp, callerClient, canListServers, findServer as findVisibleServer, patchFresh, last, page, requireProject, viewContext } from './common.ts';
import type { Version } from '../../nova/microversion.ts';
import { checkAction } from '../../nova/actions.ts';
import { requestStamp } from './server-actions.ts';
import { serverState } from '../../nova/server-state.ts';
import { canUseFlavor, findHost, findKeyPair, hostZone, zoneExists } from '../../compute/references.ts';
import { dnsLabel, hostnameOf, requestedHostname } from '../../nova/hostname.ts';
import { imageIdOf, imageProperties } from '../../nova/images.ts';

type Query = Record<string, string | string[] | undefined>;

const HOSTNAME = { type: 'string', minLength: 2, maxLength: 63, pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$' };
const HOSTNAME_FQDN = { type: 'string', minLength: 2, maxLength: 255, pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-.]*[a-zA-Z0-9]+$' };
const TAG = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };

function createSchema(v: Version): Schema {
  const networkItem = {
    type: 'object',
    additionalProperties: false,
    properties: {
      uuid: v.atLeast('2.37') ? S.uuid : { type: 'string' },
      port: { type: ['string', 'null'] },
      fixed_ip: { type: 'string' },
      ...(v.cmp('2.32') === 0 || v.atLeast('2.42') ? { tag: { type: 'string', maxLength: 60 } } : {}),
    },
  };
  const server: Record<string, unknown> = {
    name: S.name,
    imageRef: { anyOf: [S.uuid, { type: 'string', maxLength: 0 }] },
    flavorRef: { type: ['string', 'integer'], minLength: 1 },
    adminPass: { type: 'string' },
    metadata: S.metadata,
    availability_zone: { type: 'string', minLength: 1, maxLength: 255 },
    key_name: { type: 'string', minLength: 1, maxLength: 255 },
    config_drive: { type: ['boolean', 'string'] },
    min_count: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
    max_count: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
    return_reservation_id: { type: ['boolean', 'string'] },
    security_groups: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false } },
    user_data: { type: 'string', format: 'byte', maxLength: 65535 },
    accessIPv4: { type: 'string', format: 'ipv4' },
    accessIPv6: { type: 'string', format: 'ipv6' },
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    networks: v.atLeast('2.37')
      ? { anyOf: [{ type: 'string', enum: ['auto', 'none'] }, { type: 'array', items: networkItem }] }
      : { type: 'array', items: networkItem },
    block_device_mapping_v2: { type: 'array' },
    block_device_mapping: { type: 'array' },
  };
  if (!v.atLeast('2.57')) server.personality = { type: 'array' };
  if (v.atLeast('2.19')) server.description = S.nullableString(255);
  if (v.atLeast('2.52')) server.tags = { type: 'array', items: TAG, maxItems: 50 };
  if (v.atLeast('2.63')) server.trusted_image_certificates = { type: ['array', 'null'] };
  if (v.atLeast('2.74')) {
    server.host = { type: 'string', minLength: 1, maxLength: 255 };
    server.hypervisor_hostname = { type: 'string', minLength: 1, maxLength: 255 };
  }
  if (v.atLeast('2.90')) server.hostname = v.atLeast('2.94') ? HOSTNAME_FQDN : HOSTNAME;
  return {
    type: 'object',
    required: ['server'],
    additionalProperties: false,
    properties: {
      server: { type: 'object', required: v.atLeast('2.37') ? ['name', 'flavorRef', 'networks'] : ['name', 'flavorRef'], additionalProperties: false, properties: server },
      'os:scheduler_hints': { type: 'object' },
      'OS-SCH-HNT:scheduler_hints': { type: 'object' },
    },
  };
}

function updateSchema(v: Version): Schema {
  const props: Record<string, unknown> = {
    name: S.name,
    accessIPv4: { type: 'string', format: 'ipv4' },
    accessIPv6: { type: 'string', format: 'ipv6' },
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
  };
  if (v.atLeast('2.19')) props.description = S.nullableString(255);
  if (v.atLeast('2.90')) props.hostname = v.atLeast('2.94') ? HOSTNAME_FQDN : HOSTNAME;
  return { type: 'object', required: ['server'], additionalProperties: false, properties: { server: { type: 'object', additionalProperties: false, properties: props } } };
}

/** Filters a non-admin may use, by the version that brought them (reference §g). */
const USER_FILTERS: [string, string][] = [
  ['reservation_id', '2.1'], ['name', '2.1'], ['status', '2.1'], ['image', '2.1'], ['flavor', '2.1'], ['ip', '2.1'], ['changes-since', '2.1'],
  ['all_tenants', '2.1'], ['ip6', '2.5'], ['tags', '2.26'], ['tags-any', '2.26'], ['not-tags', '2.26'], ['not-tags-any', '2.26'],
  ['changes-before', '2.66'], ['locked', '2.73'], ['availability_zone', '2.83'], ['config_drive', '2.83'], ['key_name', '2.83'],
  ['created_at', '2.83'], ['launched_at', '2.83'], ['terminated_at', '2.83'], ['power_state', '2.83'], ['task_state', '2.83'],
  ['vm_state', '2.83'], ['progress', '2.83'], ['user_id', '2.83'], ['hostname', '2.90'],
];
const ADMIN_FILTERS = ['project_id', 'tenant_id', 'host', 'node', 'uuid', 'display_name', 'description', 'display_description', 'deleted', 'soft_deleted', 'launch_index', 'image_ref', 'kernel_id', 'ramdisk_id', 'root_device_name', 'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'locked_by'];
const PAGING = ['limit', 'marker', 'sort_key', 'sort_dir'];

const SORT_KEYS: Record<string, (s: Server) => string | number> = {
  created_at: (s) => s.metadata.creationTimestamp ?? '',
  updated_at: (s) => updatedAt(s),
  display_name: (s) => s.spec.name,
  uuid: serverId,
  vm_state: (s) => s.status?.vmState ?? '',
  task_state: (s) => s.status?.taskState ?? '',
  power_state: (s) => POWER_STATE_CODES[s.status?.powerState ?? 'NOSTATE'],
  progress: (s) => s.status?.progress ?? 0,
  availability_zone: (s) => s.spec.availabilityZone ?? '',
  key_name: (s) => s.status?.keyName ?? s.spec.keyName ?? '',
  launched_at: (s) => s.status?.launchedAt ?? '',
  terminated_at: (s) => s.status?.terminatedAt ?? '',
  hostname: (s) => hostnameOf(s),
  project_id: (s) => s.metadata.namespace ?? '',
  user_id: (s) => s.metadata.annotations?.[USER_ANNOTATION] ?? '',
  host: (s) => s.status?.host ?? '',
  node: (s) => s.status?.hypervisorHostname ?? '',
  image_ref: (s) => s.spec.image,
  instance_type_id: (s) => s.spec.flavor,
  locked: () => 0,
  display_description: (s) => s.spec.description ?? '',
  config_drive: () => 'True',
  root_device_name: () => '/dev/vda',
  access_ip_v4: () => '',
  access_ip_v6: () => '',
  auto_disk_config: () => 'AUTO',
  kernel_id: () => '',
  ramdisk_id: () => '',
  launch_index: (s) => Number(s.metadata.annotations?.[LAUNCH_INDEX_ANNOTATION] ?? 0),
  locked_by: () => '',
};
const ADMIN_SORT_KEYS = new Set(['host', 'node']);

/** Nova status → the (vm_state, task_state) pairs it stands for, for ?status=. */
const STATUS_FILTER: Record<string, (s: Server) => boolean> = Object.fromEntries(
  ['ACTIVE', 'BUILD', 'PAUSED', 'SUSPENDED', 'SHUTOFF', 'RESCUE', 'RESIZE', 'VERIFY_RESIZE', 'REVERT_RESIZE', 'MIGRATING', 'REBOOT', 'HARD_REBOOT', 'REBUILD', 'PASSWORD', 'SHELVED', 'SHELVED_OFFLOADED', 'SOFT_DELETED', 'DELETED', 'ERROR', 'UNKNOWN']
    .map((st) => [st, (s: Server) => (s.status?.status ?? 'BUILD') === st]),
);

/** What the server view needs beyond the Server: its image, flavor id, zone and host state. */
export function serverViewInputs(deps: FacadeDeps, s: Server): ServerViewInputs {
  const c = deps.caches;
  const img = c.image(s.status?.image?.uid ?? s.spec.image) ?? c.image(s.spec.image);
  const node = s.status?.host ? c.nodes.get(s.status.host) : undefined;
  const ready = node?.status?.conditions?.find((x) => x.type === 'Ready')?.status;
  return {
    projectId: c.projectIdOf(s.metadata.namespace ?? '') ?? s.metadata.namespace ?? '',
    image: img ? { id: imageIdOf(img), properties: imageProperties(img.metadata.annotations) } : s.status?.image?.uid ? { id: s.status.image.uid } : undefined,
    flavorId: s.status?.flavor?.id ?? (c.flavor(s.spec.flavor) ? flavorId(c.flavor(s.spec.flavor)!) : undefined),
    zone: hostZone(node),
    hostStatus: !node ? (s.status?.host ? 'UNKNOWN' : '') : node.spec?.unschedulable ? 'MAINTENANCE' : ready === 'True' ? 'UP' : 'DOWN',
  };
}

export function registerServerRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;

  const canList = (req: FastifyRequest, namespace: string | undefined): Promise<void> => canListServers(deps, req, namespace);
  const findServer = (req: FastifyRequest, id: string): Promise<Server> => findVisibleServer(deps, req, id);

  const inputs = (s: Server): ServerViewInputs => serverViewInputs(deps, s);

  const listServers = async (req: FastifyRequest, detail: boolean, reply: FastifyReply) => {
    const q = req.query as Query;
    const v = req.nova.version;
    const admin = await req.nova.isAdmin();
    const allowed = new Set([...USER_FILTERS.filter(([, since]) => v.atLeast(since)).map(([k]) => k), ...PAGING, ...(admin ? ADMIN_FILTERS : [])]);
    for (const k of Object.keys(q)) {
      if (k.startsWith('_') || ['block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache', 'security_groups', 'pci_devices'].includes(k)) throw badRequest(`Invalid filter field: ${k}.`);
      if (!allowed.has(k) && v.atLeast('2.75')) throw badRequest(`Invalid input for query parameters ${k}. Value: ${last(q[k])}. Additional properties are not allowed ('${k}' was unexpected)`);
    }
    const allTenants = last(q.all_tenants) !== undefined && last(q.all_tenants)?.toLowerCase() !== 'false' && last(q.all_tenants) !== '0';
    if (allTenants && !admin) throw forbidden(`Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.`);
    let list: Server[];
    if (allTenants) {
      list = c.servers.list();
      const project = last(q.project_id) ?? last(q.tenant_id);
      if (project) list = list.filter((s) => (c.projectIdOf(s.metadata.namespace ?? '') ?? s.metadata.namespace) === project || s.metadata.namespace === project);
    } else {
      const ns = requireProject(req).namespace;
      await canList(req, ns);
      list = c.servers.list(ns);
    }
    list = list.filter(filterFor(q, admin, v));
    const sortKeys = ([] as string[]).concat(q.sort_key ?? []);
    const sortDirs = ([] as string[]).concat(q.sort_dir ?? []);
    const keys = sortKeys.length ? sortKeys : ['created_at'];
    for (const k of keys) {
      if (!SORT_KEYS[k]) {
        if (v.atLeast('2.75')) throw badRequest(`Invalid input for query parameters sort_key. Value: ${k}.`);
      } else if (ADMIN_SORT_KEYS.has(k) && !admin) throw forbidden('Only administrators can sort servers by host');
    }
    const usable = keys.filter((k) => SORT_KEYS[k]);
    list.sort((a, b) => {
      for (const [i, k] of usable.entries()) {
        const f = SORT_KEYS[k]!;
        const x = f(a);
        const y = f(b);
        if (x === y) continue;
        const dir = (sortDirs[i] ?? sortDirs[0] ?? 'desc') === 'asc' ? 1 : -1;
        return (x < y ? -1 : 1) * dir;
      }
      return serverId(a) < serverId(b) ? 1 : -1;
    });
    const vc = await viewContext(req);
    const { items, full, limit } = page(list, serverId, { limit: last(q.limit), marker: last(q.marker) });
    const body: Record<string, unknown> = { servers: items.map((s) => (detail ? serverDetail(vc, s, inputs(s)) : serverSummary(vc, s))) };
    if (full && items.length) body.servers_links = nextLink(vc, detail ? 'servers/detail' : 'servers', q, serverId(items.at(-1)!), limit);
    return reply.send(body);
  };

  app.get('/servers', (req, reply) => listServers(req, false, reply));
  app.get('/servers/detail', (req, reply) => listServers(req, true, reply));

  app.get('/servers/:id', async (req) => {
    const s = await findServer(req, (req.params as { id: string }).id);
    return { server: serverDetail(await viewContext(req), s, inputs(s), { show: true }) };
  });

  app.post('/servers', async (req, reply) => {
    const project = requireProject(req);
    const v = req.nova.version;
    const body = validate<{ server: Record<string, unknown> }>(createSchema(v), req.body);
    const b = body.server;
    const admin = await req.nova.isAdmin();
    const caller = req.nova.caller;

    // References, resolved the way Nova does (400 for a bad reference at create).
    const flavorRef = String(b.flavorRef).split('/').pop() ?? '';
    const flavor = c.flavors.byIndex('id', flavorRef)[0];
    if (!flavor || !canUseFlavor(flavor, project)) throw badRequest(`Flavor ${flavorRef} could not be found.`);
    const bdm = (b.block_device_mapping_v2 ?? b.block_device_mapping) as { source_type?: string; destination_type?: string; uuid?: string; boot_index?: number | string; volume_size?: number | string }[] | undefined;
    let imageRef = typeof b.imageRef === 'string' ? b.imageRef : '';
    let rootDiskGiB: number | undefined;
    if (bdm?.length) {
      // The one mapping Kova has: boot from an image copied into a volume (the root DataVolume).
      const boot = bdm.find((d) => String(d.boot_index ?? '') === '0');
      if (bdm.length > 1 || !boot || boot.source_type !== 'image' || !boot.uuid) throw badRequest('Block device mappings other than one image as the boot volume are not supported by Kova yet.');
      imageRef = boot.uuid;
      if (boot.volume_size !== undefined) {
        rootDiskGiB = Number(boot.volume_size);
        if (!Number.isInteger(rootDiskGiB) || rootDiskGiB < 1) throw badRequest(`Invalid input for field/attribute volume_size. Value: ${boot.volume_size}.`);
      }
    }
    if (!imageRef) throw badRequest('Missing imageRef attribute');
    const image = c.image(imageRef);
    if (!image) throw badRequest('Can not find requested image');
    let keyObjectName: string | undefined;
    if (b.key_name !== undefined) {
      const kp = findKeyPair(c, project.namespace, String(b.key_name), caller.user);
      if (!kp) throw badRequest('Invalid key_name provided.');
      keyObjectName = kp.metadata.name;
    }
    if (b.personality !== undefined) throw badRequest('Personality files are not supported by Kova: pass files with user_data.');
    if (Array.isArray(b.networks) && b.networks.length) throw badRequest(`Network ${(b.networks[0] as { uuid?: string }).uuid ?? ''} could not be found.`);
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
    const userData = b.user_data as string | undefined;
    const reservation = `r-${randomBytes(4).toString('hex')}`;

    const client = callerClient(deps, req);
    const created: Server[] = [];
    try {
      for (let i = 0; i < max; i++) {
        const name = max > 1 ? `${b.name}-${i + 1}` : String(b.name);
        const objectName = `${dnsLabel(name, 40) || 'server'}-${randomBytes(3).toString('hex')}`;
        const spec: Server['spec'] = {
          name,
          flavor: flavor.metadata.name ?? flavorRef,
          image: image.metadata.name ?? imageRef,
          ...(rootDiskGiB ? { rootDiskGiB } : {}),
          networks: b.networks === 'none' ? 'none' : 'auto',
          ...(keyObjectName ? { keyName: keyObjectName } : {}),
          ...(userData ? { userData: { secretName: `${objectName}-user-data` } } : {}),
          ...(b.metadata ? { metadata: b.metadata as Record<string, string> } : {}),
          ...(Array.isArray(b.tags) && b.tags.length ? { tags: b.tags as string[] } : {}),
          ...(az ? { availabilityZone: az } : {}),
          ...(host ? { host } : {}),
          ...(typeof b.hostname === 'string' ? { hostname: requestedHostname(b.hostname) } : {}),
          ...(typeof b.description === 'string' ? { description: b.description } : {}),
        };
        const server = await client.create<Server>(SERVERS, {
          metadata: {
            name: objectName,
            namespace: project.namespace,
            annotations: {
              [USER_ANNOTATION]: caller.user, [RESERVATION_ANNOTATION]: reservation, [LAUNCH_INDEX_ANNOTATION]: String(i),
              [REQUEST_ANNOTATION]: requestStamp(req, 'create'),
            },
          },
          spec,
        });
        created.push(server);
        if (userData) {
          await client.create(SECRETS, {
            metadata: { name: `${objectName}-user-data`, namespace: project.namespace, ownerReferences: [ownerReference(server, API_VERSION, 'Server')] },
            type: 'Opaque',
            data: { userdata: userData },
          });
        }
      }
    } catch (e) {
      // Nothing half-created: remove what this request made (the Secrets go with their Server).
      await Promise.all(created.map((s) => client.delete(SERVERS, s.metadata.name ?? '', project.namespace).catch(() => undefined)));
      throw e;
    }
    await cacheCatchUp(c.servers, () => created.every((s) => c.servers.byIndex('uid', serverId(s)).length > 0));
    if (b.return_reservation_id === true || b.return_reservation_id === 'True' || b.return_reservation_id === 'true') {
      return reply.code(202).send({ reservation_id: reservation });
    }
    const first = created[0]!;
    const vc = await viewContext(req);
    reply.header('location', `${vc.origin}${vc.prefix}/servers/${serverId(first)}`);
    return reply.code(202).send({ server: { id: serverId(first), links: serverSummary(vc, first).links, 'OS-DCF:diskConfig': 'AUTO', ...(first.spec.networks === 'none' ? {} : { security_groups: [{ name: 'default' }] }) } });
  });

  app.put('/servers/:id', async (req) => {
    const s = await findServer(req, (req.params as { id: string }).id);
    const v = req.nova.version;
    const body = validate<{ server: { name?: string; description?: string | null; hostname?: string } }>(updateSchema(v), req.body).server;
    const spec: Record<string, unknown> = {};
    if (body.name !== undefined) spec.name = body.name;
    if (body.description !== undefined) spec.description = body.description;
    if (body.hostname !== undefined) spec.hostname = requestedHostname(body.hostname);
    const updated = Object.keys(spec).length ? await patchSpec(req, s, spec) : s;
    return { server: serverDetail(await viewContext(req), updated, inputs(updated), { update: true }) };
  });

  app.delete('/servers/:id', async (req, reply) => {
    const s = await findServer(req, (req.params as { id: string }).id);
    checkAction('delete', serverState(s, { pending: true }), { admin: await req.nova.isAdmin() });
    // With a reclaim interval, Nova soft-deletes a launched server; the controller reclaims it later.
    if ((deps.cfg.reclaimInstanceIntervalSeconds ?? 0) > 0 && s.status?.launchedAt) {
      await patchFresh(deps, req, c.servers, s, () => ({ metadata: { annotations: { [REQUEST_ANNOTATION]: requestStamp(req, 'delete') } }, spec: { powerState: 'SoftDeleted' } }));
      return reply.code(204).send();
    }
    await callerClient(deps, req).delete(SERVERS, s.metadata.name ?? '', s.metadata.namespace, { uid: s.metadata.uid });
    await cacheCatchUp(c.servers, () => { const x = c.servers.byIndex('uid', serverId(s))[0]; return !x || !!x.metadata.deletionTimestamp; });
    return reply.code(204).send();
  });

  // Addresses.
  app.get('/servers/:id/ips', async (req) => ({ addresses: ipsView(await findServer(req, (req.params as { id: string }).id)) }));
  app.get('/servers/:id/ips/:network', async (req) => {
    const { id, network } = req.params as { id: string; network: string };
    const ips = ipsView(await findServer(req, id))[network];
    if (!ips) throw notFound('Instance is not a member of specified network');
    return { [network]: ips };
  });

  // Metadata.
  /** Patches spec as the caller; `spec` may depend on the server's current state (re-read on conflict). */
  const patchSpec = (req: FastifyRequest, s: Server, spec: Record<string, unknown> | ((cur: Server) => Record<string, unknown>)): Promise<Server> =>
    patchFresh(deps, req, c.servers, s, (cur) => ({ spec: typeof spec === 'function' ? spec(cur) : spec }));
  const metadataSchema: Schema = { type: 'object', required: ['metadata'], additionalProperties: false, properties: { metadata: S.metadata } };
  // Metadata and tags follow Nova's rule for 'update metadata': a state check and the lock.
  const checkMetadataState = async (s: Server, req: FastifyRequest): Promise<void> => {
    checkAction('update metadata', serverState(s, { pending: true }), { admin: await req.nova.isAdmin() });
  };
  app.get('/servers/:id/metadata', async (req) => ({ metadata: (await findServer(req, (req.params as { id: string }).id)).spec.metadata ?? {} }));
  app.get('/servers/:id/metadata/:key', async (req) => {
    const { id, key } = req.params as { id: string; key: string };
    const value = (await findServer(req, id)).spec.metadata?.[key];
    if (value === undefined) throw notFound('Metadata item was not found');
    return { meta: { [key]: value } };
  });
  app.post('/servers/:id/metadata', async (req) => {
    const s = await findServer(req, (req.params as { id: string }).id);
    const body = validate<{ metadata: Record<string, string> }>(metadataSchema, req.body);
    await checkMetadataState(s, req);
    const merged = { ...s.spec.metadata, ...body.metadata };
    if (Object.keys(merged).length > 128) throw forbidden('Quota exceeded for metadata_items: Requested 1, but already used 128 of 128 metadata_items');
    return { metadata: (await patchSpec(req, s, { metadata: body.metadata })).spec.metadata ?? {} };
  });
  app.put('/servers/:id/metadata', async (req) => {
    const s = await findServer(req, (req.params as { id: string }).id);
    const body = validate<{ metadata: Record<string, string> }>(metadataSchema, req.body);
    await checkMetadataState(s, req);
    const replaceAll = (cur: Server) => ({ metadata: { ...Object.fromEntries(Object.keys(cur.spec.metadata ?? {}).map((k) => [k, null])), ...body.metadata } });
    return { metadata: (await patchSpec(req, s, replaceAll)).spec.metadata ?? {} };
  });
  app.put('/servers/:id/metadata/:key', async (req) => {
    const { id, key } = req.params as { id: string; key: string };
    const s = await findServer(req, id);
    const body = validate<{ meta: Record<string, string> }>({ type: 'object', required: ['meta'], additionalProperties: false, properties: { meta: { ...S.metadata, minProperties: 1, maxProperties: 1 } } }, req.body);
    if (!(key in body.meta)) throw badRequest('Request body and URI mismatch');
    await checkMetadataState(s, req);
    await patchSpec(req, s, { metadata: body.meta });
    return { meta: body.meta };
  });
  app.delete('/servers/:id/metadata/:key', async (req, reply) => {
    const { id, key } = req.params as { id: string; key: string };
    const s = await findServer(req, id);
    if (s.spec.metadata?.[key] === undefined) throw notFound('Metadata item was not found');
    await checkMetadataState(s, req);
    await patchSpec(req, s, { metadata: { [key]: null } });
    return reply.code(204).send();
  });

  // Tags (2.26+).
  const tagsRoute = (fn: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.nova.version.atLeast('2.26')) throw versionNotFound();
    return fn(req, reply);
  };
  const checkTagState = checkMetadataState;
  app.get('/servers/:id/tags', tagsRoute(async (req) => ({ tags: (await findServer(req, (req.params as { id: string }).id)).spec.tags ?? [] })));
  app.put('/servers/:id/tags', tagsRoute(async (req) => {
    const s = await findServer(req, (req.params as { id: string }).id);
    const body = validate<{ tags: string[] }>({ type: 'object', required: ['tags'], additionalProperties: false, properties: { tags: { type: 'array', items: TAG, maxItems: 50 } } }, req.body);
    await checkTagState(s, req);
    const tags = [...new Set(body.tags)];
    return { tags: (await patchSpec(req, s, { tags })).spec.tags ?? [] };
  }));
  app.delete('/servers/:id/tags', tagsRoute(async (req, reply) => {
    const s = await findServer(req, (req.params as { id: string }).id);
    await checkTagState(s, req);
    await patchSpec(req, s, { tags: null });
    return reply.code(204).send();
  }));
  app.get('/servers/:id/tags/:tag', tagsRoute(async (req, reply) => {
    const { id, tag } = req.params as { id: string; tag: string };
    if (!(await findServer(req, id)).spec.tags?.includes(tag)) throw notFound(`Tag ${tag} could not be found.`);
    return reply.code(204).send();
  }));
  app.put('/servers/:id/tags/:tag', tagsRoute(async (req, reply) => {
    const { id, tag } = req.params as { id: string; tag: string };
    validate(TAG, tag, 'query');
    const s = await findServer(req, id);
    await checkTagState(s, req);
    if (s.spec.tags?.includes(tag)) return reply.code(204).send();
    if ((s.spec.tags?.length ?? 0) >= 50) throw badRequest('The number of tags exceeded the per-server limit 50');
    await patchSpec(req, s, (cur) => ({ tags: [...new Set([...(cur.spec.tags ?? []), tag])] }));
    const vc = await viewContext(req);
    reply.header('location', `${vc.origin}${vc.prefix}/servers/${id}/tags/${encodeURIComponent(tag)}`);
    return reply.code(201).send();
  }));
  app.delete('/servers/:id/tags/:tag', tagsRoute(async (req, reply) => {
    const { id, tag } = req.params as { id: string; tag: string };
    const s = await findServer(req, id);
    if (!s.spec.tags?.includes(tag)) throw notFound(`Tag ${tag} could not be found.`);
    await checkTagState(s, req);
    await patchSpec(req, s, (cur) => ({ tags: (cur.spec.tags ?? []).filter((t) => t !== tag) }));
    return reply.code(204).send();
  }));

  function filterFor(q: Query, admin: boolean, v: Version): (s: Server) => boolean {
    const tests: ((s: Server) => boolean)[] = [];
    const regex = (k: string, get: (s: Server) => string | undefined): void => {
      const val = last(q[k]);
      if (val === undefined) return;
      let re: RegExp;
      try {
        re = new RegExp(val);
      } catch {
        re = new RegExp(val.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      }
      tests.push((s) => re.test(get(s) ?? ''));
    };
    const exact = (k: string, get: (s: Server) => string | number | undefined): void => {
      const val = last(q[k]);
      if (val !== undefined) tests.push((s) => String(get(s) ?? '') === val);
    };
    regex('name', (s) => s.spec.name);
    if (admin) regex('display_name', (s) => s.spec.name);
    const status = last(q.status);
    if (status !== undefined) {
      const f = STATUS_FILTER[status.toUpperCase()];
      if (!f) {
        if (v.atLeast('2.38')) throw badRequest('Invalid status value');
        tests.push(() => false);
      } else tests.push(f);
    }
    exact('reservation_id', (s) => s.metadata.annotations?.[RESERVATION_ANNOTATION]);
    const imageOf = (s: Server) => { const d = c.image(s.spec.image); return s.status?.image?.uid ?? (d ? imageIdOf(d) : undefined); };
    exact('image', (s) => imageOf(s));
    if (admin) exact('image_ref', (s) => imageOf(s));
    exact('flavor', (s) => s.status?.flavor?.id ?? s.spec.flavor);
    const ip = last(q.ip);
    if (ip !== undefined) tests.push((s) => Object.values(s.status?.addresses ?? {}).flat().some((a) => a.version === 4 && new RegExp(ip).test(a.addr ?? '')));
    const ip6 = last(q.ip6);
    if (ip6 !== undefined && (admin || v.atLeast('2.5'))) tests.push((s) => Object.values(s.status?.addresses ?? {}).flat().some((a) => a.version === 6 && new RegExp(ip6).test(a.addr ?? '')));
    const since = last(q['changes-since']);
    const before = last(q['changes-before']);
    for (const [k, t] of [['changes-since', since], ['changes-before', before]] as const) if (t !== undefined && Number.isNaN(Date.parse(t))) throw badRequest(`Invalid input for query parameters ${k}. Value: ${t}. '${t}' is not a 'date-time'`);
    if (since && before && Date.parse(since) > Date.parse(before)) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
    if (since) tests.push((s) => Date.parse(updatedAt(s)) >= Date.parse(since));
    if (before) tests.push((s) => Date.parse(updatedAt(s)) <= Date.parse(before));
    if (v.atLeast('2.26')) {
      const list = (k: string) => (last(q[k]) ?? '').split(',').filter(Boolean);
      const tags = list('tags');
      const any = list('tags-any');
      const notTags = list('not-tags');
      const notAny = list('not-tags-any');
      if (tags.length) tests.push((s) => tags.every((t) => s.spec.tags?.includes(t)));
      if (any.length) tests.push((s) => any.some((t) => s.spec.tags?.includes(t)));
      if (notTags.length) tests.push((s) => !notTags.every((t) => s.spec.tags?.includes(t)));
      if (notAny.length) tests.push((s) => !notAny.some((t) => s.spec.tags?.includes(t)));
    }
    if (v.atLeast('2.73') && last(q.locked) !== undefined) tests.push(() => last(q.locked)?.toLowerCase() === 'false');
    if (admin || v.atLeast('2.83')) {
      exact('availability_zone', (s) => s.spec.availabilityZone);
      exact('key_name', (s) => s.status?.keyName ?? s.spec.keyName);
      exact('vm_state', (s) => s.status?.vmState);
      exact('task_state', (s) => s.status?.taskState);
      exact('power_state', (s) => POWER_STATE_CODES[s.status?.powerState ?? 'NOSTATE']);
      exact('progress', (s) => s.status?.progress);
      exact('user_id', (s) => s.metadata.annotations?.[USER_ANNOTATION]);
    }
    if (admin || v.atLeast('2.90')) regex('hostname', (s) => hostnameOf(s));
    if (admin) {
      exact('host', (s) => s.status?.host);
      exact('node', (s) => s.status?.hypervisorHostname);
      exact('uuid', (s) => serverId(s));
      regex('description', (s) => s.spec.description);
    }
    return (s) => tests.every((t) => t(s));
  }
}
