// The scale benchmark: 10,000 servers (KOVA_BENCH_SCALE_SERVERS), in one project and spread over 100
// more, served by `kova api` in its own process (so its RSS is its own):
//   - GET /servers/detail paged 1,000 at a time with markers through the big project: p50 / p99 per page;
//   - GET /servers/detail?limit=1000 vs a raw LIST of 1,000 of the same objects;
//   - a filtered list (status=ACTIVE&name=…) over the 10,000;
//   - POST /servers p99 with 10,000 existing;
//   - an admin's all_tenants list over the 100 small projects;
//   - the API's and the controller's (started last, run until its work queue is empty) RSS and V8
//     heap in use, read after their work and again after KOVA_BENCH_IDLE_SECONDS (60) with none.
// Prints one JSON document.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FLAVORS } from '../../src/api/flavor.ts';
import { CLUSTER_ROLES, clusterRoleBinding } from '../../src/api/rbac.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { freePort, REPO_ROOT } from '../../src/controlplane/controlplane.ts';
import { RUNTIME_ENV } from '../../src/runtime-env.ts';
import { KubeClient, resourcePath } from '../../src/kube/client.ts';
import { CLUSTER_ROLE_BINDING_TYPE, CLUSTER_ROLE_TYPE } from '../../src/kube/types.ts';
import { TokenIssuer } from '../../src/identity/tokens.ts';
import { CLASSIC_FLAVORS, ensureImage, ensureProject } from '../../src/sim/seed.ts';
import { stats, time } from './stats.ts';
import { QUOTASETS } from '../../src/api/quotaset.ts';
import { PROJECT_QUOTA_NAME } from '../../src/nova/quotas.ts';
import { startControlPlane } from '../support/controlplane.ts';

const N = Number(process.env.KOVA_BENCH_SCALE_SERVERS ?? 10_000);
const SPREAD = 100;
const IDLE_S = Number(process.env.KOVA_BENCH_IDLE_SECONDS ?? 60);
const log = (m: string): void => void process.stderr.write(`bench: ${m}\n`);

/** Creates `count` servers with an ACTIVE status in `ns`, 50 at a time. */
async function populate(client: KubeClient, ns: string, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
      const n = i + j;
      const s = await client.create<Server>(SERVERS, { metadata: { name: `${prefix}-${n}`, namespace: ns, annotations: { 'compute.kova.io/user-id': 'bench' } }, spec: { name: `${prefix}-${n}`, flavor: 'm1.tiny', image: 'cirros', metadata: { role: 'bench' } } });
      await client.mergePatch(SERVERS, s.metadata.name ?? '', ns, {
        status: {
          status: n % 10 === 0 ? 'SHUTOFF' : 'ACTIVE', vmState: n % 10 === 0 ? 'stopped' : 'active', powerState: n % 10 === 0 ? 'Shutdown' : 'Running', progress: 0, host: 'compute-1', hypervisorHostname: 'compute-1',
          addresses: { default: [{ addr: `10.${Math.floor(n / 62500) % 250}.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`, version: 4, type: 'fixed', macAddr: '02:00:00:00:00:01' }] },
          flavor: { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1, ephemeralGiB: 0, swapMiB: 0, extraSpecs: {} },
          launchedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      }, 'status');
    }));
  }
}

