// Nova's server view per microversion, rendered from Server.status (which the controller computes).
// Pure: the route gathers the inputs, this decides the shape.
import { withPendingTask } from '../server-state.ts';
import { hostnameOf } from '../hostname.ts';
import { type Server } from '../../api/server.ts';
import { LAUNCH_INDEX_ANNOTATION, USER_ANNOTATION } from '../../api/labels.ts';
import { accessIpOf, keyNameOf, reservationIdOf } from '../server-columns.ts';
import { lastWriteAt } from '../timestamps.ts';
import { POWER_STATE_CODES } from '../status.ts';
import { hintsView } from '../scheduler-hints.ts';
import { bookmark, naiveTime, pageBody, selfAndBookmark, type Page, type ViewContext } from './links.ts';

/** What a server view needs besides the Server itself. */
export interface ServerViewInputs {
  projectId: string;
  /** The image's Nova id (DataSource uid) and properties, if known. */
  image?: { id: string; properties?: Record<string, string> };
  /** Flavor id for the pre-2.47 link form. */
  flavorId?: string;
  /** Whether the host (Node) is up, for host_status (2.16, admin). */
  hostStatus?: 'UP' | 'DOWN' | 'MAINTENANCE' | 'UNKNOWN' | '';
  /** The availability zone of the server's host. */
  zone?: string;
  /** The Nova id of the server group its `group` hint named, while the group exists (2.71). */
  serverGroupId?: string;
}

const iso = (t: string | undefined): string => (t ?? new Date(0).toISOString()).replace(/\.\d+Z$/, 'Z');
const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);

/** The server's id in Nova: its Kubernetes uid. */
export const serverId = (s: Server): string => s.metadata.uid ?? '';

export function serverSummary(c: ViewContext, s: Server): Record<string, unknown> {
  return { id: serverId(s), links: selfAndBookmark(c, 'servers', serverId(s)), name: s.spec.name };
}

/** Keys Nova leaves out of the PUT /servers/{id} answer before 2.75 (it used a reduced view). */
const NOT_IN_OLD_UPDATE = /^(key_name|config_drive|OS-EXT-|os-extended-volumes|OS-SRV-USG|security_groups|host_status|fault)/;

export function serverDetail(c: ViewContext, s: Server, i: ServerViewInputs, o: { show?: boolean; update?: boolean } = {}): Record<string, unknown> {
  const out = fullDetail(c, s, i, o);
  if (!o.update || c.version.atLeast('2.75')) return out;
  for (const k of Object.keys(out)) if (NOT_IN_OLD_UPDATE.test(k)) delete out[k];
  out.addresses = Object.fromEntries(Object.entries((out.addresses ?? {}) as Record<string, { addr: string; version: number }[]>).map(([n, l]) => [n, l.map((a) => ({ addr: a.addr, version: a.version }))]));
  return out;
}

function fullDetail(c: ViewContext, s: Server, i: ServerViewInputs, o: { show?: boolean; update?: boolean }): Record<string, unknown> {
  const v = c.version;
  const st = withPendingTask(s);
  const status = st.status ?? 'BUILD';
  const vmState = st.vmState ?? 'building';
  const flavor = st.flavor;
  const out: Record<string, unknown> = {
    ...serverSummary(c, s),
    accessIPv4: accessIpOf(s, 4) ?? '',
    accessIPv6: accessIpOf(s, 6) ?? '',
    addresses: vmState === 'building' ? {} : addresses(st.addresses),
    created: iso(s.metadata.creationTimestamp),
    flavor: v.atLeast('2.47')
      ? {
          vcpus: flavor?.vcpus ?? 0,
          ram: flavor?.ramMiB ?? 0,
          disk: flavor?.diskGiB ?? 0,
          ephemeral: flavor?.ephemeralGiB ?? 0,
          swap: flavor?.swapMiB ?? 0,
          original_name: flavor?.name ?? s.spec.flavor,
          extra_specs: flavor?.extraSpecs ?? {},
        }
      : { id: i.flavorId ?? flavor?.id ?? s.spec.flavor, links: bookmark(c, 'flavors', i.flavorId ?? flavor?.id ?? s.spec.flavor) },
    hostId: st.hostId ?? '',
    image: i.image ? { id: i.image.id, links: bookmark(c, 'images', i.image.id), ...(v.atLeast('2.98') ? { properties: i.image.properties ?? {} } : {}) } : '',
    key_name: keyNameOf(s),
    metadata: s.spec.metadata ?? {},
    config_drive: 'True',
    'OS-DCF:diskConfig': 'AUTO',
    'OS-EXT-AZ:availability_zone': i.zone ?? s.spec.availabilityZone ?? '',
    'OS-EXT-STS:power_state': POWER_STATE_CODES[st.powerState ?? 'NOSTATE'],
    'OS-EXT-STS:task_state': st.taskState ?? null,
    'OS-EXT-STS:vm_state': vmState,
    'os-extended-volumes:volumes_attached': [],
    'OS-SRV-USG:launched_at': naiveTime(st.launchedAt),
    'OS-SRV-USG:terminated_at': naiveTime(st.terminatedAt),
    security_groups: s.spec.networks === 'none' ? undefined : [{ name: 'default' }],
    status,
    tenant_id: i.projectId,
    updated: iso(lastWriteAt(s)),
    user_id: s.metadata.annotations?.[USER_ANNOTATION] ?? '',
  };
  if (out.security_groups === undefined) delete out.security_groups;
  if (PROGRESS_STATUSES.has(status)) out.progress = st.progress ?? 0;
  if ((status === 'ERROR' || status === 'DELETED') && st.fault) {
    out.fault = {
      code: st.fault.code,
      created: iso(st.fault.created),
      message: st.fault.message,
      ...(st.fault.details && (c.admin || st.fault.code !== 500) ? { details: st.fault.details } : {}),
    };
  }
  if (c.admin) {
    out['OS-EXT-SRV-ATTR:host'] = st.host ?? null;
    out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = st.hypervisorHostname ?? null;
    out['OS-EXT-SRV-ATTR:instance_name'] = st.instanceName ?? '';
    if (v.atLeast('2.3')) {
      out['OS-EXT-SRV-ATTR:hostname'] = hostnameOf(s);
      out['OS-EXT-SRV-ATTR:kernel_id'] = '';
      out['OS-EXT-SRV-ATTR:launch_index'] = Number(s.metadata.annotations?.[LAUNCH_INDEX_ANNOTATION] ?? 0);
      out['OS-EXT-SRV-ATTR:ramdisk_id'] = '';
      out['OS-EXT-SRV-ATTR:reservation_id'] = reservationIdOf(s);
      out['OS-EXT-SRV-ATTR:root_device_name'] = '/dev/vda';
      // User data lives in a Secret and is never echoed back.
      out['OS-EXT-SRV-ATTR:user_data'] = null;
    }
  } else if (v.atLeast('2.90')) {
    out['OS-EXT-SRV-ATTR:hostname'] = hostnameOf(s);
  }
  if (v.atLeast('2.3')) out['os-extended-volumes:volumes_attached'] = [];
  if (v.atLeast('2.9')) out.locked = s.spec.locked === true;
  if (v.atLeast('2.16') && c.admin) out.host_status = i.hostStatus ?? '';
  if (v.atLeast('2.19')) out.description = s.spec.description ?? null;
  if (v.atLeast('2.26')) out.tags = s.spec.tags ?? [];
  if (v.atLeast('2.63')) out.trusted_image_certificates = null;
  if (v.atLeast('2.71') && (o.show || o.update)) out.server_groups = i.serverGroupId ? [i.serverGroupId] : [];
  if (v.atLeast('2.73')) out.locked_reason = s.spec.locked ? s.spec.lockedReason ?? null : null;
  if (v.atLeast('2.96')) out.pinned_availability_zone = s.spec.availabilityZone ?? null;
  if (v.atLeast('2.100')) out.scheduler_hints = hintsView(s.spec, i.serverGroupId);
  return out;
}

