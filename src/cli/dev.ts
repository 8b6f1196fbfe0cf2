// `kova dev`: a local sandbox cloud. A real control plane and real KubeVirt virt-api and
// virt-controller (built once from Go modules), three simulated Nodes in two zones (the KubeVirt
// simulator plays what runs on them), Nova's classic flavors, one image and the controllers.
// With --kubeconfig it uses that cluster instead (its own KubeVirt, CDI and Nodes): no simulator.
import { randomBytes } from 'node:crypto';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { CLUSTER_ROLES, clusterRoleBinding } from '../api/rbac.ts';
import { Facade } from '../facade/serve.ts';
import { PasswordUsers } from '../identity/auth.ts';
import { Metrics } from '../metrics.ts';
import { CLUSTER_ROLE_BINDING_TYPE, CLUSTER_ROLE_TYPE, NAMESPACES, type KubeObject } from '../kube/types.ts';
import { basename, join, relative } from 'node:path';
import { ControllerManager } from '../controllers/manager.ts';
import { defaultConfig } from '../cache/config.ts';
import { ControlPlane, ensureBinaries } from '../controlplane/controlplane.ts';
import { crdsInDir, installCrds, kovaCrds, kubevirtCrdDir } from '../controlplane/crds.ts';
import { handlerEndpointOf, kubevirtBuild, startKubeVirt, type HandlerEndpoint } from '../controlplane/kubevirt.ts';
import { KubeClient } from '../kube/client.ts';
import { createLogger, type Logger } from '../log.ts';
import { seedSandbox, CLASSIC_FLAVORS, SANDBOX_ZONES } from '../sim/seed.ts';
import { KubeVirtSimulator } from '../sim/simulator.ts';

export interface DevOptions {
  kubeconfig?: string;
  stepMs?: number;
  host?: string;
  port?: number;
  log: Logger;
}

/** clouds.yaml for the openstack CLI and SDKs. */
function cloudsYaml(url: string, password: string): string {
  return stringify({
    clouds: {
      kova: {
        auth: { auth_url: `${url}/identity/v3`, username: 'admin', password, project_name: 'demo', user_domain_name: 'Default', project_domain_name: 'Default' },
        region_name: 'RegionOne',
        identity_api_version: 3,
        interface: 'public',
      },
    },
  });
}

const say = (line: string): void => void process.stdout.write(line + '\n');

const progress = (line: string): void => say(`          ${line.replace(/^kova: /, '')}`);

/**
 * Real KubeVirt could not be prepared or started: the sandbox does not run without it (the simulator
 * plays only the Nodes). The whole error goes to Kova's log; the message says which step failed, its
 * last line, and where to read more: Kova's log and the components' own logs (`logs`).
 */
function kubevirtFailed(step: string, err: unknown, log: Logger, logFile: string, logs: string[] = []): Error {
  const text = (err instanceof Error ? err.message : String(err)).trim();
  log.error(`${step} failed`, { err: text });
  const why = (text.split('\n').at(-1) ?? '').replace(/; see \S+$/, '');
  const where = [logFile, ...logs].map((f) => relative(process.cwd(), f)).join(', ');
  return new Error(`${step} failed: ${why}\n` +
    `  The sandbox needs real KubeVirt (virt-api, virt-controller; the simulator plays only the Nodes), so it stops here. Logs: ${where}`);
}

/** KubeVirt's components' logs, copied out of the control plane's folder (which goes when it stops) into `home`. */
function keepKubevirtLogs(logs: string[], home: string): string[] {
  return logs.filter((f) => existsSync(f)).map((f) => {
    const kept = join(home, basename(f));
    copyFileSync(f, kept);
    return kept;
  });
}

/** Kova's CRDs and KubeVirt's and CDI's, generated from their Go modules (once; see kubevirtCrdDir). */
async function sandboxCrds(log: Logger, logFile: string): Promise<KubeObject[]> {
  let dir: string;
  try {
    dir = await kubevirtCrdDir(progress);
  } catch (e) {
    throw kubevirtFailed('generating KubeVirt\'s and CDI\'s CRDs (test/tools/build.sh kubevirt-crds)', e, log, logFile);
  }
  say(`kova dev: installing CRDs (Kova's, and KubeVirt's and CDI's from ${dir})…`);
  return [...kovaCrds(), ...crdsInDir(dir)];
}

