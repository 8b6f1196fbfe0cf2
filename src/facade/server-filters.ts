// Nova's server list query (GET /servers, /servers/detail; reference §g): which keys the query may
// hold at a microversion, which filters and sort keys a caller may use, and the filter and order they
// stand for, as Nova's API and database layers apply them (servers.py _get_servers,
// db instance_get_all_by_filters_sort). Pure: the route reads the Servers and their facts; this
// decides which ones it answers, in what order.
import type { Server } from '../api/server.ts';
import { badRequest, forbidden } from '../nova/faults.ts';
import type { Version } from '../nova/microversion.ts';
import { columnReader, columnText, hasColumn, type Column, type ServerFacts } from '../nova/server-columns.ts';
import { all, isTrueish, last, strictBool, type Query } from './query.ts';

/** Filters a non-admin may use, by the version that brought them (Nova's _get_server_search_options). */
const USER_FILTERS: [string, string][] = [
  ['reservation_id', '2.1'], ['name', '2.1'], ['status', '2.1'], ['image', '2.1'], ['flavor', '2.1'], ['ip', '2.1'], ['changes-since', '2.1'],
  ['all_tenants', '2.1'], ['ip6', '2.5'], ['tags', '2.26'], ['tags-any', '2.26'], ['not-tags', '2.26'], ['not-tags-any', '2.26'],
  ['changes-before', '2.66'], ['locked', '2.73'], ['availability_zone', '2.83'], ['config_drive', '2.83'], ['key_name', '2.83'],
  ['created_at', '2.83'], ['launched_at', '2.83'], ['terminated_at', '2.83'], ['power_state', '2.83'], ['task_state', '2.83'],
  ['vm_state', '2.83'], ['progress', '2.83'], ['user_id', '2.83'], ['hostname', '2.90'],
];
const PAGING = ['limit', 'marker', 'sort_key', 'sort_dir'];
/** Keys whose values Nova's schema checks as regular expressions ('format': 'regex'). */
const REGEX_KEYS = [
  'kernel_id', 'ramdisk_id', 'hostname', 'key_name', 'power_state', 'node', 'flavor', 'reservation_id', 'launched_at', 'terminated_at',
  'availability_zone', 'name', 'display_name', 'description', 'display_description', 'locked_by', 'root_device_name', 'config_drive',
  'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'progress', 'ip', 'ip6', 'created_at',
];
const TAG_KEYS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'];
/** Joined tables: never filters (400 for admins, whose filters reach the database). */
const JOINED_TABLES = ['block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache', 'security_groups', 'pci_devices'];
/** Every key of Nova's query schema at a version (from 2.75 any other key is refused). */
function schemaKeys(v: Version): Set<string> {
  const keys = [
    ...REGEX_KEYS, 'user_id', 'project_id', 'tenant_id', 'launch_index', 'image_ref', 'image', 'vm_state', 'task_state', 'host', 'uuid',
    'all_tenants', 'soft_deleted', 'deleted', 'status', 'changes-since', ...PAGING, ...JOINED_TABLES,
  ];
  if (v.atLeast('2.26')) keys.push(...TAG_KEYS);
  if (v.atLeast('2.66')) keys.push('changes-before');
  if (v.atLeast('2.73')) keys.push('locked');
  return new Set(keys);
}

/** Sort keys Nova takes (VALID_SORT_KEYS); host and node are admins' only. */
const SORT_KEYS = [
  'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'availability_zone', 'config_drive', 'created_at', 'display_description', 'display_name',
  'host', 'hostname', 'image_ref', 'instance_type_id', 'kernel_id', 'key_name', 'launch_index', 'launched_at', 'locked_by', 'node', 'power_state',
  'progress', 'project_id', 'ramdisk_id', 'root_device_name', 'task_state', 'terminated_at', 'updated_at', 'user_id', 'uuid', 'vm_state',
];
/** Keys Nova once took and now ignores (before 2.75; `locked` sorts from 2.73), and refuses from 2.75. */
const IGNORED_SORT_KEYS = [
  'architecture', 'cell_name', 'cleaned', 'default_ephemeral_device', 'default_swap_device', 'deleted', 'deleted_at', 'disable_terminate',
  'ephemeral_gb', 'ephemeral_key_uuid', 'id', 'key_data', 'launched_on', 'locked', 'memory_mb', 'os_type', 'reservation_id', 'root_gb',
  'shutdown_terminate', 'user_data', 'vcpus', 'vm_mode',
];
const ADMIN_SORT_KEYS = ['host', 'node'];
const ignoredSortKeys = (v: Version): string[] => (v.atLeast('2.75') ? [] : v.atLeast('2.73') ? IGNORED_SORT_KEYS.filter((k) => k !== 'locked') : IGNORED_SORT_KEYS);
const sortKeysAt = (v: Version): string[] => [...(v.atLeast('2.73') ? ['locked'] : []), ...SORT_KEYS, ...ignoredSortKeys(v)];

