// The control plane the integration tests share (started once by setup.ts) and what each test file
// starts against it: a client, Kova (the KubeVirt simulator and, unless asked not to, Kova's
// controllers) in-process, and the Compute API façade on a free port.
import { ControllerManager } from '../../src/controllers/manager.ts';
import { defaultConfig, type KovaConfig } from '../../src/cache/config.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { Logger } from '../../src/log.ts';
import { recordExchange, recordSecret, testLogger } from './secrets.ts';
import { handlerEndpointOf } from '../../src/controlplane/kubevirt.ts';
import { KubeVirtSimulator } from '../../src/sim/simulator.ts';
import { CLUSTER_ROLES } from '../../src/api/rbac.ts';
import { Facade, type FacadeOptions } from '../../src/facade/serve.ts';
import { CLUSTER_ROLE_TYPE } from '../../src/kube/types.ts';

export const kubeconfig = (): string => {
  const k = process.env.KOVA_TEST_KUBECONFIG;
  if (!k) throw new Error('KOVA_TEST_KUBECONFIG is not set: run through `npm run test:integration`');
  return k;
};

export const client = (): Promise<KubeClient> => KubeClient.load(kubeconfig(), { fieldManager: 'kova-test' });

const quietLog = (): Logger => testLogger();

export interface Kova {
  client: KubeClient;
  cfg: KovaConfig;
  /** The in-process KubeVirt simulator (tests read what its guests were told through it). */
  sim: KubeVirtSimulator;
  stop(): Promise<void>;
  /** Stops the in-process controllers (to run a spawned controller instead) and starts them again. */
  stopController(): Promise<void>;
  startController(): Promise<void>;
}

/** Starts the KubeVirt simulator and (unless `controller: false`) Kova's controllers in-process. */
export async function startKova(o: { controller?: boolean; stepMs?: number; imagesNamespace?: string; log?: Logger } = {}): Promise<Kova> {
  const cfg = { ...defaultConfig(), imagesNamespace: o.imagesNamespace ?? 'kova-images' };
  const c = await client();
  const handler = process.env.KOVA_TEST_KUBEVIRT_HANDLER;
  if (!handler) throw new Error('KOVA_TEST_KUBEVIRT_HANDLER is not set: the test set-up (test/support/setup.ts) starts real virt-api and virt-controller');
  const sim = new KubeVirtSimulator(await KubeClient.load(kubeconfig(), { fieldManager: 'kova-sim' }), o.log ?? quietLog(), { handler: handlerEndpointOf(handler), stepMs: o.stepMs ?? 50, importSteps: 3 });
  await sim.start();
  const manager = async () => new ControllerManager(await KubeClient.load(kubeconfig(), { fieldManager: 'kova-controller' }), cfg, o.log ?? quietLog());
  let mgr = o.controller === false ? undefined : await manager();
  await mgr?.start();
  return {
    client: c,
    cfg,
    sim,
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
export async function startApi(kova: Kova, o: Pick<FacadeOptions, 'passwords' | 'tokenKey' | 'consoleTokenTtlSeconds' | 'staticUsersSecret'> & { log?: Logger } = {}): Promise<Api> {
  await Promise.all(CLUSTER_ROLES.map((r) => kova.client.apply(CLUSTER_ROLE_TYPE, r)));
  const { log, ...options } = o;
  const facade = await Facade.start(await KubeClient.load(kubeconfig(), { fieldManager: 'kova-api' }), kova.cfg, log ?? quietLog(), { port: 0, ...options });
  const url = facade.url;
  const token = (user: string, namespace?: string): string => {
    const project = namespace ? facade.caches.projectByIdOrName(namespace) : undefined;
    if (namespace && !project) throw new Error(`no project ${namespace} in the façade's cache`);
    const t = facade.issuer.issue({ user, groups: [], ...(project ? { project } : {}) }).token;
    recordSecret(t);
    return t;
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
      recordExchange(headers, c.body, body, res.headers);
      return { status: res.status, headers: res.headers, body };
    },
    stop: () => facade.stop(),
  };
}
