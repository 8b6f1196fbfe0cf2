// A list-watch cache of one resource type.
//
// What it fixes in client-node's informer (see docs/adr/002-kube-client.md): it never stops for
// good (every failure restarts it with capped, jittered backoff, one timer only); it stores plain
// JSON as the apiserver sent it; it asks for bookmarks so quiet watches keep their place; and a
// watchdog relists on a timer and diffs the result, so a watch that silently lost events heals.
import { KubeClient, KubeError, resourcePath } from './client.ts';
import { keyOf, type KubeObject, type ResourceType } from './types.ts';

export type InformerEvent = 'add' | 'update' | 'delete';
export type Handler<T> = (type: InformerEvent, obj: T, old?: T) => void;

export interface InformerOptions<T extends KubeObject = KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Full relist period, the watchdog (ms). */
  relistMs?: number;
  /** Server-side watch timeout (s); the watch is then resumed from the last resourceVersion. */
  watchTimeoutSeconds?: number;
  onError?: (err: unknown) => void;
  /**
   * What the cache keeps of each object (after `compact`), like client-go's transform: a cache of
   * thousands of objects drops the fields no reader of it uses. Writes never start from a cached
   * object's spec, so what is dropped is never written back.
   */
  transform?: (o: T) => T;
}

/** What a set of informers is started, awaited and stopped through. */
export interface Runnable {
  start(): unknown;
  stop(): void;
  readonly synced: Promise<void>;
}

export interface InformerStats {
  restarts: number;
  relists: number;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly type: ResourceType;
  readonly stats: InformerStats = { restarts: 0, relists: 0 };
  private readonly client: KubeClient;
  private readonly opts: InformerOptions<T>;
  private readonly store = new Map<string, T>();
  /** The store's keys by namespace, so a namespace's objects are found without a scan of all. */
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly handlers: Handler<T>[] = [];
  private readonly indexes = new Map<string, { fn: (o: T) => string[]; map: Map<string, Set<string>> }>();
  private readonly orders = new Map<string, Order<T>>();
  private rv = '';
  private abort: AbortController | undefined;
  private running = false;
  private failures = 0;
  private syncedResolve!: () => void;
  private lastRelist = 0;
  readonly synced: Promise<void>;
  hasSynced = false;

  constructor(client: KubeClient, type: ResourceType, opts: InformerOptions<T> = {}) {
    this.client = client;
    this.type = type;
    this.opts = opts;
    this.synced = new Promise((r) => (this.syncedResolve = r));
  }

  /**
   * Whether the cache has taken in every change up to resourceVersion `rv` (a write's, read back
   * from the apiserver). Kubernetes' resource versions are etcd revisions: compared as numbers here;
   * one that is not a number is never taken as seen.
   */
  hasSeen(rv: string): boolean {
    if (!/^\d+$/.test(rv) || !/^\d+$/.test(this.rv)) return false;
    return BigInt(this.rv) >= BigInt(rv);
  }

  on(handler: Handler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  off(handler: Handler<T>): this {
    const i = this.handlers.indexOf(handler);
    if (i >= 0) this.handlers.splice(i, 1);
    return this;
  }

  /** Adds a secondary index: `fn` returns the index values of an object. */
  addIndex(name: string, fn: (o: T) => string[]): this {
    const map = new Map<string, Set<string>>();
    for (const [k, o] of this.store) for (const v of fn(o)) addTo(map, v, k);
    this.indexes.set(name, { fn, map });
    return this;
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.map.get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.store.get(k)).filter((o): o is T => o !== undefined);
  }

  /**
   * Adds a kept order: `sorted(name, namespace)` returns the store's keys (of a namespace, or all)
   * sorted by `compare`, sorted again only after an object came or went there, or after an update
   * for which `moved(old, new)` is true (by default never: order by fields that do not change).
   */
  addOrder(name: string, compare: (a: T, b: T) => number, moved: (old: T, obj: T) => boolean = () => false): this {
    this.orders.set(name, { compare, moved, sorted: new Map() });
    return this;
  }

  /** The keys of a namespace's objects (every object's without one) in the order `name` keeps. */
  sorted(name: string, namespace?: string): readonly string[] {
    const o = this.orders.get(name);
    if (!o) throw new Error(`no order ${name} on ${this.type.plural}`);
    let keys = o.sorted.get(namespace);
    if (!keys) {
      const list = this.list(namespace).sort(o.compare);
      o.sorted.set(namespace, (keys = list.map(keyOf)));
    }
    return keys;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.store.get(namespace && this.type.namespaced ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.store.get(key);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.store.values()];
    return [...(this.byNamespace.get(namespace) ?? [])].map((k) => this.store.get(k)).filter((o): o is T => !!o);
  }

  get size(): number {
    return this.store.size;
  }

