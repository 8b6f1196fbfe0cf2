// The server list's fast path (issue 12): the API's servers informer keeps Nova's default order
// (created_at, then uuid, newest first) ready, and a page is read from it by walking from the
// marker. It must give exactly the page the general path gives (filter everything, sort it with
// serverOrder, slice at the marker), whatever came, went or changed in the cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Server } from '../../src/api/server.ts';
import { SERVERS } from '../../src/api/server.ts';
import { SERVERS_NEWEST_FIRST } from '../../src/cache/caches.ts';
import { page, pageInOrder } from '../../src/facade/routes/common.ts';
import { serverOrder } from '../../src/facade/server-filters.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { Informer } from '../../src/kube/informer.ts';
import { NovaError } from '../../src/nova/faults.ts';
import { Version } from '../../src/nova/microversion.ts';
import { newestFirst } from '../../src/nova/server-columns.ts';
import { serverId } from '../../src/nova/views/servers.ts';

const facts = () => ({ projectId: 'p', imageId: 'i' });

/** An informer that is never started: objects reach its store as a watch would bring them. */
function informer(): Informer<Server> & { feed(type: 'ADDED' | 'MODIFIED' | 'DELETED', s: Server): void } {
  const inf = new Informer<Server>(undefined as unknown as KubeClient, SERVERS).addIndex('uid', (x) => [x.metadata.uid ?? '']).addOrder(SERVERS_NEWEST_FIRST, newestFirst);
  let rv = 0;
  return Object.assign(inf, {
    feed(type: 'ADDED' | 'MODIFIED' | 'DELETED', s: Server) {
      (inf as unknown as { onWatchEvent(t: string, o: Server): void }).onWatchEvent(type, { ...s, metadata: { ...s.metadata, resourceVersion: String(++rv) } });
    },
  });
}

const server = (i: number, ns: string, second: number, status: 'ACTIVE' | 'SHUTOFF' = 'ACTIVE'): Server => ({
  metadata: { name: `s${i}`, namespace: ns, uid: `00000000-0000-0000-0000-${String(i * 7919 % 100_000).padStart(12, '0')}`, creationTimestamp: `2026-01-01T10:00:${String(second).padStart(2, '0')}Z` },
  spec: { name: `s${i}`, flavor: 'm1.tiny', image: 'cirros' },
  status: { status },
});

/** The general path: every server of the namespace filtered, sorted by serverOrder's default, then paged. */
function generalPage(inf: Informer<Server>, ns: string | undefined, keep: (s: Server) => boolean, q: { limit?: number; marker?: string }) {
  const list = inf.list(ns).filter(keep).sort(serverOrder({}, false, Version.of('2.104'), facts));
  return page(list, serverId, q);
}

const outcome = (f: () => { items: Server[]; full: boolean }) => {
  try {
    const p = f();
    return { ids: p.items.map(serverId), full: p.full };
  } catch (e) {
    assert.ok(e instanceof NovaError, String(e));
    return { error: `${e.code} ${e.message}` };
  }
};

test('newestFirst is serverOrder without sort keys: created_at, then uuid, both descending', () => {
  const list = Array.from({ length: 60 }, (_, i) => server(i, 'p', i % 7));
  assert.deepEqual([...list].sort(newestFirst).map(serverId), [...list].sort(serverOrder({}, true, Version.of('2.1'), facts)).map(serverId));
});

test('a page read from the kept order is the page the general path gives, through adds, updates and deletes', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ op: fc.constantFrom('add', 'add', 'update', 'delete'), i: fc.nat(40), ns: fc.constantFrom('a', 'b'), second: fc.nat(5), active: fc.boolean() }), { minLength: 1, maxLength: 80 }),
      fc.constantFrom<string | undefined>('a', 'b', undefined),
      fc.option(fc.nat(12), { nil: undefined }),
      fc.nat(40),
      fc.boolean(),
      fc.boolean(),
      (ops, ns, limit, markerOf, withMarker, activeOnly) => {
        const inf = informer();
        const made = new Map<number, Server>();
        for (const o of ops) {
          const old = made.get(o.i);
          if (o.op === 'add' && !old) made.set(o.i, server(o.i, o.ns, o.second, o.active ? 'ACTIVE' : 'SHUTOFF'));
          else if (o.op === 'update' && old) made.set(o.i, { ...old, status: { status: o.active ? 'ACTIVE' : 'SHUTOFF' } });
          else if (o.op === 'delete' && old) made.delete(o.i);
          else continue;
          inf.feed(o.op === 'add' ? 'ADDED' : o.op === 'update' ? 'MODIFIED' : 'DELETED', made.get(o.i) ?? old!);
          // Reading the order between changes is what makes it kept (and so possibly stale).
          inf.sorted(SERVERS_NEWEST_FIRST, ns);
        }
        const keep = (s: Server) => !activeOnly || s.status?.status === 'ACTIVE';
        const marker = withMarker ? serverId(server(markerOf, 'a', 0)) : undefined;
        const q = { limit, marker };
        const fast = outcome(() => pageInOrder(inf, SERVERS_NEWEST_FIRST, ns, keep, (id) => inf.byIndex('uid', id)[0], q));
        assert.deepEqual(fast, outcome(() => generalPage(inf, ns, keep, q)));
      },
    ),
    { numRuns: 300 },
  );
});

test('an update leaves the kept order as it was (no re-sort) and pages show the object as updated', () => {
  const inf = informer();
  for (let i = 0; i < 5; i++) inf.feed('ADDED', server(i, 'a', i));
  const before = inf.sorted(SERVERS_NEWEST_FIRST, 'a');
  inf.feed('MODIFIED', { ...server(2, 'a', 2), status: { status: 'SHUTOFF' } });
  assert.equal(inf.sorted(SERVERS_NEWEST_FIRST, 'a'), before, 'the same array: not sorted again');
  const p = pageInOrder(inf, SERVERS_NEWEST_FIRST, 'a', () => true, (id) => inf.byIndex('uid', id)[0], {});
  assert.equal(p.items.find((s) => s.metadata.name === 's2')?.status?.status, 'SHUTOFF');
  inf.feed('ADDED', server(9, 'b', 9));
  assert.equal(inf.sorted(SERVERS_NEWEST_FIRST, 'a'), before, 'another namespace\'s add leaves it');
  assert.ok(inf.sorted(SERVERS_NEWEST_FIRST).includes('b/s9'), 'but the order of every namespace takes it in');
  inf.feed('ADDED', server(10, 'a', 10));
  assert.notEqual(inf.sorted(SERVERS_NEWEST_FIRST, 'a'), before, 'an add in the namespace sorts it again');
  assert.equal(inf.sorted(SERVERS_NEWEST_FIRST, 'a')[0], 'a/s10');
});
