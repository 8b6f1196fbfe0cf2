#!/usr/bin/env node
// kova: one binary, several roles. `kova controller`, `kova sim`, `kova dev`.
import { parseArgs } from 'node:util';
import { ControllerManager } from '../controllers/manager.ts';
import { defaultConfig } from '../controllers/context.ts';
import { KubeClient } from '../kube/client.ts';
import { createLogger } from '../log.ts';
import { KubeVirtSimulator } from '../sim/simulator.ts';
import { runDev } from './dev.ts';
import { Facade } from '../facade/server.ts';

const USAGE = `usage: kova <command> [options]

commands:
  controller   run the Kova controllers (Server, Flavor, KeyPair, Aggregate)
  api          run the Compute API façade (Nova v2.1, Keystone v3 and Glance v2 subsets) on 127.0.0.1:8774
  sim          run the KubeVirt simulator (virt-controller, virt-handler, kubelet, CDI)
  dev          start a local sandbox cloud: control plane, nodes, flavors, image, simulator, controllers

options:
  --kubeconfig PATH   cluster to use (default: $KUBECONFIG, ~/.kube/config or in-cluster)
  --sim               with dev --kubeconfig: run the simulator too
  --step-ms N         simulator step time in ms (default 300)
  --host H, --port N  where the API listens (default 127.0.0.1:8774; env KOVA_TOKEN_KEY = base64 signing key)
`;

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
      kubeconfig: { type: 'string' }, sim: { type: 'boolean' }, 'step-ms': { type: 'string' }, host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  const log = createLogger({ command });
  const stepMs = values['step-ms'] ? Number(values['step-ms']) : undefined;
  switch (command) {
    case 'controller': {
      const client = await KubeClient.load(values.kubeconfig, { fieldManager: 'kova-controller' });
      const mgr = new ControllerManager(client, defaultConfig(), log);
      await mgr.start();
      await runUntilSignal(async () => {
        await mgr.stop();
        client.close();
      });
      return;
    }
    case 'sim': {
      const client = await KubeClient.load(values.kubeconfig, { fieldManager: 'kova-sim' });
      const sim = new KubeVirtSimulator(client, log, { stepMs });
      await sim.start();
      await runUntilSignal(async () => {
        await sim.stop();
        client.close();
      });
      return;
    }
    case 'api': {
      const client = await KubeClient.load(values.kubeconfig, { fieldManager: 'kova-api' });
      const key = process.env.KOVA_TOKEN_KEY ? Buffer.from(process.env.KOVA_TOKEN_KEY, 'base64') : undefined;
      const api = await Facade.start(client, defaultConfig(), log, { host: values.host, port: values.port ? Number(values.port) : undefined, tokenKey: key });
      await runUntilSignal(async () => {
        await api.stop();
        client.close();
      });
      return;
    }
    case 'dev':
      await runDev({ kubeconfig: values.kubeconfig, sim: values.sim, stepMs, log, host: values.host, port: values.port ? Number(values.port) : undefined });
      return;
    default:
      process.stdout.write(USAGE);
      process.exitCode = values.help || !command ? 0 : 2;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`kova: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