/** Nova's status → the vm_state (and task_state) rows that show it (common.task_and_vm_state_from_status). */
const STATUSES = ['ACTIVE', 'BUILD', 'PAUSED', 'SUSPENDED', 'SHUTOFF', 'RESCUE', 'RESIZE', 'VERIFY_RESIZE', 'REVERT_RESIZE', 'MIGRATING', 'REBOOT', 'HARD_REBOOT', 'REBUILD', 'PASSWORD', 'SHELVED', 'SHELVED_OFFLOADED', 'SOFT_DELETED', 'DELETED', 'ERROR', 'UNKNOWN'];

const queryError = (k: string, v: string, reason: string) => badRequest(`Invalid input for query parameters ${k}. Value: ${v}. ${reason}`);

/** A regular expression as Nova's (Python's) re reads it, in JavaScript's syntax. */
function pythonRegex(source: string): RegExp | undefined {
  try {
    return new RegExp(source.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>'));
  } catch {
    return undefined;
  }
}

/**
 * Nova's schema checks of the query, for every caller: from 2.75 no key it does not know; regular
 * expressions, times and sort keys well formed (a sort key it never knew is refused at every version).
 */
export function checkListQuery(q: Query, v: Version): void {
  const known = schemaKeys(v);
  for (const [k, raw] of Object.entries(q)) {
    if (v.atLeast('2.75') && !known.has(k) && !k.startsWith('_')) throw queryError(k, last(raw) ?? '', `Additional properties are not allowed ('${k}' was unexpected)`);
    for (const val of all(raw)) {
      if ((REGEX_KEYS.includes(k) || (TAG_KEYS.includes(k) && v.atLeast('2.26'))) && (val === '' || !pythonRegex(val))) throw queryError(k, val, `'${val}' is not a 'regex'`);
      if ((k === 'changes-since' || (k === 'changes-before' && v.atLeast('2.66'))) && Number.isNaN(Date.parse(val))) throw queryError(k, val, `'${val}' is not a 'date-time'`);
      if (k === 'sort_key' && !sortKeysAt(v).includes(val)) throw queryError(k, val, `'${val}' is not one of [${sortKeysAt(v).map((s) => `'${s}'`).join(', ')}]`);
    }
  }
}

/** A deleted server's row (a DeletedServer record read as a server, docs/adr/022). */
const hardDeleted = (s: Server): boolean => s.status?.vmState === 'deleted';

/**
 * Whether a list could answer deleted servers, so the route reads their records: a changes-since
 * or changes-before window, or an admin's deleted=true, status=DELETED or vm_state=deleted.
 */
export function wantsDeleted(q: Query, admin: boolean, v: Version): boolean {
  if (q['changes-since'] !== undefined || (v.atLeast('2.66') && q['changes-before'] !== undefined)) return true;
  if (!admin) return false;
  return isTrueish(last(q.deleted)) === true || all(q.status).some((x) => x.toUpperCase() === 'DELETED') || last(q.vm_state) === 'deleted';
}

/** ?all_tenants asks for every project's servers: present with no value, or a word for true. */
export function allTenants(q: Query): boolean {
  if (!Object.hasOwn(q, 'all_tenants')) return false;
  const v = last(q.all_tenants) ?? '';
  return v === '' || strictBool(v);
}

/** The filters that reach Nova's database: a non-admin's allowed ones only, an admin's all. */
function searchOptions(q: Query, admin: boolean, v: Version): Map<string, string> {
  const allowed = new Set(USER_FILTERS.filter(([, since]) => v.atLeast(since)).map(([k]) => k));
  const opts = new Map<string, string>();
  for (const k of Object.keys(q)) {
    if (admin ? PAGING.includes(k) : !allowed.has(k)) continue;
    if (admin && (k.startsWith('_') || JOINED_TABLES.includes(k))) throw badRequest(`Invalid filter field: ${k}.`);
    opts.set(k, last(q[k]) ?? '');
  }
  return opts;
}

/** Nova's renames of search options to columns (compute API get_all). */
const RENAMED: Record<string, string> = { image: 'image_ref', name: 'display_name', tenant_id: 'project_id', flavor: 'instance_type_id' };
/** Columns matched exactly; any other column is matched as a regular expression. */
const EXACT = ['project_id', 'user_id', 'image_ref', 'vm_state', 'instance_type_id', 'uuid', 'host', 'task_state', 'locked'];
/** Options handled apart from the columns (or, like `description`, no column at all: ignored as Nova does). */
const NOT_COLUMNS = ['status', 'changes-since', 'changes-before', 'deleted', 'soft_deleted', 'all_tenants', 'ip', 'ip6', 'project_id', ...TAG_KEYS];

/**
 * The filter a query stands for; `facts` gives what a server's row needs from the caches. Throws
 * Nova's 400 (bad value) or 403 (deleted servers, for non-admins).
 */
export function serverFilter(q: Query, admin: boolean, v: Version, facts: (s: Server) => ServerFacts): (s: Server) => boolean {
  const opts = searchOptions(q, admin, v);
  const tests: ((s: Server, col: (name: string) => Column) => boolean)[] = [];

  // Statuses: any of them (2.38: none valid is a 400; before, nothing matches).
  let vmStates: string[] | undefined;
  if (opts.has('status')) {
    const statuses = all(q.status).map((x) => x.toUpperCase()).filter((x) => STATUSES.includes(x));
    if (!statuses.length) {
      if (v.atLeast('2.38')) throw badRequest('Invalid status value');
      return () => false;
    }
    if (statuses.includes('DELETED')) vmStates = ['deleted'];
    tests.push((s) => statuses.includes(s.status?.status ?? 'BUILD'));
  }
  const since = opts.get('changes-since');
  const before = opts.get('changes-before');
  if (since !== undefined && before !== undefined && Date.parse(since) > Date.parse(before)) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
  if (since !== undefined) tests.push((_s, col) => Date.parse(String(col('updated_at'))) >= Date.parse(since));
  if (before !== undefined) tests.push((_s, col) => Date.parse(String(col('updated_at'))) <= Date.parse(before));

  // Deleted servers are gone from Kubernetes; soft-deleted ones are Nova's "soft_deleted" rows,
  // listed only when asked for (deleted=true, soft_deleted=true, or a changes-since/-before window).
  let deleted: boolean | undefined = opts.has('deleted') ? isTrueish(opts.get('deleted')) ?? false : since === undefined && before === undefined ? false : undefined;
  if (vmStates?.includes('deleted') || opts.get('vm_state') === 'deleted') {
    if (!admin) throw forbidden('Only administrators may list deleted instances');
    deleted = true;
  }
  const softDeleted = (s: Server): boolean => s.status?.vmState === 'soft-delete';
  if (deleted === true) {
    const withSoft = opts.has('soft_deleted') ? isTrueish(opts.get('soft_deleted')) ?? false : true;
    tests.push((s) => hardDeleted(s) || (withSoft && softDeleted(s)));
  } else if (deleted === false) {
    const withSoft = isTrueish(opts.get('soft_deleted')) ?? false;
    tests.push((s) => !hardDeleted(s) && (withSoft || !softDeleted(s)));
  }

  if (v.atLeast('2.26')) {
    const tagList = (k: string) => (opts.get(k) ?? '').split(',').filter(Boolean);
    const tags = tagList('tags');
    const any = tagList('tags-any');
    const notTags = tagList('not-tags');
    const notAny = tagList('not-tags-any');
    if (tags.length) tests.push((s) => tags.every((t) => s.spec.tags?.includes(t)));
    if (any.length) tests.push((s) => any.some((t) => s.spec.tags?.includes(t)));
    if (notTags.length) tests.push((s) => !notTags.every((t) => s.spec.tags?.includes(t)));
    if (notAny.length) tests.push((s) => !notAny.some((t) => s.spec.tags?.includes(t)));
  }

  // ip / ip6 match a fixed address from its start (Python's re.match); a server matches either.
  if (opts.has('ip') || opts.has('ip6')) {
    const ip4 = opts.has('ip') ? pythonRegex(`^(?:${opts.get('ip')})`) : undefined;
    const ip6 = opts.has('ip6') ? pythonRegex(`^(?:${opts.get('ip6')})`) : undefined;
    tests.push((s) => Object.values(s.status?.addresses ?? {}).flat().some((a) => ((a.version ?? 4) === 4 ? ip4 : ip6)?.test(a.addr ?? '') ?? false));
  }

  for (const [key, val] of opts) {
    if (NOT_COLUMNS.includes(key)) continue;
    const column = RENAMED[key] ?? key;
    if (column === 'locked') {
      const want = strictBool(val);
      tests.push((_s, col) => col('locked') === want);
    } else if (EXACT.includes(column)) {
      tests.push((_s, col) => hasColumn(column) && col(column) !== null && String(col(column)) === val);
    } else {
      // Only Nova's columns filter (a NULL matches nothing); any other key reaches none and is ignored.
      const re = pythonRegex(val);
      tests.push((_s, col) => {
        if (!hasColumn(column)) return true;
        const text = columnText(col(column));
        return text !== null && !!re?.test(text);
      });
    }
  }
  if (!tests.length) return () => true;
  return (s) => {
    const col = columnReader(s, () => facts(s));
    return tests.every((t) => t(s, col));
  };
}

/**
 * The order a query asks for (sort_key / sort_dir, newest first by default), then created_at and
 * id as Nova's database adds them (common.get_sort_params, remove_invalid_sort_keys,
 * db process_sort_params); host and node are admins' only.
 */
export function serverOrder(q: Query, admin: boolean, v: Version, facts: (s: Server) => ServerFacts): (a: Server, b: Server) => number {
  const ignored = ignoredSortKeys(v);
  const keys = all(q.sort_key).map((k) => k.trim());
  const dirs = all(q.sort_dir).map((d) => d.trim());
  if (!keys.length) keys.push('created_at');
  if (!dirs.length) dirs.push('desc');
  for (const k of [...keys]) {
    const i = keys.indexOf(k);
    if (ignored.includes(k)) {
      if (dirs.length > i) dirs.splice(i, 1);
      keys.splice(i, 1);
    } else if (ADMIN_SORT_KEYS.includes(k) && !admin) throw forbidden(`Only administrators can sort servers by ${k}`);
  }
  const fallback = dirs[0] ?? 'desc';
  for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw badRequest("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'");
  if (dirs.length > keys.length) throw badRequest('Invalid input received: Sort direction size exceeds sort key size');
  const order = keys.map((k, i) => [k, dirs[i] ?? fallback] as const);
  for (const k of ['created_at', 'uuid']) if (!keys.includes(k)) order.push([k, fallback]);
  // Each server's sort columns, read once.
  const rows = new Map<Server, Column[]>();
  const row = (s: Server): Column[] => {
    let r = rows.get(s);
    if (!r) {
      const col = columnReader(s, () => facts(s));
      rows.set(s, (r = order.map(([k]) => col(k))));
    }
    return r;
  };
  return (a, b) => {
    const ra = row(a);
    const rb = row(b);
    for (let i = 0; i < order.length; i++) {
      const dir = order[i]![1];
      const x = ra[i] ?? null;
      const y = rb[i] ?? null;
      if (x === y) continue;
      // As in MySQL, NULL sorts first.
      const c = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return dir === 'asc' ? c : -c;
    }
    return 0;
  };
}
