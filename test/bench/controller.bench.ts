// The controller benchmark, on the real control plane with real virt-controller and virt-api, the
// simulator playing the Nodes, and Kova's controller in its own process (as deployed):
//   - throughput: N servers created through kubectl-style creates, and N through POST /servers →
//     time until every one is ACTIVE, next to the time the same kube-apiserver takes to create N
//     plain custom objects (the raw create rate) in the same run;
//   - steady state: server reconciles per second once nothing changes (aim: 0, no hot loop);
//   - the controller's writes to the kube-apiserver per ACTIVE server, by verb and resource;
//   - the controller process's RSS.
// Prints one JSON document. KOVA_BENCH_THROUGHPUT_SERVERS sets N (200 by default; 1,000 and 5,000
// by `npm run bench -- --servers N`).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FLAVORS } from '../../src/api/flavor.ts';
import { CLUSTER_ROLES, clusterRoleBinding } from '../../src/api/rbac.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { defaultConfig } from '../../src/cache/config.ts';
import { REPO_ROOT } from '../../src/controlplane/controlplane.ts';
import { RUNTIME_ENV } from '../../src/runtime-env.ts';
import { CRDS, installCrds } from '../../src/controlplane/crds.ts';
import { handlerEndpointOf, kubevirtBuild, startKubeVirt } from '../../src/controlplane/kubevirt.ts';
import { Facade } from '../../src/facade/serve.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { CLUSTER_ROLE_BINDING_TYPE, CLUSTER_ROLE_TYPE, type ResourceType } from '../../src/kube/types.ts';
import { createLogger } from '../../src/log.ts';
import { ensureNode, waitSchedulable } from '../../src/sim/nodes.ts';
import { CLASSIC_FLAVORS, ensureImage, ensureProject } from '../../src/sim/seed.ts';
import { QUOTASETS } from '../../src/api/quotaset.ts';
import { PROJECT_QUOTA_NAME } from '../../src/nova/quotas.ts';
import { KubeVirtSimulator } from '../../src/sim/simulator.ts';
import { DATA_VOLUMES, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES, type VirtualMachineInstance } from '../../src/kubevirt/types.ts';
import type { KubeObject } from '../../src/kube/types.ts';
import { startControlPlane } from '../support/controlplane.ts';
import { pool } from '../support/pool.ts';

const N = Number(process.env.KOVA_BENCH_THROUGHPUT_SERVERS ?? 200);
const IN_FLIGHT = 50; // concurrent creates, the same for the raw objects and both doors
const STEADY_WINDOW_S = Number(process.env.KOVA_BENCH_STEADY_SECONDS ?? 30);
const RAW: ResourceType = { group: 'bench.kova.io', version: 'v1', plural: 'rawobjects', kind: 'RawObject', namespaced: true };

const log = (m: string): void => void process.stderr.write(`bench: ${m}\n`);
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** Runs `n` tasks with at most `limit` at a time; the wall time in ms. */
async function timedPool(n: number, limit: number, task: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await pool(n, limit, task);
  return performance.now() - t0;
}

/**
 * Resolves when every Server in the namespace is ACTIVE: ms since t0 then, and when every one's
 * VirtualMachine existed (Kova's own step); fails on ERROR or after 20 min.
 */
async function allActive(client: KubeClient, namespace: string, t0: number): Promise<{ activeMs: number; vmsMs: number }> {
  let vmsMs = 0;
  for (;;) {
    const items = (await client.listAll<Server>(SERVERS, { namespace })).items;
    if (!vmsMs && (await client.listAll(VIRTUAL_MACHINES, { namespace })).items.length === N) vmsMs = performance.now() - t0;
    const active = items.filter((s) => s.status?.status === 'ACTIVE').length;
    const errors = items.filter((s) => s.status?.status === 'ERROR');
    if (errors.length) throw new Error(`${errors.length} servers in ERROR, e.g. ${JSON.stringify(errors[0]!.status?.fault)}`);
    if (items.length === N && active === N) return { activeMs: performance.now() - t0, vmsMs: vmsMs || performance.now() - t0 };
    if (performance.now() - t0 > 20 * 60_000) throw new Error(`only ${active} of ${N} ACTIVE after 20 min`);
    await sleep(200);
  }
}

/** Prometheus text → samples named `name`, as label-string → value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}
const total = (m: Map<string, number>, filter: (labels: string) => boolean = () => true): number => [...m].filter(([l]) => filter(l)).reduce((a, [, v]) => a + v, 0);

/**
 * Where the time to ACTIVE goes: for each server, seconds from its creation to each stage (its VM
 * created, its root disk imported, its VMI created, scheduled, running, the Server launched), as
 * medians and maxima over the namespace (the apiserver's timestamps have one-second resolution).
 */
