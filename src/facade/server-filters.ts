// Nova's server list query (GET /servers, /servers/detail): which filters and sort keys a caller
// may use at a microversion (reference §g), and the filter and order they stand for. Pure: the
// route reads the Servers and resolves their images; this decides which ones it answers, in what order.
import type { Server } from '../api/server.ts';
import { LAUNCH_INDEX_ANNOTATION, RESERVATION_ANNOTATION, USER_ANNOTATION } from '../api/labels.ts';
import { badRequest, forbidden } from '../nova/faults.ts';
import { hostnameOf } from '../nova/hostname.ts';
import type { Version } from '../nova/microversion.ts';
import { POWER_STATE_CODES } from '../nova/status.ts';
import { serverId, updatedAt } from '../nova/views/servers.ts';
import { last, type Query } from './query.ts';

/** Filters a non-admin may use, by the version that brought them. */
const USER_FILTERS: [string, string][] = [
  ['reservation_id', '2.1'], ['name', '2.1'], ['status', '2.1'], ['image', '2.1'], ['flavor', '2.1'], ['ip', '2.1'], ['changes-since', '2.1'],
  ['all_tenants', '2.1'], ['ip6', '2.5'], ['tags', '2.26'], ['tags-any', '2.26'], ['not-tags', '2.26'], ['not-tags-any', '2.26'],
  ['changes-before', '2.66'], ['locked', '2.73'], ['availability_zone', '2.83'], ['config_drive', '2.83'], ['key_name', '2.83'],
  ['created_at', '2.83'], ['launched_at', '2.83'], ['terminated_at', '2.83'], ['power_state', '2.83'], ['task_state', '2.83'],
  ['vm_state', '2.83'], ['progress', '2.83'], ['user_id', '2.83'], ['hostname', '2.90'],
];
const ADMIN_FILTERS = ['project_id', 'tenant_id', 'host', 'node', 'uuid', 'display_name', 'description', 'display_description', 'deleted', 'soft_deleted', 'launch_index', 'image_ref', 'kernel_id', 'ramdisk_id', 'root_device_name', 'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'locked_by'];
const PAGING = ['limit', 'marker', 'sort_key', 'sort_dir'];
/** Fields Nova never filters on, whatever the version. */
const FORBIDDEN_FILTERS = ['block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache', 'security_groups', 'pci_devices'];

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

/** Nova status → whether a server shows it, for ?status=. */
const STATUS_FILTER: Record<string, (s: Server) => boolean> = Object.fromEntries(
  ['ACTIVE', 'BUILD', 'PAUSED', 'SUSPENDED', 'SHUTOFF', 'RESCUE', 'RESIZE', 'VERIFY_RESIZE', 'REVERT_RESIZE', 'MIGRATING', 'REBOOT', 'HARD_REBOOT', 'REBUILD', 'PASSWORD', 'SHELVED', 'SHELVED_OFFLOADED', 'SOFT_DELETED', 'DELETED', 'ERROR', 'UNKNOWN']
    .map((st) => [st, (s: Server) => (s.status?.status ?? 'BUILD') === st]),
);

/** Refuses a query parameter the caller may not use: always for Nova's internal fields, from 2.75 for any unknown one. */
export function checkListQuery(q: Query, admin: boolean, v: Version): void {
  const allowed = new Set([...USER_FILTERS.filter(([, since]) => v.atLeast(since)).map(([k]) => k), ...PAGING, ...(admin ? ADMIN_FILTERS : [])]);
  for (const k of Object.keys(q)) {
    if (k.startsWith('_') || FORBIDDEN_FILTERS.includes(k)) throw badRequest(`Invalid filter field: ${k}.`);
    if (!allowed.has(k) && v.atLeast('2.75')) throw badRequest(`Invalid input for query parameters ${k}. Value: ${last(q[k])}. Additional properties are not allowed ('${k}' was unexpected)`);
  }
}

/** ?all_tenants asks for every project's servers (any value but false and 0). */
export function allTenants(q: Query): boolean {
  const v = last(q.all_tenants);
  return v !== undefined && v.toLowerCase() !== 'false' && v !== '0';
}

/** The filter a query stands for; `imageOf` gives a server's image id. Throws Nova's 400 for a bad value. */
export function serverFilter(q: Query, admin: boolean, v: Version, imageOf: (s: Server) => string | undefined): (s: Server) => boolean {
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
  exact('image', imageOf);
  if (admin) exact('image_ref', imageOf);
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

/**
 * The order a query asks for (sort_key / sort_dir, newest first by default; ties by id). An unknown
 * key is ignored before 2.75 and refused from it; host and node are admins' only.
 */
export function serverOrder(q: Query, admin: boolean, v: Version): (a: Server, b: Server) => number {
  const sortKeys = ([] as string[]).concat(q.sort_key ?? []);
  const sortDirs = ([] as string[]).concat(q.sort_dir ?? []);
  const keys = sortKeys.length ? sortKeys : ['created_at'];
  for (const k of keys) {
    if (!SORT_KEYS[k]) {
      if (v.atLeast('2.75')) throw badRequest(`Invalid input for query parameters sort_key. Value: ${k}.`);
    } else if (ADMIN_SORT_KEYS.has(k) && !admin) throw forbidden('Only administrators can sort servers by host');
  }
  const usable = keys.filter((k) => SORT_KEYS[k]);
  return (a, b) => {
    for (const [i, k] of usable.entries()) {
      const f = SORT_KEYS[k]!;
      const x = f(a);
      const y = f(b);
      if (x === y) continue;
      const dir = (sortDirs[i] ?? sortDirs[0] ?? 'desc') === 'asc' ? 1 : -1;
      return (x < y ? -1 : 1) * dir;
    }
    return serverId(a) < serverId(b) ? 1 : -1;
  };
}
