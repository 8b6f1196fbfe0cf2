// kube-apiserver and etcd killed in the middle of a burst of POST /servers, kept down, restarted:
// while they are down the API answers a Nova fault — 503 for what needs them, never a 500, never a
// hang; once they are back it answers within 30 s; nothing the API accepted is lost, and the
// informers catch up (the façade lists what the apiserver has).
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

const N = Number(process.env.KOVA_ROBUSTNESS_OUTAGE_SERVERS ?? 60);
const DOWN_MS = 15_000;
const HANG_MS = 40_000; // the longest any answer may take (the client's request timeout is 30 s)

describe('kube-apiserver and etcd restarted mid-burst', () => {
  let cp: ControlPlane;
  let kova: Kova;
  let api: Api;
  let ns: string;
  let token: string;
  let imageId: string;

  before(async () => {
    cp = await startOwnControlPlane();
    kova = await startKova();
    ({ namespace: ns } = await project(kova.client, { nodes: [{ name: 'outage-node', pods: '250', cpu: '256', memory: '1Ti' }] }));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    api = await startApi(kova);
    await grant(kova.client, 'alice', 'kova-member', ns);
    await eventually('project in the cache', async () => api.facade.caches.projectByIdOrName(ns));
    token = api.token('alice', ns);
    imageId = (await eventually('image', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
    await cp?.stop();
  });

  test('503 with a Nova fault while down, never 500 or a hang; back within 30 s; nothing accepted is lost', async () => {
    const accepted: string[] = [];
    const answers: { status: number; ms: number; fault: boolean; during: boolean }[] = [];
    let down = false;
    const call = async (method: string, path: string, body?: unknown) => {
      const t = Date.now();
      const during = down;
      const r = await Promise.race([
        api.call(method, path, { token, version: '2.90', body }),
        sleep(HANG_MS).then(() => ({ status: 0, body: undefined, headers: new Headers() })),
      ]);
      const fault = r.status >= 400 && !!r.body && typeof r.body === 'object' && Object.values(r.body as object).some((v) => typeof v?.code === 'number' && typeof v?.message === 'string');
      answers.push({ status: r.status, ms: Date.now() - t, fault, during });
      return r;
    };
    let stop = false;
    const burst = (async () => {
      for (let i = 0; i < N && !stop; i++) {
        const r = await call('POST', '/v2.1/servers', { server: { name: `o-${i}`, flavorRef: '1', imageRef: imageId, networks: 'auto' } });
        if (r.status === 202) accepted.push((r.body as { server: { id: string } }).server.id);
        await call('GET', '/v2.1/servers');
        await sleep(200);
      }
    })();
    await eventually('a third of the burst accepted', async () => accepted.length >= N / 3 || undefined, 300_000);
    down = true;
    const restarted = cp.restart(['etcd', 'kube-apiserver'], { downMs: DOWN_MS });
    await restarted;
    down = false;
    const back = Date.now();
    // Back: a read that needs the apiserver (authorization) answers within 30 s.
    await eventually('the API answers again', async () => (await call('POST', '/v2.1/servers', { server: { name: 'after-outage', flavorRef: '1', imageRef: imageId, networks: 'auto' } })).status === 202 || undefined, 30_000);
    const recoveredMs = Date.now() - back;
    stop = true;
    await burst;

    assert.deepEqual(answers.filter((a) => a.status === 0 || a.ms >= HANG_MS), [], 'no request hung');
    assert.deepEqual(answers.filter((a) => a.status >= 500 && a.status !== 503), [], 'no 500');
    assert.deepEqual(answers.filter((a) => a.status >= 400 && !a.fault), [], 'every error a Nova fault');
    assert.ok(answers.some((a) => a.during && a.status === 503), `503 while down (answers during the outage: ${JSON.stringify(answers.filter((a) => a.during).map((a) => a.status))})`);
    assert.ok(recoveredMs < 30_000, `answered ${recoveredMs} ms after the restart`);

    // Nothing accepted is lost: each server the API took exists and is built.
    const servers = await eventually('every accepted server ACTIVE', async () => {
      const list = (await kova.client.listAll<Server>(SERVERS, { namespace: ns })).items;
      const byUid = new Set(list.filter((s) => s.status?.status === 'ACTIVE').map((s) => s.metadata.uid));
      return accepted.every((id) => byUid.has(id)) ? list : undefined;
    }, 600_000);
    // The informers caught up: the façade lists what the apiserver has.
    await eventually('the façade lists every server', async () => {
      const r = await api.call('GET', '/v2.1/servers?limit=1000', { token, version: '2.90' });
      return r.status === 200 && r.body.servers.length === servers.length || undefined;
    }, 60_000);
  });
});