async function timeline(client: KubeClient, namespace: string): Promise<Record<string, { median_s: number; max_s: number }>> {
  const byName = async <T extends KubeObject>(t: ResourceType) => new Map((await client.listAll<T>(t, { namespace })).items.map((o) => [o.metadata.name ?? '', o]));
  const [servers, vms, vmis, dvs] = [await byName<Server>(SERVERS), await byName(VIRTUAL_MACHINES), await byName<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES), await byName<KubeObject & { status?: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] } }>(DATA_VOLUMES)];
  const stages: Record<string, number[]> = {};
  const at = (stage: string, from: string | undefined, to: string | undefined): void => {
    if (from && to) (stages[stage] ??= []).push((Date.parse(to) - Date.parse(from)) / 1000);
  };
  for (const [name, s] of servers) {
    const t0 = s.metadata.creationTimestamp;
    const vmi = vmis.get(name);
    const phase = (p: string) => vmi?.status?.phaseTransitionTimestamps?.find((x) => x.phase === p)?.phaseTransitionTimestamp;
    const dv = [...dvs.values()].find((d) => d.metadata.ownerReferences?.some((o) => o.name === name));
    at('vm_created', t0, vms.get(name)?.metadata.creationTimestamp);
    at('root_disk_created', t0, dv?.metadata.creationTimestamp);
    at('root_disk_ready', t0, dv?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime);
    at('vmi_created', t0, vmi?.metadata.creationTimestamp);
    at('vmi_scheduled', t0, phase('Scheduled'));
    at('vmi_running', t0, phase('Running'));
    at('server_launched', t0, s.status?.launchedAt);
  }
  const out: Record<string, { median_s: number; max_s: number }> = {};
  for (const [k, v] of Object.entries(stages)) {
    v.sort((a, b) => a - b);
    out[k] = { median_s: v[Math.floor(v.length / 2)] ?? 0, max_s: v.at(-1) ?? 0 };
  }
  return out;
}

