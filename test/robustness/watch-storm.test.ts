// A watch storm: the kube-apiserver ends every watch after 2–4 s (`--min-request-timeout=2`) for the
// whole file, while servers are created, stopped and started for a minute. No update is missed:
// every server reaches the state last asked of it, and the façade lists each one as the apiserver has it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVERS, type Server } from '../../src/api/server.ts';
import type { ControlPlane } from '../../src/controlplane/controlplane.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { ensureFlavor, project } from '../support/fixtures.ts';
import { grant } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';
import { startOwnControlPlane } from './cluster.ts';

const STORM_S = Number(process.env.KOVA_ROBUSTNESS_STORM_SECONDS ?? 60);

describe('a watch storm', () => {
  let cp: ControlPlane;
  let kova: Kova;
  let api: Api;
  let ns: string;

  before(async () => {
    cp = await startOwnControlPlane({ apiServerArgs: ['--min-request-timeout=2'] });
    kova = await startKova();
    ({ namespace: ns } = await project(kova.client, { nodes: [{ name: 'storm-node', pods: '250', cpu: '256', memory: '1Ti' }] }));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    api = await startApi(kova);
    await grant(kova.client, 'alice', 'kova-member', ns);
    await eventually('project in the cache', async () => api.facade.caches.projectByIdOrName(ns));
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
    await cp?.stop();
  });

  test(`${STORM_S} s of watches closed every few seconds: no missed update`, async () => {
    const want = new Map<string, 'Running' | 'Shutoff'>();
    const until = Date.now() + STORM_S * 1000;
    for (let i = 0; Date.now() < until; i++) {
      const name = `w-${i}`;
      await kova.client.create(SERVERS, { metadata: { name, namespace: ns }, spec: { name, flavor: 'm1.tiny', image: 'cirros' } });
      want.set(name, 'Running');
      // Every third server built earlier is stopped, every sixth started again.
      const earlier = `w-${i - 3}`;
      if (i >= 3 && i % 3 === 0) {
        const s = await kova.client.get<Server>(SERVERS, earlier, ns);
        if (s.status?.status === 'ACTIVE') {
          const power = i % 6 === 0 ? 'Shutoff' : 'Running';
          await kova.client.mergePatch(SERVERS, earlier, ns, { spec: { powerState: power } });
          want.set(earlier, power);
        }
      }
      await sleep(1000);
    }
    const shown = (power: string) => (power === 'Shutoff' ? 'SHUTOFF' : 'ACTIVE');
    await eventually('every server in the state last asked of it', async () => {
      const list = (await kova.client.listAll<Server>(SERVERS, { namespace: ns })).items;
      return list.length === want.size && list.every((s) => s.status?.status === shown(want.get(s.metadata.name ?? '') ?? '') && !s.status?.taskState) || undefined;
    }, 300_000);
    const token = api.token('alice', ns);
    await eventually('the façade lists each as the apiserver has it', async () => {
      const r = await api.call('GET', '/v2.1/servers/detail?limit=1000', { token, version: '2.90' });
      const seen = new Map<string, string>((r.body?.servers ?? []).map((s: { name: string; status: string }) => [s.name, s.status]));
      return seen.size === want.size && [...want].every(([name, power]) => seen.get(name) === shown(power)) || undefined;
    }, 60_000);
    assert.ok(want.size >= STORM_S / 3, `${want.size} servers made during the storm`);
  });
});