async function main(): Promise<void> {
  const cp = await startControlPlane({ prefix: 'kova-bench-', progress: log });
  const procs: ChildProcess[] = [];
  try {
    const client = await KubeClient.load(cp.kubeconfigPath, { fieldManager: 'kova-bench' });
    await ensureImage(client, 'kova-images', 'cirros');
    await Promise.all(CLASSIC_FLAVORS.map((spec) => client.apply(FLAVORS, { metadata: { name: spec.name }, spec })));
    await Promise.all(CLUSTER_ROLES.map((r) => client.apply(CLUSTER_ROLE_TYPE, r)));
    await client.apply(CLUSTER_ROLE_BINDING_TYPE, clusterRoleBinding('bench-admin', 'kova-admin', { kind: 'User', name: 'bench' }));
    await ensureProject(client, 'big');
    // Unlimited quotas: the benchmark measures listing and creating, not Nova's default of 10 servers.
    await client.apply(QUOTASETS, { metadata: { name: PROJECT_QUOTA_NAME, namespace: 'big' }, spec: { instances: -1, cores: -1, ramMiB: -1 } });
    log(`${N} servers in one project`);
    await populate(client, 'big', N, 's');
    log(`${N} more over ${SPREAD} projects`);
    for (let p = 0; p < SPREAD; p++) {
      await ensureProject(client, `small-${p}`);
      await populate(client, `small-${p}`, Math.ceil(N / SPREAD), `p${p}`);
    }

    // `kova api` in its own process, with a signing key the bench shares to make its tokens.
    const key = Buffer.from('k'.repeat(32));
    const port = await freePort();
    const api = spawn(process.execPath, [join(REPO_ROOT, 'src/cli/main.ts'), 'api', '--kubeconfig', cp.kubeconfigPath, '--port', String(port)], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...RUNTIME_ENV, KOVA_TOKEN_KEY: key.toString('base64'), KOVA_LOG_LEVEL: 'error' } });
    procs.push(api);
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
      if (i > 1200) throw new Error('kova api did not become ready');
      await sleep(250);
    }
    const issuer = new TokenIssuer(key);
    const projectId = async (ns: string): Promise<string> => (await client.get<{ metadata: { uid?: string } }>({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }, ns)).metadata.uid ?? '';
    const token = issuer.issue({ user: 'bench', groups: [], project: { namespace: 'big', id: await projectId('big') } }).token;
    const headers = { 'x-auth-token': token, 'openstack-api-version': 'compute 2.100' };
    const get = async (path: string): Promise<{ servers: { id: string }[] }> => {
      const r = await fetch(url + path, { headers });
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
      return (await r.json()) as { servers: { id: string }[] };
    };
    // Until the API's caches have every server (counted a page at a time: Nova caps a page at 1,000).
    const count = async (): Promise<number> => {
      let n = 0;
      let marker = '';
      for (;;) {
        const page = await get(`/v2.1/servers?limit=1000${marker ? `&marker=${marker}` : ''}`);
        n += page.servers.length;
        if (page.servers.length < 1000) return n;
        marker = page.servers.at(-1)!.id;
      }
    };
    while ((await count()) < N) await sleep(1000);

    log('paging');
    const pages: number[] = [];
    for (let round = 0; round < 3; round++) {
      let marker = '';
      for (;;) {
        let got: { servers: { id: string }[] } = { servers: [] };
        pages.push(await time(async () => (got = await get(`/v2.1/servers/detail?limit=1000${marker ? `&marker=${marker}` : ''}`))));
        if (got.servers.length < 1000) break;
        marker = got.servers.at(-1)!.id;
      }
    }
    const list: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < 20; i++) {
      list.push(await time(() => get('/v2.1/servers/detail?limit=1000')));
      raw.push(await time(() => client.request('GET', resourcePath(SERVERS, 'big'), { query: { limit: 1000 } })));
    }
    const filtered: number[] = [];
    for (let i = 0; i < 20; i++) filtered.push(await time(() => get(`/v2.1/servers/detail?status=ACTIVE&name=s-${i * 37}$`)));
    const adminToken = issuer.issue({ user: 'bench', groups: [], project: { namespace: 'small-0', id: await projectId('small-0') } }).token;
    const allTenants: number[] = [];
    for (let i = 0; i < 10; i++) allTenants.push(await time(async () => {
      const r = await fetch(`${url}/v2.1/servers/detail?all_tenants=1&limit=1000`, { headers: { ...headers, 'x-auth-token': adminToken } });
      await r.arrayBuffer();
    }));
    const imageId = (await client.get<{ metadata: { uid?: string } }>({ group: 'cdi.kubevirt.io', version: 'v1beta1', plural: 'datasources', kind: 'DataSource', namespaced: true }, 'cirros', 'kova-images')).metadata.uid;
    const creates: number[] = [];
    for (let i = 0; i < 50; i++) creates.push(await time(async () => {
      const r = await fetch(`${url}/v2.1/servers`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ server: { name: `new-${i}`, flavorRef: '1', imageRef: imageId, networks: 'auto' } }) });
      if (r.status !== 202) throw new Error(`POST /servers: ${r.status} ${await r.text()}`);
    }));
    /** A process's resident memory and V8 heap in use (MB), from its /metrics. */
    const memoryOf = async (metricsUrl: string): Promise<{ rss: number; heap_used: number }> => {
      const text = await (await fetch(metricsUrl, { headers })).text();
      const mb = (name: string) => Math.round(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0) / 2 ** 20);
      return { rss: mb('kova_process_resident_memory_bytes'), heap_used: mb('kova_nodejs_heap_size_used_bytes') };
    };
    const apiMemory = await memoryOf(`${url}/metrics`);

    log('the controller over every server (no KubeVirt: it makes the VMs, nothing runs them)');
    const metricsPort = await freePort();
    const ctl = spawn(process.execPath, [join(REPO_ROOT, 'src/cli/main.ts'), 'controller', '--kubeconfig', cp.kubeconfigPath, '--metrics-port', String(metricsPort), '--host', '127.0.0.1', '--no-leader-elect'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...RUNTIME_ENV, KOVA_LOG_LEVEL: 'error' } });
    procs.push(ctl);
    const t0 = performance.now();
    const total = N + SPREAD * Math.ceil(N / SPREAD) + 50;
    let idle = 0;
    for (;;) {
      await sleep(2000);
      const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
      const depth = Number(/^kova_workqueue_depth\{controller="server"\} (\S+)$/m.exec(text)?.[1] ?? NaN);
      // Drained: every server reconciled at least once (an empty queue before the first sync is not), and the queue empty.
      const reconciled = Number(/^kova_reconcile_duration_seconds_count\{controller="server"\} (\S+)$/m.exec(text)?.[1] ?? 0);
      idle = depth === 0 && reconciled >= total ? idle + 1 : 0;
      if (idle >= 3 || performance.now() - t0 > 40 * 60_000) break;
    }
    const drainedS = Math.round((performance.now() - t0) / 1000);
    const controllerMemory = await memoryOf(`http://127.0.0.1:${metricsPort}/metrics`);
    // And once it has had IDLE_S seconds with nothing to do (V8 gives back pages it no longer needs
    // when idle: the memory reducer), the API's too.
    await sleep(IDLE_S * 1000);
    const controllerIdle = await memoryOf(`http://127.0.0.1:${metricsPort}/metrics`);
    const apiIdle = await memoryOf(`${url}/metrics`);

    const s = (x: number[]) => stats(x);
    process.stdout.write(JSON.stringify({
      benchmark: 'kova-scale',
      servers_in_one_project: N,
      servers_in_other_projects: SPREAD * Math.ceil(N / SPREAD),
      projects: SPREAD + 1,
      paging_servers_detail_1000_per_page: { ...s(pages), aim: 'p99 < 200 ms' },
      list_limit_1000: { facade: s(list), raw_kube_list_limit_1000: s(raw), ratio_median: Math.round((s(list).median_ms / s(raw).median_ms) * 1000) / 1000, aim: '≤ 0.5 × raw' },
      filtered_status_and_name: s(filtered),
      all_tenants_admin_limit_1000: s(allTenants),
      post_servers_with_existing: { ...s(creates), existing: N * 2 },
      memory_mb: {
        api: { after_requests: apiMemory, idle: apiIdle },
        controller: { drained: controllerMemory, idle: controllerIdle },
        idle_s: IDLE_S,
        aim: 'RSS ≤ 300 each',
        controller_drained_s: drainedS,
        controller_drained: idle >= 3,
      },
    }, null, 2) + '\n');
    client.close();
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await cp.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
