#!/usr/bin/env node
// kova: one binary, several roles. `kova controller`, `kova sim`, `kova dev`.
import { parseArgs } from 'node:util';
import { ControllerManager } from '../controllers/manager.ts';
import { defaultConfig } from '../cache/config.ts';
import { KubeClient } from '../kube/client.ts';
import { createLogger } from '../log.ts';
import { KubeVirtSimulator } from '../sim/simulator.ts';
import { handlerEndpointOf } from '../controlplane/kubevirt.ts';
import { hostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { runDev } from './dev.ts';
import { serveHealth } from './health.ts';
import { LeaderElector } from '../kube/leader.ts';
import { Metrics } from '../metrics.ts';
import { Facade } from '../facade/serve.ts';
import { hashSecret } from '../identity/store.ts';
import { CONTROLLER_LEASE } from '../api/group.ts';

const USAGE = `usage: kova <command> [options]

commands:
  controller   run the Kova controllers (Server, Flavor, KeyPair, Aggregate)
  api          run the Compute API façade (Nova v2.1, Keystone v3 and Glance v2 subsets) on 127.0.0.1:8774
  sim          run the KubeVirt simulator: the Nodes (virt-handler, kubelet, CDI's importer) for real
               virt-api and virt-controller, which must run (--virt-handler)
  dev          start a local sandbox cloud: control plane, real virt-api and virt-controller,
               simulated nodes, flavors, image, controllers
  hash-password  read a password on stdin, print its scrypt hash (for the static users Secret)

options:
  --kubeconfig PATH   cluster to use (default: $KUBECONFIG, ~/.kube/config or in-cluster)
  --virt-handler PORT:CERTS  sim: the port real virt-api calls virt-handler on (its
                      --console-server-port) and the folder of KubeVirt's certificates (ca.crt,
                      virt-handler.crt, virt-handler.key); default $KOVA_KUBEVIRT_HANDLER
  --step-ms N         simulator step time in ms (default 300)
  --metrics-port N    controller: port of /metrics, /healthz, /readyz (default 8081)
  --no-leader-elect   controller: run without the leader Lease (a single replica)
  --host H, --port N  where the API listens (default 127.0.0.1:8774; env KOVA_TOKEN_KEY = base64 signing key)

api environment:
  KOVA_CONSOLE_TOKEN_TTL      seconds a console URL can be opened (default 600, Nova's token_ttl)
  KOVA_NOVNC_PROXY_BASE_URL   the noVNC page console URLs point at (default: the API's own /novnc/vnc_lite.html)
  KOVA_POD_CIDRS              the pod network's CIDRs, comma-separated, as Neutron's subnets (default 10.244.0.0/16)
  KOVA_POD_MTU                the pod network's MTU as Neutron shows it (default 1500)
  KOVA_IDENTITY_PROVIDERS     identity provider names OS-FEDERATION logins may name, comma-separated (default: any)
  KOVA_APPLICATION_CREDENTIALS  false turns application credentials off (default on)
  KOVA_STATIC_USERS_SECRET    a Secret in Kova's namespace of password users: user name → \`kova hash-password\` output
`;

const envMs = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);

/** The namespace of the pod this runs in, when it runs in one. */
function podNamespace(): string | undefined {
  const f = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : undefined;
}