async function main(): Promise<void> {
  const kv = await kubevirtBuild(log);
  const cp = await startControlPlane({ prefix: 'kova-bench-', progress: log });
  const stops: (() => Promise<void> | void)[] = [];
  try {
    const components = await startKubeVirt(cp, kv);
    const client = await KubeClient.load(cp.kubeconfigPath, { fieldManager: 'kova-bench' });
    stops.push(() => client.close());
    const quiet = createLogger({}, 'error');
    const sim = new KubeVirtSimulator(await KubeClient.load(cp.kubeconfigPath, { fieldManager: 'kova-sim' }), quiet, { stepMs: 50, importSteps: 1, handler: handlerEndpointOf(components.handlerRef) });
    await sim.start();
    stops.push(() => sim.stop());

    // Nodes big enough for every VM of both doors (the scheduler's pod limit included).
    const nodes = Array.from({ length: Math.max(4, Math.ceil((2 * N) / 200)) }, (_, i) => ({ name: `bench-node-${i}`, cpu: '256', memory: '2Ti', pods: '250' }));
    await Promise.all(nodes.map((n) => ensureNode(client, n)));
    await waitSchedulable(client, nodes.map((n) => n.name));
    await Promise.all(CLASSIC_FLAVORS.map((spec) => client.apply(FLAVORS, { metadata: { name: spec.name }, spec })));
    await ensureImage(client, 'kova-images', 'cirros');
    for (const ns of ['bench-raw', 'bench-kubectl', 'bench-api']) {
      await ensureProject(client, ns);
      // Unlimited quotas: the benchmark measures building, not Nova's default of 10 servers.
      await client.apply(QUOTASETS, { metadata: { name: PROJECT_QUOTA_NAME, namespace: ns }, spec: { instances: -1, cores: -1, ramMiB: -1 } });
    }
    await Promise.all(CLUSTER_ROLES.map((r) => client.apply(CLUSTER_ROLE_TYPE, r)));
    await client.apply(CLUSTER_ROLE_BINDING_TYPE, clusterRoleBinding('bench-admin', 'kova-admin', { kind: 'User', name: 'bench' }));
    await installCrds(client, [{
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'rawobjects.bench.kova.io' },
      spec: { group: RAW.group, scope: 'Namespaced', names: { plural: RAW.plural, singular: 'rawobject', kind: RAW.kind }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
    }]);
    stops.push(() => client.delete(CRDS, 'rawobjects.bench.kova.io').then(() => undefined, () => undefined));

    // Kova's controller in its own process, as deployed (one replica, no Lease), with its /metrics.
    const metricsPort = 18000 + Math.floor(Math.random() * 1000);
    const controller: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'src/cli/main.ts'), 'controller', '--kubeconfig', cp.kubeconfigPath, '--metrics-port', String(metricsPort), '--host', '127.0.0.1', '--no-leader-elect'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...RUNTIME_ENV, KOVA_LOG_LEVEL: 'error' } });
    stops.push(() => void controller.kill('SIGTERM'));
    const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 600) throw new Error('the controller did not become ready');
      await sleep(100);
    }
    const facade = await Facade.start(await KubeClient.load(cp.kubeconfigPath, { fieldManager: 'kova-api' }), defaultConfig(), quiet, { port: 0 });
    stops.push(() => facade.stop());

    // Warm-up: one server through each path, so the first measured create pays no cold start.
    await client.create(SERVERS, { metadata: { name: 'warm-up', namespace: 'bench-raw' }, spec: { name: 'warm-up', flavor: 'm1.tiny', image: 'cirros' } });
    for (;;) {
      const s = await client.get<Server>(SERVERS, 'warm-up', 'bench-raw');
      if (s.status?.status === 'ACTIVE') break;
      await sleep(200);
    }

    log(`raw: ${N} plain custom objects`);
    const rawMs = await timedPool(N, IN_FLIGHT, (i) => client.create(RAW, { metadata: { name: `raw-${i}`, namespace: 'bench-raw' }, spec: { name: `raw-${i}`, flavor: 'm1.tiny', image: 'cirros' } } as never));

    log(`kubectl door: ${N} Servers → ACTIVE`);
    const writes0 = samples(await metrics(), 'kova_kube_writes_total');
    let t0 = performance.now();
    const kubectlCreateMs = await timedPool(N, IN_FLIGHT, (i) => client.create(SERVERS, { metadata: { name: `k-${i}`, namespace: 'bench-kubectl' }, spec: { name: `k-${i}`, flavor: 'm1.tiny', image: 'cirros' } }));
    const kubectl = await allActive(client, 'bench-kubectl', t0);
    await sleep(5_000); // late writes for these servers (none expected) are counted too
    const writes1 = samples(await metrics(), 'kova_kube_writes_total');
    const stages = await timeline(client, 'bench-kubectl');

    log(`API door: ${N} POST /servers → ACTIVE`);
    const project = facade.caches.projectByIdOrName('bench-api');
    const token = facade.issuer.issue({ user: 'bench', groups: [], ...(project ? { project } : {}) }).token;
    const imageId = facade.caches.image('cirros')?.metadata.uid ?? '';
    t0 = performance.now();
    const apiCreateMs = await timedPool(N, IN_FLIGHT, async (i) => {
      const r = await fetch(`${facade.url}/v2.1/servers`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'openstack-api-version': 'compute 2.100', 'content-type': 'application/json' },
        body: JSON.stringify({ server: { name: `a-${i}`, flavorRef: '1', imageRef: imageId, networks: 'auto' } }),
      });
      if (r.status !== 202) throw new Error(`POST /servers: ${r.status} ${await r.text()}`);
    });
    const api = await allActive(client, 'bench-api', t0);

    log(`steady state: ${STEADY_WINDOW_S} s with nothing changing`);
    await sleep(10_000);
    const reconciles = (text: string) => total(samples(text, 'kova_reconcile_duration_seconds_count'), (l) => l.includes('controller="server"'));
    const before = await metrics();
    await sleep(STEADY_WINDOW_S * 1000);
    const after = await metrics();
    const rss = total(samples(after, 'kova_process_resident_memory_bytes'));

    const perServer: Record<string, number> = {};
    for (const [labels, v] of writes1) {
      const d = v - (writes0.get(labels) ?? 0);
      const m = /verb="([^"]+)",resource="([^"]*)"|resource="([^"]*)",verb="([^"]+)"/.exec(labels);
      const key = m ? `${m[1] ?? m[4]} ${m[2] ?? m[3]}` : labels;
      if (d > 0) perServer[key] = round(d / N);
    }
    const rate = (ms: number): number => round(N / (ms / 1000), 1);
    const door = (createMs: number, t: { activeMs: number; vmsMs: number }, seconds_from_creation?: unknown) => ({
      create_ms: Math.round(createMs),
      all_vms_created_ms: Math.round(t.vmsMs), vms_ratio_to_raw: round(rawMs / t.vmsMs, 3),
      all_active_ms: Math.round(t.activeMs), active_per_s: rate(t.activeMs), ratio_to_raw: round(rawMs / t.activeMs, 3),
      ...(seconds_from_creation ? { seconds_from_creation } : {}),
    });
    const result = {
      benchmark: 'kova-controller',
      servers: N,
      in_flight: IN_FLIGHT,
      raw_custom_object_create: { ms: Math.round(rawMs), per_s: rate(rawMs) },
      kubectl_door: door(kubectlCreateMs, kubectl, stages),
      api_door: door(apiCreateMs, api),
      aim_throughput: 'ratio_to_raw ≥ 0.5 (servers ACTIVE per second vs plain objects created per second); vms_ratio_to_raw is Kova\'s own step (Server → VirtualMachine), the rest is KubeVirt, CDI, the scheduler and the Nodes',
      steady_state: { server_reconciles_per_s: round((reconciles(after) - reconciles(before)) / STEADY_WINDOW_S, 3), window_s: STEADY_WINDOW_S, aim: 0 },
      controller_writes_per_active_server: { ...perServer, total: round(Object.values(perServer).reduce((a, b) => a + b, 0)) },
      controller_rss_mb: Math.round(rss / 2 ** 20),
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
    await cp.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
