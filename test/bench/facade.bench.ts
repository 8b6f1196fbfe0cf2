// npm run bench: the façade next to the raw kube-apiserver, in the same run, on the real control plane.
//   - GET /v2.1/servers/detail over N servers (median, p99) vs a raw LIST of the same Server objects;
//   - POST /v2.1/servers latency (including read-your-writes) vs a raw Server create.
// Prints one JSON document. Aim (issue 3): the façade list at most half the raw list time.
import { CLUSTER_ROLES, clusterRoleBinding } from '../../src/api/rbac.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { defaultConfig } from '../../src/cache/config.ts';
import { Facade } from '../../src/facade/serve.ts';
import { KubeClient, resourcePath } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { CLUSTER_ROLE_BINDING_TYPE, CLUSTER_ROLE_TYPE } from '../../src/kube/types.ts';
import { CLASSIC_FLAVORS, ensureImage, ensureProject } from '../../src/sim/seed.ts';
import { FLAVORS } from '../../src/api/flavor.ts';
import { stats, time } from './stats.ts';
import { QUOTASETS } from '../../src/api/quotaset.ts';
import { PROJECT_QUOTA_NAME } from '../../src/nova/quotas.ts';
import { startControlPlane } from '../support/controlplane.ts';

const SERVERS_N = Number(process.env.KOVA_BENCH_SERVERS ?? 1000);
const LIST_RUNS = Number(process.env.KOVA_BENCH_LIST_RUNS ?? 30);
const CREATE_RUNS = Number(process.env.KOVA_BENCH_CREATE_RUNS ?? 50);

const log = (m: string): void => void process.stderr.write(`bench: ${m}\n`);

async function main(): Promise<void> {
  const cp = await startControlPlane({ prefix: 'kova-bench-', progress: log });
  try {
    const client = await KubeClient.load(cp.kubeconfigPath, { fieldManager: 'kova-bench' });
    const ns = 'bench';
    await ensureProject(client, ns);
    // Unlimited quotas: the benchmark creates past Nova's default of 10 servers.
    await client.apply(QUOTASETS, { metadata: { name: PROJECT_QUOTA_NAME, namespace: ns }, spec: { instances: -1, cores: -1, ramMiB: -1 } });
    await ensureImage(client, 'kova-images', 'cirros');
    await Promise.all(CLASSIC_FLAVORS.map((spec) => client.apply(FLAVORS, { metadata: { name: spec.name }, spec })));
    await Promise.all(CLUSTER_ROLES.map((r) => client.apply(CLUSTER_ROLE_TYPE, r)));
    await client.apply(CLUSTER_ROLE_BINDING_TYPE, clusterRoleBinding('bench-admin', 'kova-admin', { kind: 'User', name: 'bench' }));

    log(`creating ${SERVERS_N} servers with an ACTIVE status`);
    const made: Server[] = [];
    for (let i = 0; i < SERVERS_N; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, SERVERS_N - i) }, (_, j) =>
        client.create<Server>(SERVERS, { metadata: { name: `s-${i + j}`, namespace: ns, annotations: { 'compute.kova.io/user-id': 'bench' } }, spec: { name: `server-${i + j}`, flavor: 'm1.tiny', image: 'cirros', metadata: { role: 'bench' } } })));
      await Promise.all(batch.map((s, j) => client.mergePatch(SERVERS, s.metadata.name ?? '', ns, {
        status: {
          status: 'ACTIVE', vmState: 'active', powerState: 'Running', progress: 0, host: 'compute-1', hypervisorHostname: 'compute-1',
          addresses: { default: [{ addr: `10.244.${Math.floor((i + j) / 250)}.${((i + j) % 250) + 2}`, version: 4, type: 'fixed', macAddr: '02:00:00:00:00:01' }] },
          flavor: { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1, ephemeralGiB: 0, swapMiB: 0, extraSpecs: {} },
          launchedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      }, 'status')));
      made.push(...batch);
    }

    const facade = await Facade.start(await KubeClient.load(cp.kubeconfigPath, { fieldManager: 'kova-api' }), defaultConfig(), createLogger({}, 'error'), { port: 0 });
    const project = facade.caches.projectByIdOrName(ns);
    const token = facade.issuer.issue({ user: 'bench', groups: [], ...(project ? { project } : {}) }).token;
    const headers = { 'x-auth-token': token, 'openstack-api-version': 'compute 2.100' };

    // Warm up both paths (JIT, connections, the SubjectAccessReview cache).
    for (let i = 0; i < 3; i++) {
      await (await fetch(`${facade.url}/v2.1/servers/detail?limit=1000`, { headers })).arrayBuffer();
      await client.request('GET', resourcePath(SERVERS, ns));
    }
    const facadeList: number[] = [];
    const rawList: number[] = [];
    let listed = 0;
    for (let i = 0; i < LIST_RUNS; i++) {
      facadeList.push(await time(async () => {
        const body = (await (await fetch(`${facade.url}/v2.1/servers/detail?limit=1000`, { headers })).json()) as { servers: unknown[] };
        listed = body.servers.length;
      }));
      rawList.push(await time(() => client.request('GET', resourcePath(SERVERS, ns))));
    }

    const imageId = facade.caches.image('cirros')?.metadata.uid ?? '';
    const facadeCreate: number[] = [];
    const rawCreate: number[] = [];
    for (let i = 0; i < CREATE_RUNS; i++) {
      facadeCreate.push(await time(async () => {
        const r = await fetch(`${facade.url}/v2.1/servers`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ server: { name: `created-${i}`, flavorRef: '1', imageRef: imageId, networks: 'auto' } }),
        });
        if (r.status !== 202) throw new Error(`create: ${r.status} ${await r.text()}`);
      }));
      rawCreate.push(await time(() => client.create(SERVERS, { metadata: { name: `raw-${i}`, namespace: ns }, spec: { name: `raw-${i}`, flavor: 'm1.tiny', image: 'cirros' } })));
    }
    // Measured after a full collection (npm run bench passes --expose-gc): live memory, not garbage not yet collected.
    (globalThis as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    const result = {
      benchmark: 'kova-facade',
      date: new Date().toISOString(),
      node: process.version,
      servers: SERVERS_N,
      list: {
        facade_servers_detail: { ...stats(facadeList), items: listed },
        raw_kube_list: stats(rawList),
        ratio_median: Math.round((stats(facadeList).median_ms / stats(rawList).median_ms) * 1000) / 1000,
        aim: 'facade median ≤ 0.5 × raw median',
      },
      create: {
        facade_post_servers: stats(facadeCreate),
        raw_custom_resource_create: stats(rawCreate),
        note: 'the façade create includes validation, an impersonated write and waiting until its cache shows the server (read-your-writes)',
      },
      memory_mb: { rss: Math.round(mem.rss / 2 ** 20), heap_used: Math.round(mem.heapUsed / 2 ** 20), note: 'whole bench process: façade caches of all servers plus the bench client' },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    await facade.stop();
    client.close();
  } finally {
    await cp.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
