// Neutron's list conventions over plain resource dicts (neutron/api/api_common.py and the
// filter-validation, empty-string-filtering, ip-substring-filtering, sorting and pagination
// extensions): filters (a repeated key ORs, different keys AND, an unknown key is a 400), `fields`,
// sort_key/sort_dir, limit/marker/page_reverse and the `<collection>_links`. Pure.
import type { NeutronResource } from './model.ts';

/** A Neutron error: its HTTP code and the body's type and message. */
export class NeutronError extends Error {
  readonly code: number;
  readonly type: string;
  constructor(code: number, type: string, message: string) {
    super(message);
    this.code = code;
    this.type = type;
  }
}

export const neutronErrorBody = (e: NeutronError) => ({ NeutronError: { type: e.type, message: e.message, detail: '' } });

export type NeutronQuery = Record<string, string | string[] | undefined>;

const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : ([] as string[]).concat(v));

/** Query keys that are not filters. */
const CONTROL_KEYS = new Set(['fields', 'limit', 'marker', 'page_reverse', 'sort_key', 'sort_dir', 'tags', 'tags-any', 'not-tags', 'not-tags-any']);

/** A filter value compared with an attribute's value, as Neutron converts it (booleans by word). */
function matchesValue(attr: unknown, want: string): boolean {
  if (typeof attr === 'boolean') {
    const w = want.trim().toLowerCase();
    return (['true', '1', 't', 'on', 'y', 'yes'].includes(w) && attr) || (['false', '0', 'f', 'off', 'n', 'no'].includes(w) && !attr);
  }
  if (attr === null || attr === undefined) return want === '';
  if (Array.isArray(attr)) return attr.some((a) => String(a) === want);
  return String(attr) === want;
}

/** `fixed_ips=ip_address=X`, `fixed_ips=subnet_id=Y`, `fixed_ips=ip_address_substr=Z`: one fixed IP must meet them all. */
function matchesFixedIps(attr: unknown, wants: string[]): boolean {
  const by = new Map<string, string[]>();
  for (const w of wants) {
    const i = w.indexOf('=');
    if (i < 0) throw new NeutronError(400, 'HTTPBadRequest', `Invalid input for fixed_ips. Reason: '${w}' is not of the form key=value.`);
    const k = w.slice(0, i);
    if (!['ip_address', 'subnet_id', 'ip_address_substr'].includes(k)) throw new NeutronError(400, 'HTTPBadRequest', `Invalid input for fixed_ips. Reason: '${k}' is not a valid fixed_ips filter.`);
    by.set(k, [...(by.get(k) ?? []), w.slice(i + 1)]);
  }
  const ips = (attr as { ip_address?: string; subnet_id?: string }[] | undefined) ?? [];
  return ips.some((ip) =>
    (!by.has('ip_address') || by.get('ip_address')!.includes(ip.ip_address ?? '')) &&
    (!by.has('subnet_id') || by.get('subnet_id')!.includes(ip.subnet_id ?? '')) &&
    (!by.has('ip_address_substr') || by.get('ip_address_substr')!.some((s) => (ip.ip_address ?? '').includes(s))));
}

const tagList = (v: string | string[] | undefined): string[] => values(v).flatMap((x) => x.split(',')).filter(Boolean);

/**
 * Keeps the resources every filter of the query matches. `attributes` are the collection's
 * attribute names (filtering by anything else is a 400); resources are compared as the caller
 * sees them.
 */
export function filterResources(items: NeutronResource[], q: NeutronQuery, attributes: readonly string[]): NeutronResource[] {
  const filters: [string, string[]][] = [];
  for (const [k, v] of Object.entries(q)) {
    if (CONTROL_KEYS.has(k)) continue;
    if (!attributes.includes(k)) throw new NeutronError(400, 'HTTPBadRequest', `[${k}] is invalid attribute for filtering`);
    filters.push([k, values(v)]);
  }
  const all = tagList(q.tags);
  const any = tagList(q['tags-any']);
  const notAll = tagList(q['not-tags']);
  const notAny = tagList(q['not-tags-any']);
  return items.filter((r) => {
    for (const [k, wants] of filters) {
      if (k === 'fixed_ips') {
        if (!matchesFixedIps(r[k], wants)) return false;
      } else if (!wants.some((w) => matchesValue(r[k], w))) return false;
    }
    const tags = (r.tags as string[] | undefined) ?? [];
    if (all.length && !all.every((t) => tags.includes(t))) return false;
    if (any.length && !any.some((t) => tags.includes(t))) return false;
    if (notAll.length && notAll.every((t) => tags.includes(t))) return false;
    if (notAny.length && notAny.some((t) => tags.includes(t))) return false;
    return true;
  });
}