export async function runDev(o: DevOptions): Promise<void> {
  const home = join(process.cwd(), '.kova', 'dev');
  mkdirSync(home, { recursive: true });
  const logFile = join(home, 'kova.log');
  const logStream = createWriteStream(logFile, { flags: 'w' });
  const log = createLogger({ command: 'dev' }, 'info', (l) => logStream.write(l + '\n'));
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('\nkova dev: stopping…');
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await new Promise<void>((r) => logStream.end(r));
    say('kova dev: stopped.');
  };
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });

  try {
    let kubeconfig = o.kubeconfig;
    let binDir: string | undefined;
    let handler: HandlerEndpoint | undefined;
    if (!kubeconfig) {
      say('kova dev: preparing the Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)');
      say('          and KubeVirt\'s CRDs, virt-api and virt-controller.');
      say('          The first start builds them from Go modules, side by side: about 10 minutes on 2 idle cores, once; later starts reuse ~/.cache/kova.');
      // Both builds at once: one downloads modules while the other compiles (docs/adr/024-cold-start.md).
      const kubevirt = kubevirtBuild(progress).then((b) => b, (e: unknown) => (e instanceof Error ? e : new Error(String(e))));
      binDir = await ensureBinaries(progress);
      const kvBuild = await kubevirt;
      const crds = await sandboxCrds(log, logFile);
      const state = join(home, 'state');
      rmSync(state, { recursive: true, force: true });
      const cp = new ControlPlane({
        dir: state,
        binDir,
        log: (l) => say(`kova dev: ${l}`),
        beforeControllers: async (kc) => {
          const c = await KubeClient.load(kc);
          await installCrds(c, crds);
          c.close();
        },
      });
      say('kova dev: starting the control plane…');
      await cp.start();
      stops.push(() => cp.stop());
      kubeconfig = join(home, 'kubeconfig');
      copyFileSync(cp.kubeconfigPath, kubeconfig);
      say(`kova dev: kube-apiserver is at ${cp.apiServerUrl}`);
      // Real virt-api (admission webhooks, subresources.kubevirt.io) and virt-controller (VM → VMI →
      // launcher pod, printableStatus, migrations); the simulator plays the Nodes. No fallback.
      const kubevirtLogs = [join(state, 'virt-api.log'), join(state, 'virt-controller.log')];
      if (kvBuild instanceof Error) throw kubevirtFailed('building virt-api and virt-controller (test/tools/build.sh kubevirt)', kvBuild, log, logFile);
      try {
        handler = handlerEndpointOf((await startKubeVirt(cp, kvBuild)).handlerRef);
      } catch (e) {
        throw kubevirtFailed('starting KubeVirt\'s virt-api and virt-controller', e, log, logFile, keepKubevirtLogs(kubevirtLogs, home));
      }
      say(`kova dev: KubeVirt's virt-api and virt-controller are running (logs: ${kubevirtLogs.join(', ')})`);
    }
    const client = await KubeClient.load(kubeconfig, { fieldManager: 'kova-dev' });
    stops.push(async () => client.close());
    const cfg = defaultConfig();
    if (o.kubeconfig) await installCrds(client, kovaCrds());
    if (handler) {
      const sim = new KubeVirtSimulator(await KubeClient.load(kubeconfig, { fieldManager: 'kova-sim' }), log, { handler, stepMs: o.stepMs });
      await sim.start();
      stops.push(() => sim.stop());
    }
    say('kova dev: seeding nodes, flavors, an image and the project "demo"…');
    await seedSandbox(client, { imagesNamespace: cfg.imagesNamespace, project: 'demo', nodes: !!handler });
    const mgr = new ControllerManager(await KubeClient.load(kubeconfig, { fieldManager: 'kova-controller' }), cfg, log);
    await mgr.start();
    stops.push(() => mgr.stop());

    // The Compute API, with a generated admin (Keystone password and a ready token) for the openstack CLI.
    await Promise.all(CLUSTER_ROLES.map((r) => client.apply(CLUSTER_ROLE_TYPE, r)));
    await client.apply(CLUSTER_ROLE_BINDING_TYPE, clusterRoleBinding('kova-dev-admin', 'kova-admin', { kind: 'User', name: 'admin' }));
    const password = randomBytes(12).toString('base64url');
    // Application credentials and revoked tokens live in Kova's namespace (docs/adr/021).
    await client.apply(NAMESPACES, { metadata: { name: 'kova-system' } });
    const passwords = new PasswordUsers();
    passwords.add('admin', password);
    const api = await Facade.start(await KubeClient.load(kubeconfig, { fieldManager: 'kova-api' }), cfg, log, { host: o.host, port: o.port, passwords, metrics: new Metrics(), identityNamespace: 'kova-system' });
    stops.push(() => api.stop());
    const project = api.caches.projectByIdOrName('demo');
    const { token } = api.issuer.issue({ user: 'admin', groups: [], ...(project ? { project } : {}) });
    const cloudsPath = join(home, 'clouds.yaml');
    const clouds = cloudsYaml(api.url, password);
    writeFileSync(cloudsPath, clouds, { mode: 0o600 });

    const rel = relative(process.cwd(), kubeconfig) || kubeconfig;
    say('');
    say('Kova sandbox is up.');
    if (handler) say(`  nodes:    ${SANDBOX_ZONES.map((z) => `${z.hosts.join(', ')} (${z.name})`).join('; ')}`);
    say(`  flavors:  ${CLASSIC_FLAVORS.map((f) => f.name).join(', ')}`);
    say(`  image:    cirros (namespace ${cfg.imagesNamespace});  project: demo`);
    say(`  logs:     ${relative(process.cwd(), logFile)}`);
    say(`  compute:  ${api.url}/v2.1  (identity ${api.url}/identity/v3, image ${api.url}/image, metrics ${api.url}/metrics)`);
    say('');
    say('Try:');
    if (binDir) say(`  export PATH=${binDir}:$PATH        # the kubectl built with the control plane`);
    say(`  export KUBECONFIG=${rel}`);
    say('  kubectl apply -k config/samples/');
    say('  kubectl get flavors,keypairs,servers -n demo');
    say('  kubectl get servers -n demo -w');
    say('');
    say(`The openstack CLI (pip install python-openstackclient), with ${relative(process.cwd(), cloudsPath)}:`);
    say(clouds.replace(/^/gm, '    ').trimEnd());
    say(`  export OS_CLIENT_CONFIG_FILE=${relative(process.cwd(), cloudsPath)} OS_CLOUD=kova`);
    say('  openstack server create --flavor m1.tiny --image cirros --nic auto --wait vm1');
    say('  openstack server list');
    say(`Or with curl: export OS_TOKEN=${token}`);
    say(`  curl -s -H "X-Auth-Token: $OS_TOKEN" ${api.url}/v2.1/flavors`);
    say('');
    say('Ctrl-C stops everything.');
    await signalled;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    say(`kova dev: ${why}`);
    log.error('kova dev failed', { err: why });
    process.exitCode = 1;
  } finally {
    await stopAll();
  }
  o.log.debug('dev finished');
}
