// The one way Kova talks to the kube-apiserver.
//
// kube/kubeconfig.ts loads kubeconfigs (files, in-cluster; client-node only for exec plugins and auth
// providers) into TLS options and headers; the requests themselves go through one keep-alive
// https.Agent per client, because client-node 2.x opens a new connection (and TLS handshake) for
// every call. See docs/adr/002-kube-client.md.
import https from 'node:https';
import http from 'node:http';
import { loadConnection, type Connection } from './kubeconfig.ts';
import { WebSocket } from 'ws';
import type { KubeList, KubeObject, KubeStatus, ResourceType } from './types.ts';

export class KubeError extends Error {
  readonly code: number;
  readonly status: KubeStatus | undefined;
  constructor(code: number, status: KubeStatus | undefined, what: string) {
    super(status?.message ? `${what}: ${status.message}` : `${what}: HTTP ${code}`);
    this.name = 'KubeError';
    this.code = code;
    this.status = status;
  }
  get reason(): string | undefined {
    return this.status?.reason;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeError && e.code === 409;
export const isAlreadyExists = (e: unknown): boolean => isConflict(e) && (e as KubeError).reason === 'AlreadyExists';


export const apiVersionOf = (t: ResourceType): string => (t.group ? `${t.group}/${t.version}` : t.version);

/** URL path of a collection or an object; `namespace` is ignored for cluster-scoped types. */
export function resourcePath(t: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let p = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  if (t.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${t.plural}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Idle time after which the request fails (default: the client's, 30 s). */
  timeoutMs?: number;
}

const MERGE_PATCH = 'application/merge-patch+json';
const APPLY_PATCH = 'application/apply-patch+yaml';

export interface ClientOptions {
  /** Default field manager for server-side apply. */
  fieldManager?: string;
  /** Impersonate this user (and groups) on every request: the façade acts as the caller. */
  impersonate?: { user: string; groups?: string[] };
  /** Called on every write (any verb but GET) with its verb and resource, as `/metrics` counts them. */
  onWrite?: (verb: string, resource: string) => void;
  /** Idle time after which a request (not a watch) fails; 30 s by default. */
  timeoutMs?: number;
}

/** The resource a request path names: `plural` or `plural/subresource` (core or group API, any scope). */
export function resourceOfPath(path: string): string {
  const p = path.split('?')[0]!.split('/').filter(Boolean);
  // /api/v1/… or /apis/<group>/<version>/…, then [namespaces/<ns>/]<plural>[/<name>[/<sub>]]
  let rest = p[0] === 'api' ? p.slice(2) : p.slice(3);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const [plural = '', , sub] = rest;
  return sub ? `${plural}/${sub}` : plural;
}

export class KubeClient {
  readonly server: URL;
  readonly fieldManager: string;
  private readonly agent: https.Agent | http.Agent;
  private readonly baseOptions: https.RequestOptions;
  private readonly impersonate: ClientOptions['impersonate'];
  private readonly onWrite: ClientOptions['onWrite'];
  private readonly timeoutMs: number;

  private constructor(server: URL, base: https.RequestOptions, opts: ClientOptions) {
    this.server = server;
    this.fieldManager = opts.fieldManager ?? 'kova';
    this.impersonate = opts.impersonate;
    this.onWrite = opts.onWrite;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.baseOptions = base;
    const agentOptions = { keepAlive: true, maxSockets: 32, ...pickTls(base) };
    this.agent = this.server.protocol === 'http:' ? new http.Agent({ keepAlive: true }) : new https.Agent(agentOptions);
  }

  /** A client for a loaded connection (kube/kubeconfig.ts). */
  static fromConnection(c: Connection, opts: ClientOptions = {}): KubeClient {
    return new KubeClient(c.server, c.options, opts);
  }

  /** Loads `path`, or $KUBECONFIG / ~/.kube/config / in-cluster when no path is given. */
  static async load(path?: string, opts: ClientOptions = {}): Promise<KubeClient> {
    return KubeClient.fromConnection(await loadConnection(path), opts);
  }

  /** A client that sends every request as `user` (Kubernetes impersonation). */
  as(user: string, groups: string[] = []): KubeClient {
    return new KubeClient(this.server, this.baseOptions, { fieldManager: this.fieldManager, impersonate: { user, groups }, onWrite: this.onWrite, timeoutMs: this.timeoutMs });
  }

  close(): void {
    this.agent.destroy();
  }

  private headers(extra?: Record<string, string>): http.OutgoingHttpHeaders {
    const h: http.OutgoingHttpHeaders = { ...(this.baseOptions.headers as http.OutgoingHttpHeaders), accept: 'application/json', ...extra };
    if (this.impersonate) {
      h['impersonate-user'] = this.impersonate.user;
      if (this.impersonate.groups?.length) h['impersonate-group'] = this.impersonate.groups;
    }
    return h;
  }

  /** Sends one request and returns the parsed JSON body; throws KubeError on a non-2xx answer. */
  async request<T = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const text = await this.send(method, path, o);
    return parseBody(text) as T;
  }

  /** Sends one request and returns the body as text (a pod's log); throws KubeError on a non-2xx answer. */
  requestText(method: string, path: string, o: RequestOptions = {}): Promise<string> {
    return this.send(method, path, { ...o, headers: { accept: '*/*', ...o.headers } });
  }

  private send(method: string, path: string, o: RequestOptions): Promise<string> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const headers = this.headers(o.headers);
    if (payload) {
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = payload.length;
    }
    const mod = url.protocol === 'http:' ? http : https;
    if (method !== 'GET') this.onWrite?.(o.contentType === APPLY_PATCH ? 'APPLY' : method, resourceOfPath(url.pathname));
    return new Promise<string>((resolve, reject) => {
      const req = mod.request(url, { ...pickTls(this.baseOptions), method, headers, agent: this.agent, signal: o.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            resolve(text);
            return;
          }
          reject(new KubeError(code, parseBody(text) as KubeStatus, `${method} ${url.pathname}`));
        });
      });
      req.on('error', reject);
      // A request the apiserver never answers (it or its etcd went away mid-request) fails, never hangs.
      req.setTimeout(o.timeoutMs ?? this.timeoutMs, () => req.destroy(Object.assign(new Error(`${method} ${url.pathname}: no answer from the kube-apiserver within ${(o.timeoutMs ?? this.timeoutMs) / 1000}s`), { code: 'KOVA_KUBE_TIMEOUT' })));
      req.end(payload);
    });
  }

  get<T extends KubeObject>(t: ResourceType, name: string, namespace?: string): Promise<T> {
    return this.request<T>('GET', resourcePath(t, namespace, name));
  }

  /** The object, or undefined when it does not exist. */
  async find<T extends KubeObject>(t: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.get<T>(t, name, namespace);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  list<T extends KubeObject>(t: ResourceType, o: { namespace?: string; labelSelector?: string; fieldSelector?: string; limit?: number; continue?: string; resourceVersion?: string } = {}): Promise<KubeList<T>> {
    const { namespace, ...query } = o;
    return this.request<KubeList<T>>('GET', resourcePath(t, namespace), { query });
  }

  /** Lists every page of a collection. */
  /** Every object, a page (500) at a time as the apiserver sends them; the last page's resourceVersion is the list's. */
  async *pages<T extends KubeObject>(t: ResourceType, o: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {}): AsyncGenerator<KubeList<T>> {
    let cont: string | undefined;
    do {
      const page = await this.list<T>(t, { ...o, limit: 500, continue: cont });
      yield page;
      cont = page.metadata?.continue || undefined;
    } while (cont);
  }

  async listAll<T extends KubeObject>(t: ResourceType, o: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    let rv = '';
    for await (const page of this.pages<T>(t, o)) {
      items.push(...page.items);
      rv = page.metadata?.resourceVersion ?? rv;
    }
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: rv }, items };
  }

  create<T extends KubeObject>(t: ResourceType, obj: T, o: { dryRun?: boolean } = {}): Promise<T> {
    return this.request<T>('POST', resourcePath(t, obj.metadata.namespace), {
      body: { apiVersion: apiVersionOf(t), kind: t.kind, ...obj },
      query: { fieldManager: this.fieldManager, dryRun: o.dryRun ? 'All' : undefined },
    });
  }

  /**
   * Server-side apply of `obj` (its apiVersion and kind are filled from `t`). `force` takes fields
   * other managers own; controllers force their own objects, never shared ones.
   */
  apply<T extends KubeObject>(t: ResourceType, obj: Partial<T> & { metadata: KubeObject['metadata'] }, o: { fieldManager?: string; force?: boolean; subresource?: string } = {}): Promise<T> {
    return this.request<T>('PATCH', resourcePath(t, obj.metadata.namespace, obj.metadata.name, o.subresource), {
      body: { apiVersion: apiVersionOf(t), kind: t.kind, ...obj },
      contentType: APPLY_PATCH,
      query: { fieldManager: o.fieldManager ?? this.fieldManager, force: o.force ?? true },
    });
  }

  /** JSON merge patch (RFC 7386) of the object or of a subresource. */
  mergePatch<T extends KubeObject>(t: ResourceType, name: string, namespace: string | undefined, patch: unknown, subresource?: string): Promise<T> {
    return this.request<T>('PATCH', resourcePath(t, namespace, name, subresource), {
      body: patch,
      contentType: MERGE_PATCH,
      query: { fieldManager: this.fieldManager },
    });
  }

  /** JSON patch (RFC 6902), e.g. a finalizer change guarded by a resourceVersion test. */
  jsonPatch<T extends KubeObject>(t: ResourceType, name: string, namespace: string | undefined, ops: unknown[], subresource?: string): Promise<T> {
    return this.request<T>('PATCH', resourcePath(t, namespace, name, subresource), {
      body: ops,
      contentType: 'application/json-patch+json',
      query: { fieldManager: this.fieldManager },
    });
  }

  replace<T extends KubeObject>(t: ResourceType, obj: T, subresource?: string): Promise<T> {
    // Without managedFields the apiserver keeps its own (a cached copy's are compacted: see Informer).
    const { managedFields: _dropped, ...metadata } = obj.metadata as KubeObject['metadata'] & { managedFields?: unknown };
    return this.request<T>('PUT', resourcePath(t, obj.metadata.namespace, obj.metadata.name, subresource), {
      body: { apiVersion: apiVersionOf(t), kind: t.kind, ...obj, metadata },
      query: { fieldManager: this.fieldManager },
    });
  }

  /**
   * Deletes; a missing object is not an error. Returns false when it was already gone — including,
   * with a `uid` precondition, when the name now belongs to another object (the one meant is gone).
   */
  async delete(t: ResourceType, name: string, namespace?: string, o: { propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; uid?: string; gracePeriodSeconds?: number } = {}): Promise<boolean> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (o.propagationPolicy) body.propagationPolicy = o.propagationPolicy;
    if (o.uid) body.preconditions = { uid: o.uid };
    if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds;
    try {
      await this.request('DELETE', resourcePath(t, namespace, name), { body });
      return true;
    } catch (e) {
      if (isNotFound(e) || (o.uid && isConflict(e))) return false;
      throw e;
    }
  }

  /**
   * Opens a watch and calls `onEvent` for every event line until the server closes the stream,
   * the signal aborts, or an error occurs. Resolves when the stream ends normally.
   */
  watch(path: string, query: Query, onEvent: (type: string, object: KubeObject) => void, signal: AbortSignal): Promise<void> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries({ ...query, watch: true, allowWatchBookmarks: true })) if (v !== undefined) url.searchParams.set(k, String(v));
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise<void>((resolve, reject) => {
      const req = mod.request(url, { ...pickTls(this.baseOptions), method: 'GET', headers: this.headers(), agent: this.agent, signal }, (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          void readStatus(res).then((status) => reject(new KubeError(res.statusCode ?? 0, status, `WATCH ${url.pathname}`)));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            let ev: { type: string; object: KubeObject };
            try {
              ev = JSON.parse(line) as { type: string; object: KubeObject };
            } catch {
              reject(new Error(`WATCH ${url.pathname}: unparseable event`));
              req.destroy();
              return;
            }
            try {
              onEvent(ev.type, ev.object);
            } catch (err) {
              reject(err);
              req.destroy();
              return;
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('watch aborted')));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Opens a websocket to a streaming subresource (a VMI's `vnc`, `console` …) with this client's
   * credentials and impersonation. Rejects with a KubeError when the apiserver (or the extension
   * API server behind it) answers without upgrading.
   */
  websocket(path: string, protocols: string[]): Promise<WebSocket> {
    const url = new URL(path, this.server);
    url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
    // Impersonate-Group repeats once per group: ws hands the header array to http.request as it is.
    // A stream is not JSON: an extension API server (virt-api) refuses 406 unless any type is accepted.
    const headers = this.headers({ accept: '*/*' }) as Record<string, string>;
    return new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, protocols, { ...pickTls(this.baseOptions), headers, perMessageDeflate: false });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => {
        void readStatus(res).then((status) => {
          reject(new KubeError(res.statusCode ?? 0, status, `WEBSOCKET ${url.pathname}`));
          ws.terminate();
        });
      });
      ws.on('error', reject);
    });
  }
}

/** The Status body of a failed streaming request, when it has one. */
function readStatus(res: http.IncomingMessage): Promise<KubeStatus | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', () => resolve(undefined));
    res.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as KubeStatus);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** A JSON body, or a text one as `{ message }`. */
function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return { message: text.slice(0, 500) };
  }
}

function pickTls(o: https.RequestOptions): https.AgentOptions {
  const out: https.AgentOptions = {};
  if (o.ca) out.ca = o.ca;
  if (o.cert) out.cert = o.cert;
  if (o.key) out.key = o.key;
  if (o.rejectUnauthorized !== undefined) out.rejectUnauthorized = o.rejectUnauthorized;
  if (o.servername) out.servername = o.servername;
  return out;
}
