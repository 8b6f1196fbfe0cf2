// Links in Nova bodies: "self" carries the version prefix, "bookmark" does not. Pure.
import type { Version } from '../microversion.ts';

/** What a view needs to know about the request it answers. */
export interface ViewContext {
  version: Version;
  origin: string;
  /** "/v2.1" or "/v2.1/<project_id>". */
  prefix: string;
  /** "" or "/<project_id>". */
  bookmarkPrefix: string;
  admin: boolean;
}

export const selfAndBookmark = (c: ViewContext, collection: string, id: string): { href: string; rel: string }[] => [
  { href: `${c.origin}${c.prefix}/${collection}/${id}`, rel: 'self' },
  { href: `${c.origin}${c.bookmarkPrefix}/${collection}/${id}`, rel: 'bookmark' },
];

export const bookmark = (c: ViewContext, collection: string, id: string): { href: string; rel: string }[] => [
  { href: `${c.origin}${c.bookmarkPrefix}/${collection}/${id}`, rel: 'bookmark' },
];

/** Nova's "next" link when a page is full: the same path with limit and the last item as marker. */
export function nextLink(c: ViewContext, path: string, query: Record<string, unknown>, lastId: string, limit: number): { href: string; rel: string }[] {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (k === 'marker' || k === 'limit' || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x));
  }
  q.set('limit', String(limit));
  q.set('marker', lastId);
  return [{ href: `${c.origin}${c.prefix}/${path}?${q.toString()}`, rel: 'next' }];
}

/** One page of an already filtered and sorted list: `full` when it holds `limit` items. */
export interface Page<T> {
  items: T[];
  full: boolean;
  limit: number;
}

/** Where a list's next page is: its path, the request's query, the marker id of an item. */
export interface NextPage<T> {
  path: string;
  query: Record<string, unknown>;
  idOf: (t: T) => string;
}

/**
 * A list body: `{<key>: items}`, with the next link (`<key>_links`, or `linksKey`) when the page is
 * full.
 */
export function pageBody<T>(c: ViewContext, key: string, p: Page<T>, render: (t: T) => unknown, next: NextPage<T>, linksKey = `${key}_links`): Record<string, unknown> {
  const body: Record<string, unknown> = { [key]: p.items.map(render) };
  if (p.full && p.items.length) body[linksKey] = nextLink(c, next.path, next.query, next.idOf(p.items.at(-1)!), p.limit);
  return body;
}

/** Nova's naive timestamps for some fields (no "Z"): 2013-09-23T13:53:12.000000. */
export const naiveTime = (iso: string | undefined): string | null => (iso ? iso.replace(/Z$/, '').replace(/(\.\d+)?$/, '.000000') : null);
