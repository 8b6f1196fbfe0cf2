// The façade's admin and infrastructure endpoints over real Nodes and Aggregates: os-services
// (cordon, reason, forced_down taint), os-hypervisors, os-hosts, os-aggregates, availability zones,
// limits and quota sets (test/integration/quotas.test.ts has the rest); and authentication with a Kubernetes ServiceAccount token (TokenReview).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGGREGATES, type Aggregate } from '../../src/api/aggregate.ts';
import { memberLabel } from '../../src/api/labels.ts';
import { NODES, type Node, type ResourceType } from '../../src/kube/types.ts';
import { ensureNode } from '../../src/sim/nodes.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { grant } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';
import { ensureFlavor, project, uniq } from '../support/fixtures.ts';

const SERVICE_ACCOUNTS: ResourceType = { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true };

describe('façade: hosts, aggregates, zones, limits, Kubernetes tokens', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let zone: string;
  let admin: string;
  let member: string;
  const host = uniq('hv');

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client, { nodes: [{ name: host, cpu: '8', memory: '16Gi' }] }));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    api = await startApi(kova);
    await grant(kova.client, 'root', 'kova-admin');
    await grant(kova.client, 'alice', 'kova-member', ns);
    await eventually('project in the façade cache', async () => !!api.facade.caches.projectByIdOrName(ns) && !!api.facade.caches.nodes.get(host));
    admin = api.token('root', ns);
    member = api.token('alice', ns);
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  const node = (): Promise<Node> => kova.client.get<Node>(NODES, host);

  test('os-services: disable with a reason cordons the Node, force-down taints it, enable undoes both (2.53 ids)', async () => {
    const list = await api.call('GET', `/v2.1/os-services?host=${host}`, { token: admin, version: '2.53' });
    const svc = list.body.services[0];
    assert.deepEqual([svc.binary, svc.host, svc.status, svc.state, svc.zone], ['nova-compute', host, 'enabled', 'up', zone]);
    assert.equal(svc.id, (await node()).metadata.uid);
    const disabled = await api.call('PUT', `/v2.1/os-services/${svc.id}`, { token: admin, version: '2.53', body: { status: 'disabled', disabled_reason: 'maintenance window' } });
    assert.equal(disabled.body.service.status, 'disabled');
    assert.equal(disabled.body.service.disabled_reason, 'maintenance window');
    assert.equal((await node()).spec?.unschedulable, true);
    const down = await api.call('PUT', `/v2.1/os-services/${svc.id}`, { token: admin, version: '2.53', body: { forced_down: true } });
    assert.equal(down.body.service.forced_down, true);
    assert.equal(down.body.service.state, 'down');
    assert.ok((await node()).spec?.taints?.some((t) => t.key === 'compute.kova.io/forced-down'));
    await api.call('PUT', `/v2.1/os-services/${svc.id}`, { token: admin, version: '2.53', body: { status: 'enabled', forced_down: false } });
    const n = await node();
    assert.equal(n.spec?.unschedulable ?? false, false);
    assert.equal(n.spec?.taints?.some((t) => t.key === 'compute.kova.io/forced-down') ?? false, false);
    // The pre-2.53 form, by host and binary.
    const old = await api.call('PUT', '/v2.1/os-services/disable-log-reason', { token: admin, version: '2.11', body: { host, binary: 'nova-compute', disabled_reason: 'old style' } });
    assert.deepEqual(old.body.service, { binary: 'nova-compute', host, disabled_reason: 'old style', status: 'disabled' });
    await api.call('PUT', '/v2.1/os-services/enable', { token: admin, version: '2.11', body: { host, binary: 'nova-compute' } });
    assert.equal((await node()).spec?.unschedulable ?? false, false);
    const denied = await api.call('GET', '/v2.1/os-services', { token: member });
    assert.equal(denied.status, 403);
  });

  test('os-hypervisors: capacity and usage from the Node and the servers on it', async () => {
    const made = await api.call('POST', '/v2.1/servers', { token: member, version: '2.37', body: { server: { name: 'hv-load', flavorRef: '1', imageRef: api.facade.caches.image('cirros')?.metadata.uid, networks: 'auto', availability_zone: zone } } });
    assert.equal(made.status, 202);
    await eventually('server ACTIVE', async () => (await api.call('GET', `/v2.1/servers/${made.body.server.id}`, { token: member })).body.server.status === 'ACTIVE');
    const list = await api.call('GET', '/v2.1/os-hypervisors/detail', { token: admin, version: '2.33' });
    const hv = list.body.hypervisors.find((h: { hypervisor_hostname: string }) => h.hypervisor_hostname === host);
    assert.equal(hv.vcpus, 8);
    assert.equal(hv.memory_mb, 16384);
    assert.equal(hv.running_vms, 1);
    assert.equal(hv.vcpus_used, 1);
    assert.equal(hv.memory_mb_used, 512);
    assert.equal(hv.free_ram_mb, 16384 - 512);
    assert.equal(typeof hv.cpu_info, 'object', 'cpu_info is an object from 2.28');
    const latest = await api.call('GET', `/v2.1/os-hypervisors/${(await node()).metadata.uid}?with_servers=true`, { token: admin, version: '2.88' });
    assert.deepEqual(latest.body.hypervisor.servers.map((s: { uuid: string }) => s.uuid), [made.body.server.id]);
    assert.equal('vcpus' in latest.body.hypervisor, false, 'stats fields are gone from 2.88');
    assert.equal((await api.call('GET', '/v2.1/os-hypervisors/statistics', { token: admin, version: '2.88' })).status, 404);
    const stats = await api.call('GET', '/v2.1/os-hypervisors/statistics', { token: admin, version: '2.87' });
    assert.ok(stats.body.hypervisor_statistics.count >= 1);
  });

  test('os-hosts (≤ 2.42): list, show, maintenance mode cordons, power actions are not implemented', async () => {
    const list = await api.call('GET', '/v2.1/os-hosts', { token: admin, version: '2.42' });
    assert.ok(list.body.hosts.some((h: { host_name: string; service: string }) => h.host_name === host && h.service === 'compute'));
    const show = await api.call('GET', `/v2.1/os-hosts/${host}`, { token: admin });
    assert.deepEqual(show.body.host.slice(0, 3).map((r: { resource: { project: string } }) => r.resource.project), ['(total)', '(used_now)', '(used_max)']);
    const maint = await api.call('PUT', `/v2.1/os-hosts/${host}`, { token: admin, body: { maintenance_mode: 'enable' } });
    assert.deepEqual(maint.body, { host, maintenance_mode: 'on_maintenance' });
    assert.equal((await node()).spec?.unschedulable, true);
    await api.call('PUT', `/v2.1/os-hosts/${host}`, { token: admin, body: { maintenance_mode: 'disable' } });
    const reboot = await api.call('GET', `/v2.1/os-hosts/${host}/reboot`, { token: admin });
    assert.equal(reboot.status, 501);
    assert.equal(reboot.body.notImplemented.message, 'Virt driver does not implement host power management.');
    assert.equal((await api.call('GET', '/v2.1/os-hosts', { token: admin, version: '2.43' })).status, 404);
  });

  test('os-aggregates: create, add host (labels the Node), metadata, AZ conflicts, remove host, delete', async () => {
    const spare = uniq('agg-hv');
    await ensureNode(kova.client, { name: spare });
    await eventually('spare node cached', async () => !!api.facade.caches.nodes.get(spare));
    const made = await api.call('POST', '/v2.1/os-aggregates', { token: admin, version: '2.41', body: { aggregate: { name: 'rack-7', availability_zone: 'az-rack' } } });
    assert.equal(made.status, 200);
    const id = made.body.aggregate.id as number;
    assert.ok(Number.isInteger(id) && id > 0);
    assert.match(made.body.aggregate.uuid, /^[0-9a-f-]{36}$/);
    assert.equal((await api.call('POST', '/v2.1/os-aggregates', { token: admin, body: { aggregate: { name: 'rack-7' } } })).status, 409);
    const added = await api.call('POST', `/v2.1/os-aggregates/${id}/action`, { token: admin, body: { add_host: { host: spare } } });
    assert.deepEqual(added.body.aggregate.hosts, [spare]);
    const meta = await api.call('POST', `/v2.1/os-aggregates/${id}/action`, { token: admin, body: { set_metadata: { metadata: { ssd: 'true' } } } });
    assert.deepEqual(meta.body.aggregate.metadata, { ssd: 'true', availability_zone: 'az-rack' });
    const agg = (await kova.client.list<Aggregate>(AGGREGATES)).items.find((a) => a.spec.id === id);
    await eventually('the Node labelled', async () => {
      const l = (await kova.client.get<Node>(NODES, spare)).metadata.labels ?? {};
      return l[memberLabel(agg?.metadata.name ?? '')] === 'true' && l['topology.kubernetes.io/zone'] === 'az-rack';
    });
    // The API reads zones from its Node cache, which may be a moment behind the read above.
    await eventually('the zone listed by the API', async () => {
      const zones = await api.call('GET', '/v2.1/os-availability-zone', { token: member });
      return zones.body.availabilityZoneInfo.some((z: { zoneName: string; hosts: unknown }) => z.zoneName === 'az-rack' && z.hosts === null);
    });
    const detail = await api.call('GET', '/v2.1/os-availability-zone/detail', { token: admin });
    assert.ok(detail.body.availabilityZoneInfo.find((z: { zoneName: string }) => z.zoneName === 'az-rack').hosts[spare]['nova-compute']);
    // The host is in az-rack now: another zone's aggregate cannot take it.
    const other = await api.call('POST', '/v2.1/os-aggregates', { token: admin, body: { aggregate: { name: 'elsewhere', availability_zone: 'az-other' } } });
    const conflicting = await api.call('POST', `/v2.1/os-aggregates/${other.body.aggregate.id}/action`, { token: admin, body: { add_host: { host: spare } } });
    assert.equal(conflicting.status, 400);
    assert.match(conflicting.body.badRequest.message, /already in availability zone/);
    assert.equal((await api.call('DELETE', `/v2.1/os-aggregates/${id}`, { token: admin })).status, 400, 'not empty');
    const removed = await api.call('POST', `/v2.1/os-aggregates/${id}/action`, { token: admin, body: { remove_host: { host: spare } } });
    assert.deepEqual(removed.body.aggregate.hosts, []);
    await eventually('the Node unlabelled', async () => (await kova.client.get<Node>(NODES, spare)).metadata.labels?.['topology.kubernetes.io/zone'] === undefined);
    assert.equal((await api.call('DELETE', `/v2.1/os-aggregates/${id}`, { token: admin })).status, 200);
    await api.call('DELETE', `/v2.1/os-aggregates/${other.body.aggregate.id}`, { token: admin });
    assert.equal((await api.call('GET', '/v2.1/os-aggregates', { token: member })).status, 403);
  });

  test('os-aggregates: updated_at is null until the aggregate changes, then the time of each change (PUT, hosts, metadata)', async () => {
    const spare = uniq('ts-hv');
    await ensureNode(kova.client, { name: spare });
    await eventually('spare node cached', async () => !!api.facade.caches.nodes.get(spare));
    const made = (await api.call('POST', '/v2.1/os-aggregates', { token: admin, version: '2.41', body: { aggregate: { name: uniq('ts') } } })).body.aggregate;
    assert.match(made.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(made.updated_at, null);
    const tick = () => new Promise((r) => setTimeout(r, 1100));
    let last = made.created_at as string;
    for (const change of [
      () => api.call('PUT', `/v2.1/os-aggregates/${made.id}`, { token: admin, body: { aggregate: { name: uniq('ts-renamed') } } }),
      () => api.call('POST', `/v2.1/os-aggregates/${made.id}/action`, { token: admin, body: { add_host: { host: spare } } }),
      () => api.call('POST', `/v2.1/os-aggregates/${made.id}/action`, { token: admin, body: { set_metadata: { metadata: { ssd: 'true' } } } }),
      () => api.call('POST', `/v2.1/os-aggregates/${made.id}/action`, { token: admin, body: { remove_host: { host: spare } } }),
    ]) {
      await tick();
      const r = await change();
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.ok(r.body.aggregate.updated_at > last, `${r.body.aggregate.updated_at} after ${last}`);
      assert.equal(r.body.aggregate.created_at, made.created_at);
      last = r.body.aggregate.updated_at;
      assert.equal((await api.call('GET', `/v2.1/os-aggregates/${made.id}`, { token: admin })).body.aggregate.updated_at, last);
    }
    await api.call('DELETE', `/v2.1/os-aggregates/${made.id}`, { token: admin });
  });

  test('limits show real usage and the project\'s quotas (a test project\'s QuotaSet makes them unlimited); members cannot change them', async () => {
    const limits = await api.call('GET', '/v2.1/limits', { token: member, version: '2.57' });
    assert.equal(limits.body.limits.absolute.maxTotalInstances, -1);
    assert.ok(limits.body.limits.absolute.totalInstancesUsed >= 1);
    assert.equal(limits.body.limits.absolute.totalRAMUsed, 512 * limits.body.limits.absolute.totalInstancesUsed);
    assert.equal('maxPersonality' in limits.body.limits.absolute, false);
    const pid = api.facade.caches.projectIdOf(ns);
    const detail = await api.call('GET', `/v2.1/os-quota-sets/${pid}/detail`, { token: member, version: '2.57' });
    assert.deepEqual(detail.body.quota_set.instances, { in_use: limits.body.limits.absolute.totalInstancesUsed, limit: -1, reserved: 0 });
    assert.equal(detail.body.quota_set.metadata_items.limit, 128, "Nova's default where the QuotaSet says nothing");
    const change = await api.call('PUT', `/v2.1/os-quota-sets/${pid}`, { token: member, body: { quota_set: { instances: 5 } } });
    assert.deepEqual([change.status, change.body.forbidden?.message], [403, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed."]);
  });

  test('a Kubernetes ServiceAccount token authenticates (TokenReview) and RBAC scopes it', async () => {
    await kova.client.create(SERVICE_ACCOUNTS, { metadata: { name: 'robot', namespace: ns } });
    const tr = await kova.client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/robot/token`, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } } });
    const token = tr.status.token;
    const pid = api.facade.caches.projectIdOf(ns);
    const before = await api.call('GET', `/v2.1/${pid}/servers`, { token });
    assert.equal(before.status, 403, 'authenticated but not allowed yet');
    await grant(kova.client, `system:serviceaccount:${ns}:robot`, 'kova-reader', ns);
    const after = await eventually('RBAC to allow the robot', async () => {
      const r = await api.call('GET', `/v2.1/${pid}/servers`, { token });
      return r.status === 200 ? r : undefined;
    }, 20_000);
    assert.ok(after.body.servers.length >= 1);
    assert.equal((await api.call('GET', '/v2.1/servers', { token: `${token}x` })).status, 401);
  });
});