/** Runs until SIGINT/SIGTERM, then stops what `start` returned. */
async function runUntilSignal(stop: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await stop();
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      kubeconfig: { type: 'string' }, 'virt-handler': { type: 'string' }, 'metrics-port': { type: 'string' }, 'no-leader-elect': { type: 'boolean' }, 'step-ms': { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  const log = createLogger({ command });
  const stepMs = values['step-ms'] ? Number(values['step-ms']) : undefined;
  switch (command) {
    case 'controller': {
      const metrics = new Metrics();
      const client = await KubeClient.load(values.kubeconfig, { fieldManager: 'kova-controller', onWrite: (verb, resource) => metrics.kubeWrites.inc({ verb, resource }) });
      const mgr = new ControllerManager(client, defaultConfig(), log, metrics);
      let started = false;
      let leading = false;
      // Ready: a leader once its caches are synced (start() waits for that); a standby at once.
      const health = await serveHealth({ host: values.host ?? '0.0.0.0', port: Number(values['metrics-port'] ?? 8081), metrics, ready: () => started || !leading });
      if (values['no-leader-elect']) {
        leading = true;
        await mgr.start();
        started = true;
      }
      const elector = values['no-leader-elect'] ? undefined : new LeaderElector(client, log, {
        namespace: process.env.KOVA_NAMESPACE ?? podNamespace() ?? 'kova-system',
        name: CONTROLLER_LEASE,
        identity: `${hostname()}_${process.pid}`,
        leaseDurationMs: envMs('KOVA_LEASE_DURATION_MS'),
        renewDeadlineMs: envMs('KOVA_RENEW_DEADLINE_MS'),
        retryPeriodMs: envMs('KOVA_RETRY_PERIOD_MS'),
      });
      let stopping = false;
      const election = elector?.run(
        async () => {
          leading = true;
          metrics.leader.set(1);
          await mgr.start();
          started = true;
        },
        async () => {
          metrics.leader.set(0);
          if (started) await mgr.stop();
          // Lost the Lease without being asked to stop: exit, so nothing acts twice (as client-go does).
          if (!stopping) process.exit(1);
        },
      );
      await runUntilSignal(async () => {
        stopping = true;
        elector?.stop();
        await election;
        if (!elector && started) await mgr.stop();
        health.close();
        client.close();
      });
      return;
    }
    case 'sim': {
      const handler = values['virt-handler'] ?? process.env.KOVA_KUBEVIRT_HANDLER;
      if (!handler) throw new Error('sim plays only the Nodes of a cluster running real virt-api and virt-controller: give --virt-handler PORT:CERTS (where virt-api calls virt-handler, and KubeVirt\'s certificates), or use `kova dev`, which starts them');
      const client = await KubeClient.load(values.kubeconfig, { fieldManager: 'kova-sim' });
      const sim = new KubeVirtSimulator(client, log, { handler: handlerEndpointOf(handler), stepMs });
      await sim.start();
      await runUntilSignal(async () => {
        await sim.stop();
        client.close();
      });
      return;
    }
    case 'hash-password': {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
      if (!password) throw new Error('no password on stdin');
      process.stdout.write(`${await hashSecret(password)}\n`);
      return;
    }
    case 'api': {
      const metrics = new Metrics();
      const client = await KubeClient.load(values.kubeconfig, { fieldManager: 'kova-api', onWrite: (verb, resource) => metrics.kubeWrites.inc({ verb, resource }) });
      const key = process.env.KOVA_TOKEN_KEY ? Buffer.from(process.env.KOVA_TOKEN_KEY, 'base64') : undefined;
      const api = await Facade.start(client, defaultConfig(), log, {
        host: values.host, port: values.port ? Number(values.port) : undefined, tokenKey: key, metrics,
        consoleTokenTtlSeconds: process.env.KOVA_CONSOLE_TOKEN_TTL ? Number(process.env.KOVA_CONSOLE_TOKEN_TTL) : undefined,
        novncProxyBaseUrl: process.env.KOVA_NOVNC_PROXY_BASE_URL || undefined,
        identityNamespace: process.env.KOVA_NAMESPACE || podNamespace() || 'kova-system',
        identityProviders: process.env.KOVA_IDENTITY_PROVIDERS ? process.env.KOVA_IDENTITY_PROVIDERS.split(',').map((x) => x.trim()).filter(Boolean) : undefined,
        applicationCredentials: !['false', '0', 'no', 'off'].includes((process.env.KOVA_APPLICATION_CREDENTIALS ?? '').toLowerCase()),
        staticUsersSecret: process.env.KOVA_STATIC_USERS_SECRET || undefined,
      });
      await runUntilSignal(async () => {
        await api.stop();
        client.close();
      });
      return;
    }
    case 'dev':
      await runDev({ kubeconfig: values.kubeconfig, stepMs, log, host: values.host, port: values.port ? Number(values.port) : undefined });
      // Everything it started is stopped; a client still retrying a control plane that died first
      // (its apiserver killed from outside) must not keep the command from ending.
      process.exit();
    default:
      process.stdout.write(USAGE);
      process.exitCode = values.help || !command ? 0 : 2;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`kova: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