/** Orders by the query's sort_key/sort_dir pairs (then by id), as Neutron's sorting extension does. */
export function sortResources(items: NeutronResource[], q: NeutronQuery, attributes: readonly string[]): NeutronResource[] {
  const keys = values(q.sort_key).filter(Boolean);
  const dirs = values(q.sort_dir).filter(Boolean);
  if (keys.length !== dirs.length) throw new NeutronError(400, 'HTTPBadRequest', 'The number of sort_keys and sort_dirs must be same');
  const absent = keys.filter((k) => !attributes.includes(k));
  if (absent.length) throw new NeutronError(400, 'HTTPBadRequest', `[${absent.map((k) => `'${k}'`).join(', ')}] is invalid attribute for sort_keys`);
  const badDirs = dirs.filter((d) => d !== 'asc' && d !== 'desc');
  if (badDirs.length) throw new NeutronError(400, 'HTTPBadRequest', `[${badDirs.map((d) => `'${d}'`).join(', ')}] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`);
  const order: [string, number][] = [...keys.map((k, i): [string, number] => [k, dirs[i] === 'desc' ? -1 : 1])];
  if (!keys.includes('id')) order.push(['id', 1]);
  const cmp = (a: unknown, b: unknown): number => {
    if (a === b) return 0;
    if (a === null || a === undefined) return -1;
    if (b === null || b === undefined) return 1;
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    const [x, y] = [typeof a === 'object' ? JSON.stringify(a) : String(a), typeof b === 'object' ? JSON.stringify(b) : String(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return [...items].sort((a, b) => {
    for (const [k, dir] of order) {
      const c = cmp(a[k], b[k]);
      if (c) return c * dir;
    }
    return 0;
  });
}

export interface NeutronPage {
  items: NeutronResource[];
  links: { rel: 'next' | 'previous'; href: string }[];
}

/**
 * One page: `limit` (0 or none = everything), `marker` (the id last seen; an unknown one gives an
 * empty page) and `page_reverse`, with Neutron's next/previous links (api_common.get_pagination_links):
 * `next` unless a forward page is short, `previous` unless a reverse page is short.
 */
export function pageResources(items: NeutronResource[], q: NeutronQuery, selfUrl: string): NeutronPage {
  const rawLimit = values(q.limit).at(-1);
  const limit = rawLimit === undefined || rawLimit === '' ? 0 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 0) throw new NeutronError(400, 'BadRequest', `Bad limit request: Limit must be an integer 0 or greater and not '${rawLimit}'.`);
  if (!limit) return { items, links: [] };
  const marker = values(q.marker).at(-1);
  const reverse = (values(q.page_reverse).at(-1) ?? 'False').toLowerCase() === 'true';
  let i = -1;
  if (marker) {
    i = items.findIndex((r) => r.id === marker);
    if (i < 0) i = items.length;
  }
  let page: NeutronResource[];
  if (reverse) {
    const end = marker ? i : items.length;
    page = items.slice(Math.max(0, end - limit), end);
  } else {
    page = items.slice(i + 1, i + 1 + limit);
  }
  const link = (rel: 'next' | 'previous'): { rel: 'next' | 'previous'; href: string } => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) {
      if (k === 'marker' || (k === 'page_reverse')) continue;
      for (const x of values(v)) params.append(k, x);
    }
    const at = rel === 'next' ? page.at(-1) : page[0];
    if (at) params.set('marker', at.id);
    if (rel === 'previous') params.set('page_reverse', 'True');
    return { rel, href: `${selfUrl}?${params.toString()}` };
  };
  const links: NeutronPage['links'] = [];
  if (!(page.length < limit && !reverse)) links.push(link('next'));
  if (!(page.length < limit && reverse)) links.push(link('previous'));
  return { items: page, links };
}

/** `fields=a&fields=b`: only those attributes (unknown ones are left out); everything without it. */
export function selectFields(r: NeutronResource, q: NeutronQuery): Record<string, unknown> {
  const fields = values(q.fields).flatMap((f) => f.split(',')).filter(Boolean);
  if (!fields.length) return r;
  return Object.fromEntries(fields.filter((f) => f in r).map((f) => [f, r[f]]));
}

/** A list body: filtered, sorted, paged, trimmed to `fields`, with `<collection>_links` when paged. */
export function listBody(collection: string, items: NeutronResource[], q: NeutronQuery, attributes: readonly string[], selfUrl: string): Record<string, unknown> {
  const p = pageResources(sortResources(filterResources(items, q, attributes), q, attributes), q, selfUrl);
  const body: Record<string, unknown> = { [collection]: p.items.map((r) => selectFields(r, q)) };
  if (p.links.length) body[`${collection}_links`] = p.links;
  return body;
}