function addresses(a: NonNullable<Server['status']>['addresses']): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [net, list] of Object.entries(a ?? {})) {
    out[net] = list.map((x) => ({
      addr: x.addr,
      'OS-EXT-IPS-MAC:mac_addr': x.macAddr ?? '',
      'OS-EXT-IPS:type': x.type ?? 'fixed',
      version: x.version ?? 4,
    }));
  }
  return out;
}

/** GET /servers and /servers/detail, with `servers_links` when the page is full. */
export function serverList(c: ViewContext, p: Page<Server>, o: { detail: boolean; query: Record<string, unknown>; inputs: (s: Server) => ServerViewInputs }): Record<string, unknown> {
  return pageBody(c, 'servers', p, (s) => (o.detail ? serverDetail(c, s, o.inputs(s)) : serverSummary(c, s)), { path: o.detail ? 'servers/detail' : 'servers', query: o.query, idOf: serverId });
}

export const serverShown = (c: ViewContext, s: Server, i: ServerViewInputs) => ({ server: serverDetail(c, s, i, { show: true }) });

export const serverUpdated = (c: ViewContext, s: Server, i: ServerViewInputs) => ({ server: serverDetail(c, s, i, { update: true }) });

/** POST /servers: the first server made, with its admin password when Nova shows it (enable_instance_password). */
export function serverCreated(c: ViewContext, s: Server, shown: { adminPass?: string } = {}): Record<string, unknown> {
  return { server: { id: serverId(s), links: serverSummary(c, s).links, 'OS-DCF:diskConfig': 'AUTO', ...(s.spec.networks === 'none' ? {} : { security_groups: [{ name: 'default' }] }), ...shown } };
}

/** POST /servers with return_reservation_id: the reservation the servers were made under. */
export const reservationView = (reservationId: string) => ({ reservation_id: reservationId });

/**
 * The rebuild action's answer: an update's view (before 2.75 its short form, to which 2.54 adds
 * key_name); from 2.57 with the user data the request gave instead of the attribute.
 */
export function serverRebuilt(c: ViewContext, s: Server, i: ServerViewInputs, userData: string | null | undefined, shown: { adminPass?: string } = {}): Record<string, unknown> {
  const v = c.version;
  const view: Record<string, unknown> = { ...serverDetail(c, s, i, { update: true }), ...shown };
  if (v.atLeast('2.54') && !v.atLeast('2.75')) view.key_name = keyNameOf(s);
  if (v.atLeast('2.57')) {
    delete view['OS-EXT-SRV-ATTR:user_data']; // shown as user_data instead
    view.user_data = userData ?? null;
  }
  return { server: view };
}

/** `/servers/{id}/ips`: the same addresses, without the OS-EXT fields. */
export function ipsView(s: Server): Record<string, { addr: string; version: number }[]> {
  const out: Record<string, { addr: string; version: number }[]> = {};
  if ((s.status?.vmState ?? 'building') === 'building') return out;
  for (const [net, list] of Object.entries(s.status?.addresses ?? {})) out[net] = list.map((x) => ({ addr: x.addr ?? '', version: x.version ?? 4 }));
  return out;
}

export const addressesView = (s: Server) => ({ addresses: ipsView(s) });

/** `/servers/{id}/ips/{network}`: one network's addresses. */
export const networkAddressesView = (network: string, ips: { addr: string; version: number }[]) => ({ [network]: ips });
