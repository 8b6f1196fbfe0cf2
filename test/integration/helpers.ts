// Shared pieces of the integration tests: the control plane's client, Kova (controllers + simulator)
// started per test file, waiting for observable state, and unique names.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FLAVORS, type Flavor } from '../../src/api/flavor.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { ControllerManager } from '../../src/controllers/manager.ts';
import { defaultConfig, type KovaConfig } from '../../src/cache/config.ts';
import { REPO_ROOT } from '../../src/controlplane/controlplane.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { sleep } from '../../src/kube/informer.ts';
import { createLogger } from '../../src/log.ts';
import { ensureImage, ensureProject } from '../../src/sim/seed.ts';
import { ensureNode, waitSchedulable, type NodeSpec } from '../../src/sim/nodes.ts';
import { KubeVirtSimulator } from '../../src/sim/simulator.ts';
import { CLUSTER_ROLES, clusterRoleBinding, roleBinding } from '../../src/api/rbac.ts';
import { Facade, type FacadeOptions } from '../../src/facade/server.ts';
import { CLUSTER_ROLE_BINDING_TYPE, CLUSTER_ROLE_TYPE, ROLE_BINDING_TYPE } from '../../src/kube/types.ts';

/** A valid ssh-ed25519 public key (also in config/samples); its Nova fingerprint is 27:4b:35:…:5e. */
export const TEST_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7YPSVrFLzimUTJXD8p1zJKThvDAKdD6l/JreXodUH6 demo@kova';

export const kubeconfig = (): string => {
  const k = process.env.KOVA_TEST_KUBECONFIG;
  if (!k) throw new Error('KOVA_TEST_KUBECONFIG is not set: run through `npm run test:integration`');
  return k;
};

export const client = (): Promise<KubeClient> => KubeClient.load(kubeconfig(), { fieldManager: 'kova-test' });

/** A short random suffix for names that must not collide between test files. */
export const uniq = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

const quietLog = () => createLogger({}, (process.env.KOVA_TEST_LOG as 'debug') ?? 'error');

export interface Kova {
  client: KubeClient;
  cfg: KovaConfig;
  stop(): Promise<void>;
  /** Stops the in-process controllers (to run a spawned controller instead) and starts them again. */
  stopController(): Promise<void>;
  startController(): Promise<void>;
}

/** Starts the KubeVirt simulator and (unless `controller: false`) Kova's controllers in-process. */
export async function startKova(o: { controller?: boolean; stepMs?: number; imagesNamespace?: string } = {}): Promise<Kova> {
  const cfg = { ...defaultConfig(), imagesNamespace: o.imagesNamespace ?? 'kova-images' };
  const c = await client();
  const sim = new KubeVirtSimulator(await KubeClient.load(kubeconfig(), { fieldManager: 'kova-sim' }), quietLog(), { stepMs: o.stepMs ?? 50, importSteps: 3 });
  await sim.start();
  const manager = async () => new ControllerManager(await KubeClient.load(kubeconfig(), { fieldManager: 'kova-controller' }), cfg, quietLog());
  let mgr = o.controller === false ? undefined : await manager();
  await mgr?.start();
  return {
    client: c,
    cfg,
    async stopController() {
      await mgr?.stop();
      mgr = undefined;
    },
    async startController() {
      mgr = await manager();
      await mgr.start();
    },
    async stop() {
      await mgr?.stop();
      await sim.stop();
      c.close();
    },
  };
}