  start(): this {
    if (this.running) return this;
    this.running = true;
    void this.loop();
    return this;
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const due = Date.now() - this.lastRelist >= (this.opts.relistMs ?? 300_000);
        if (!this.rv || due) await this.relist();
        await this.watchOnce();
        this.failures = 0;
      } catch (err) {
        if (!this.running) return;
        if (err instanceof KubeError && err.code === 410) {
          this.rv = ''; // expired: relist at once
          continue;
        }
        if ((err as Error).name === 'AbortError') continue; // the watchdog cut the watch
        this.failures++;
        this.stats.restarts++;
        this.opts.onError?.(err);
        const delay = Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7)) * (0.5 + Math.random() / 2);
        await sleep(delay);
      }
    }
  }

  private async relist(): Promise<void> {
    // Page by page, each object compacted as its page arrives: a relist of thousands never holds
    // them all as the apiserver sent them (managedFields and all) at once.
    const seen = new Set<string>();
    let rv = '';
    const { namespace, labelSelector, fieldSelector } = this.opts;
    for await (const page of this.client.pages<T>(this.type, { namespace, labelSelector, fieldSelector })) {
      for (const item of page.items) {
        seen.add(keyOf(item));
        this.upsert(item);
      }
      rv = page.metadata?.resourceVersion ?? rv;
    }
    this.stats.relists++;
    this.lastRelist = Date.now();
    for (const [key, old] of this.store) if (!seen.has(key)) this.remove(old);
    this.rv = rv;
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.syncedResolve();
    }
  }

  private async watchOnce(): Promise<void> {
    const ac = new AbortController();
    this.abort = ac;
    // The watchdog: end the watch when the next relist is due.
    const untilRelist = Math.max(1000, this.lastRelist + (this.opts.relistMs ?? 300_000) - Date.now());
    const timer = setTimeout(() => ac.abort(), untilRelist);
    try {
      await this.client.watch(
        resourcePath(this.type, this.opts.namespace),
        {
          resourceVersion: this.rv,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          timeoutSeconds: this.opts.watchTimeoutSeconds ?? 240,
        },
        (type, obj) => this.onWatchEvent(type, obj as T),
        ac.signal,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private onWatchEvent(type: string, obj: T): void {
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(obj);
        break;
      case 'DELETED':
        this.remove(obj);
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = obj as unknown as { code?: number; message?: string };
        throw new KubeError(status.code ?? 500, status as never, `WATCH ${this.type.plural}`);
      }
    }
    if (obj.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
  }

  private upsert(raw: T): void {
    const obj = this.opts.transform ? this.opts.transform(compact(raw)) : compact(raw);
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    this.store.set(key, obj);
    if (!old) addTo(this.byNamespace, obj.metadata.namespace ?? '', key);
    for (const ix of this.indexes.values()) {
      if (old) for (const v of ix.fn(old)) ix.map.get(v)?.delete(key);
      for (const v of ix.fn(obj)) addTo(ix.map, v, key);
    }
    for (const o of this.orders.values()) if (!old || o.moved(old, obj)) forget(o, obj);
    this.emit(old ? 'update' : 'add', obj, old);
  }

  private remove(obj: T): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (!old) return;
    this.store.delete(key);
    const inNs = this.byNamespace.get(old.metadata.namespace ?? '');
    inNs?.delete(key);
    if (inNs?.size === 0) this.byNamespace.delete(old.metadata.namespace ?? '');
    for (const ix of this.indexes.values()) for (const v of ix.fn(old)) ix.map.get(v)?.delete(key);
    for (const o of this.orders.values()) forget(o, old);
    this.emit('delete', old);
  }

  private emit(type: InformerEvent, obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        h(type, obj, old);
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
  }
}

interface Order<T> {
  compare: (a: T, b: T) => number;
  moved: (old: T, obj: T) => boolean;
  /** Sorted keys by namespace (undefined: every object), made when first asked for. */
  sorted: Map<string | undefined, string[]>;
}

/** An object came, went or moved: its namespace's order and the whole order are made again when next asked for. */
function forget<T extends KubeObject>(o: Order<T>, obj: T): void {
  o.sorted.delete(obj.metadata.namespace ?? '');
  o.sorted.delete(undefined);
}

function addTo(map: Map<string, Set<string>>, value: string, key: string): void {
  let s = map.get(value);
  if (!s) map.set(value, (s = new Set()));
  s.add(key);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ManagedFieldsEntry { manager?: string; operation?: string; time?: string; subresource?: string; fieldsV1?: Record<string, unknown> }

/**
 * What the caches keep of an object: all of it but metadata.managedFields, which becomes the two
 * times Kova reads of it (src/nova/timestamps.ts) — the last write of the spec (an entry owning
 * `f:spec`, not a subresource's) and the last write of anything else, when later. With thousands of
 * objects cached, every writer's entry and field set were a good part of the memory. Writes never
 * send them back (KubeClient.replace).
 */
export function compact<T extends KubeObject>(obj: T): T {
  const mf = (obj.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields;
  if (!mf?.length) return obj;
  let spec: string | undefined;
  let last: string | undefined;
  for (const e of mf) {
    if (!e.time) continue;
    if (!e.subresource && e.fieldsV1 && 'f:spec' in e.fieldsV1 && (!spec || e.time > spec)) spec = e.time;
    if (!last || e.time > last) last = e.time;
  }
  const managedFields: ManagedFieldsEntry[] = [
    ...(spec ? [{ time: spec, fieldsV1: { 'f:spec': {} } }] : []),
    ...(last && last !== spec ? [{ time: last, subresource: 'status' }] : []),
  ];
  return { ...obj, metadata: { ...obj.metadata, managedFields } };
}
