// A Server as a row of Nova's instances table: the columns the server list filters and sorts on
// (GET /servers?…, sort_key) and the view shows, each as true of the Server as it can be. Pure: the
// caller supplies what needs the caches (project id, image id, the host's zone).
import { ACCESS_IPV4_ANNOTATION, ACCESS_IPV6_ANNOTATION, LAUNCH_INDEX_ANNOTATION, RESERVATION_ANNOTATION, USER_ANNOTATION } from '../api/labels.ts';
import type { Server } from '../api/server.ts';
import { hostnameOf } from './hostname.ts';
import { POWER_STATE_CODES } from './status.ts';
import { lastWriteAt } from './timestamps.ts';

/** What a server's row needs from the caches. */
export interface ServerFacts {
  projectId: string;
  /** The image's Nova id, if known. */
  imageId?: string;
  /** The zone of the server's host, if placed. */
  zone?: string;
}

export type Column = string | number | boolean | null;

/**
 * Nova's default server order (no sort_key): created_at, then uuid, both descending; the order
 * the API's cache keeps ready (`SERVERS_NEWEST_FIRST`). Neither column changes after creation.
 */
export function newestFirst(a: Server, b: Server): number {
  return descending(a.metadata.creationTimestamp, b.metadata.creationTimestamp) || descending(a.metadata.uid, b.metadata.uid);
}

/** Descending, with a missing value last (MySQL sorts NULL first, so last when descending). */
function descending(x: string | undefined, y: string | undefined): number {
  if (x === y) return 0;
  if (x === undefined) return 1;
  if (y === undefined) return -1;
  return x < y ? 1 : -1;
}

/** Nova's reservation id: the create request's, else (a Server made with kubectl) one derived from its uid. */
export const reservationIdOf = (s: Server): string => s.metadata.annotations?.[RESERVATION_ANNOTATION] ?? `r-${(s.metadata.uid ?? '').replace(/-/g, '').slice(0, 8)}`;

/** The accessIPv4 / accessIPv6 a user set, or null. */
export const accessIpOf = (s: Server, version: 4 | 6): string | null => s.metadata.annotations?.[version === 4 ? ACCESS_IPV4_ANNOTATION : ACCESS_IPV6_ANNOTATION] || null;

/** The annotations that keep the accessIPv4 / accessIPv6 a request sets ("" clears one). */
export function accessIpAnnotations(b: { accessIPv4?: string; accessIPv6?: string }): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (b.accessIPv4 !== undefined) out[ACCESS_IPV4_ANNOTATION] = b.accessIPv4 || null;
  if (b.accessIPv6 !== undefined) out[ACCESS_IPV6_ANNOTATION] = b.accessIPv6 || null;
  return out;
}

/** The Nova key pair name the server was built with, or null. */
export const keyNameOf = (s: Server): string | null => (s.spec.keyName ? s.status?.keyName ?? s.spec.keyName : null);

/**
 * Every column a list may filter or sort on, by Nova's column name. Every Kova server boots with a
 * config drive from its root disk on virtio (/dev/vda), without a separate kernel or ramdisk, and
 * cloud-init grows its root partition (Nova's auto_disk_config).
 */
const COLUMNS: Record<string, (s: Server, f: () => ServerFacts) => Column> = {
  uuid: (s) => s.metadata.uid ?? '',
  display_name: (s) => s.spec.name,
  display_description: (s) => s.spec.description ?? null,
  hostname: (s) => hostnameOf(s),
  user_id: (s) => s.metadata.annotations?.[USER_ANNOTATION] ?? '',
  project_id: (_s, f) => f().projectId,
  image_ref: (_s, f) => f().imageId ?? null,
  instance_type_id: (s) => s.status?.flavor?.id ?? s.spec.flavor,
  key_name: (s) => keyNameOf(s),
  power_state: (s) => POWER_STATE_CODES[s.status?.powerState ?? 'NOSTATE'],
  vm_state: (s) => s.status?.vmState ?? 'building',
  task_state: (s) => s.status?.taskState ?? null,
  progress: (s) => s.status?.progress ?? 0,
  host: (s) => s.status?.host ?? null,
  node: (s) => s.status?.hypervisorHostname ?? null,
  availability_zone: (s, f) => f().zone ?? s.spec.availabilityZone ?? null,
  reservation_id: (s) => reservationIdOf(s),
  launch_index: (s) => Number(s.metadata.annotations?.[LAUNCH_INDEX_ANNOTATION] ?? 0),
  created_at: (s) => s.metadata.creationTimestamp ?? null,
  updated_at: (s) => lastWriteAt(s) ?? null,
  launched_at: (s) => s.status?.launchedAt ?? null,
  terminated_at: (s) => s.status?.terminatedAt ?? null,
  locked: (s) => s.spec.locked === true,
  locked_by: (s) => s.spec.locked ? s.spec.lockedBy ?? 'owner' : null,
  config_drive: () => 'True',
  kernel_id: () => '',
  ramdisk_id: () => '',
  root_device_name: () => '/dev/vda',
  access_ip_v4: (s) => accessIpOf(s, 4),
  access_ip_v6: (s) => accessIpOf(s, 6),
  auto_disk_config: () => true,
};

/** Whether Nova's instances table has this column. */
export const hasColumn = (name: string): boolean => Object.hasOwn(COLUMNS, name);

/**
 * Reads a server's columns one at a time (a list filters and sorts thousands of servers on a few
 * of them); `facts` is asked at most once, and only for a column that needs the caches.
 */
export function columnReader(s: Server, facts: () => ServerFacts): (name: string) => Column {
  let f: ServerFacts | undefined;
  const once = (): ServerFacts => (f ??= facts());
  return (name) => (Object.hasOwn(COLUMNS, name) ? COLUMNS[name]!(s, once) : null);
}

/** A column as the database's text for a regular-expression match (MySQL's REGEXP): null matches nothing. */
export function columnText(c: Column): string | null {
  if (c === null) return null;
  if (typeof c === 'boolean') return c ? '1' : '0';
  if (typeof c === 'number') return String(c);
  // DATETIME columns read as "YYYY-MM-DD HH:MM:SS".
  const t = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(c);
  return t ? `${t[1]} ${t[2]}` : c;
}