export interface Api {
  url: string;
  facade: Facade;
  /** A Kova token for `user`, scoped to `namespace` when given. */
  token(user: string, namespace?: string): string;
  /** fetch against the API with a token and a microversion. */
  call(method: string, path: string, o?: { token?: string; version?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any }>;
  stop(): Promise<void>;
}

/** Starts the Compute API façade on a free port, with Kova's ClusterRoles installed. */
export async function startApi(kova: Kova, o: Pick<FacadeOptions, 'passwords' | 'tokenKey' | 'consoleTokenTtlSeconds'> = {}): Promise<Api> {
  await Promise.all(CLUSTER_ROLES.map((r) => kova.client.apply(CLUSTER_ROLE_TYPE, r)));
  const facade = await Facade.start(await KubeClient.load(kubeconfig(), { fieldManager: 'kova-api' }), kova.cfg, quietLog(), { port: 0, ...o });
  const url = facade.url;
  const token = (user: string, namespace?: string): string => {
    const project = namespace ? facade.caches.projectByIdOrName(namespace) : undefined;
    if (namespace && !project) throw new Error(`no project ${namespace} in the façade's cache`);
    return facade.issuer.issue({ user, groups: [], ...(project ? { project } : {}) }).token;
  };
  return {
    url,
    facade,
    token,
    async call(method, path, c = {}) {
      const headers: Record<string, string> = { ...(c.token ? { 'x-auth-token': c.token } : {}), ...(c.version ? { 'openstack-api-version': `compute ${c.version}` } : {}), ...c.headers };
      if (c.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await fetch(url + path, { method, headers, body: c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      return { status: res.status, headers: res.headers, body };
    },
    stop: () => facade.stop(),
  };
}

/** Grants `user` a Kova role: kova-admin cluster-wide, or kova-member / kova-reader in `namespace`. */
export async function grant(c: KubeClient, user: string, role: 'kova-admin' | 'kova-member' | 'kova-reader', namespace?: string): Promise<void> {
  if (role === 'kova-admin') await c.apply(CLUSTER_ROLE_BINDING_TYPE, clusterRoleBinding(`${role}-${user}`, role, { kind: 'User', name: user }));
  else await c.apply(ROLE_BINDING_TYPE, roleBinding(namespace ?? '', `${role}-${user}`, role, { kind: 'User', name: user }));
}

/**
 * The usual people: root (kova-admin), alice (kova-member of `ns`), bob (kova-reader of `ns`) and
 * eve (kova-member of `other`), with Kova tokens scoped to their projects.
 */
export interface People { admin: string; member: string; reader: string; stranger: string }
export async function people(kova: Kova, api: Api, ns: string, other: string): Promise<People> {
  await grant(kova.client, 'root', 'kova-admin');
  await grant(kova.client, 'alice', 'kova-member', ns);
  await grant(kova.client, 'bob', 'kova-reader', ns);
  await grant(kova.client, 'eve', 'kova-member', other);
  await eventually('façade caches to see both projects', async () => !!api.facade.caches.projectByIdOrName(ns) && !!api.facade.caches.projectByIdOrName(other));
  return { admin: api.token('root', ns), member: api.token('alice', ns), reader: api.token('bob', ns), stranger: api.token('eve', other) };
}

/** Starts `kova controller` as a child process (so a test can kill it for real). */
export function spawnController(o: { leaderElect?: boolean; metricsPort?: number; env?: Record<string, string> } = {}): ChildProcess {
  const args = ['controller', '--kubeconfig', kubeconfig(), '--metrics-port', String(o.metricsPort ?? 0), '--host', '127.0.0.1'];
  if (!o.leaderElect) args.push('--no-leader-elect');
  return spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'main.ts'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KOVA_LOG_LEVEL: 'error', ...o.env },
  });
}

/** Polls `probe` until it returns a value other than undefined/false, or fails with `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(100);
  }
}

/** Waits until the Server's status matches `pred`; returns it. */
export async function serverWhere(c: KubeClient, namespace: string, name: string, what: string, pred: (s: Server) => boolean, timeoutMs = 30_000): Promise<Server> {
  let last: Server | undefined;
  try {
    return await eventually(`server ${namespace}/${name} ${what}`, async () => {
      last = await c.find<Server>(SERVERS, name, namespace);
      return last && pred(last) ? last : undefined;
    }, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last?.status ?? null)}`);
  }
}

export const serverStatusIs = (c: KubeClient, ns: string, name: string, status: string, taskState?: string): Promise<Server> =>
  serverWhere(c, ns, name, `is ${status}${taskState ? `/${taskState}` : ''}`, (s) => s.status?.status === status && (s.status?.taskState ?? undefined) === taskState);

export function serverObject(namespace: string, name: string, spec: Partial<Server['spec']>, annotations?: Record<string, string>): Server {
  return { metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, spec: { name, flavor: 'm1.tiny', image: 'cirros', ...spec } as Server['spec'] };
}

export async function createServer(c: KubeClient, namespace: string, name: string, spec: Partial<Server['spec']> = {}, annotations?: Record<string, string>): Promise<Server> {
  return c.create<Server>(SERVERS, serverObject(namespace, name, spec, annotations));
}

export async function ensureFlavor(c: KubeClient, spec: Flavor['spec'], name = spec.name): Promise<void> {
  await c.apply(FLAVORS, { metadata: { name }, spec });
}

/** A project namespace with the sample image and Nodes in a zone of its own. */
export async function project(c: KubeClient, o: { nodes?: NodeSpec[] } = {}): Promise<{ namespace: string; zone: string }> {
  const namespace = uniq('proj');
  const zone = uniq('zone');
  await ensureProject(c, namespace);
  await ensureImage(c, 'kova-images', 'cirros');
  const nodes = o.nodes ?? [{ name: uniq('node'), zone }];
  for (const n of nodes) await ensureNode(c, { zone, ...n });
  await waitSchedulable(c, nodes.map((n) => n.name));
  return { namespace, zone };
}

const exec = promisify(execFile);

/** Runs the kubectl built with the control plane against it. */
export async function kubectl(...args: string[]): Promise<string> {
  const bin = process.env.KOVA_TEST_BIN;
  if (!bin) throw new Error('KOVA_TEST_BIN is not set');
  const { stdout } = await exec(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig(), ...args]);
  return stdout;
}

/**
 * Waits until the Server's Events show it went through a status (the controller records every
 * transition it writes), so a short-lived status is not missed by polling.
 */
export async function wentThrough(c: KubeClient, namespace: string, name: string, to: RegExp, timeoutMs = 10_000): Promise<string[]> {
  let notes: string[] = [];
  return eventually(`${name} went through ${to}`, async () => {
    const l = await c.list<{ metadata: object; reason?: string; note?: string; regarding?: { name?: string; kind?: string } }>({ group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true }, { namespace });
    notes = l.items.filter((e) => e.reason === 'StatusChanged' && e.regarding?.kind === 'Server' && e.regarding.name === name).map((e) => e.note ?? '');
    return notes.some((n) => to.test(n.split(' → ')[1] ?? '')) ? notes : undefined;
  }, timeoutMs).catch((e: Error) => {
    throw new Error(`${e.message} (transitions: ${notes.join('; ')})`);
  });
}
