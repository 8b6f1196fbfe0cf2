// Nova's os-getConsoleOutput through KubeVirt's serial console log, on the real control plane: the
// VM asks for logSerialConsole, the simulated virt-controller gives the launcher pod its
// guest-console-log container, the kube-apiserver fetches the pod log from the simulated Node's
// kubelet, and the façade reads it as the caller through the server action.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CLUSTER_ROLES, roleBinding } from '../../src/api/rbac.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { resourcePath } from '../../src/kube/client.ts';
import { GUEST_CONSOLE_LOG, VIRTUAL_MACHINES, type VirtualMachine } from '../../src/kubevirt/types.ts';
import { CLUSTER_ROLE_TYPE, LEASES, NODES, PODS, ROLE_BINDING_TYPE, type Node, type Pod } from '../../src/kube/types.ts';
import { SIM_NODE_LABEL } from '../../src/sim/nodes.ts';
import { compareShape, loadTemplate } from '../conformance/samples.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { grant } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';
import { ensureFlavor, project, uniq } from '../support/fixtures.ts';

describe('os-getConsoleOutput through the serial console log', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let zone: string;
  let member: string;
  let reader: string;
  let noConsole: string;
  let stranger: string;
  const servers: Record<string, { id: string; name: string }> = {};

  const act = (token: string, id: string, body: unknown) => api.call('POST', `/v2.1/servers/${id}/action`, { token, body });
  const launcherPods = async (name: string): Promise<Pod[]> =>
    (await kova.client.list<Pod>(PODS, { namespace: ns, labelSelector: `kubevirt.io=virt-launcher,compute.kova.io/server=${name}` })).items;

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client));
    const { namespace: other } = await project(kova.client);
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    api = await startApi(kova);
    await grant(kova.client, 'alice', 'kova-member', ns);
    await grant(kova.client, 'bob', 'kova-reader', ns);
    await grant(kova.client, 'eve', 'kova-member', other);
    // A member in all but the console: kova-member's rules without pods/log.
    const memberRole = CLUSTER_ROLES.find((r) => r.metadata.name === 'kova-member') as unknown as { rules: { resources: string[] }[] };
    const role = uniq('member-without-console');
    await kova.client.apply(CLUSTER_ROLE_TYPE, { metadata: { name: role }, rules: memberRole.rules.filter((r) => !r.resources.includes('pods/log')) } as never);
    await kova.client.apply(ROLE_BINDING_TYPE, roleBinding(ns, `${role}-carol`, role, { kind: 'User', name: 'carol' }));
    await eventually('façade caches to see both projects', async () => !!api.facade.caches.projectByIdOrName(ns) && !!api.facade.caches.projectByIdOrName(other));
    member = api.token('alice', ns);
    reader = api.token('bob', ns);
    noConsole = api.token('carol', ns);
    stranger = api.token('eve', other);
    const imageId = await eventually('image in cache', async () => api.facade.caches.image('cirros')?.metadata.uid);
    for (const display of ['console 1', 'console 2']) {
      const r = await api.call('POST', '/v2.1/servers', { token: member, version: '2.37', body: { server: { name: display, flavorRef: '1', imageRef: imageId, networks: 'auto', availability_zone: zone } } });
      assert.equal(r.status, 202);
      const id = r.body.server.id as string;
      const s = await eventually(`${display} ACTIVE`, async () => {
        const x = (await kova.client.list<Server>(SERVERS, { namespace: ns })).items.find((y) => y.metadata.uid === id);
        return x?.status?.status === 'ACTIVE' ? x : undefined;
      });
      servers[display] = { id, name: s.metadata.name ?? '' };
    }
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  test('the VM logs its serial console; the launcher pod gets the guest-console-log container', async () => {
    const { name } = servers['console 1']!;
    const vm = await kova.client.get<VirtualMachine>(VIRTUAL_MACHINES, name, ns);
    assert.equal(vm.spec.template.spec.domain.devices.logSerialConsole, true);
    const [pod] = await launcherPods(name);
    assert.ok(pod, 'a launcher pod, found by the server label the VMI passed on');
    // virt-controller runs the console logger as a native sidecar: an init container that keeps running.
    assert.deepEqual(pod.spec.containers.map((c) => c.name), ['compute']);
    const logger = pod.spec.initContainers?.find((c) => c.name === GUEST_CONSOLE_LOG);
    assert.equal(logger?.restartPolicy, 'Always');
    assert.equal(logger?.command?.[0], '/usr/bin/virt-tail');
    assert.equal(pod.metadata.labels?.['vm.kubevirt.io/name'], 'console-1', "virt-controller's label is the guest's hostname");
  });

  test('simulated Nodes advertise the kubelet; the apiserver serves the guest console as the pod log', async () => {
    const [pod] = await launcherPods(servers['console 1']!.name);
    const node = await kova.client.get<Node>(NODES, pod?.spec.nodeName ?? '');
    assert.ok((node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0) > 0);
    const log = (query: Record<string, string | number>) => kova.client.requestText('GET', resourcePath(PODS, ns, pod?.metadata.name, 'log'), { query: { container: GUEST_CONSOLE_LOG, ...query } });
    const all = await log({});
    assert.match(all, /^SeaBIOS/);
    assert.match(all, new RegExp(`lease of ${pod?.status?.podIP?.replaceAll('.', '\\.')} obtained`));
    assert.ok(all.endsWith('\nconsole-1 login: '), 'the boot ends at the login prompt');
    const tail = await log({ tailLines: 2 });
    assert.equal(tail, "login as 'cirros' user. default password: 'gocubsgo'. use 'sudo' for root.\nconsole-1 login: ");
    assert.equal(await log({ limitBytes: 7 }), 'SeaBIOS');
    const other = (await launcherPods(servers['console 2']!.name))[0];
    const otherLog = await kova.client.requestText('GET', resourcePath(PODS, ns, other?.metadata.name, 'log'), { query: { container: GUEST_CONSOLE_LOG, tailLines: 1 } });
    assert.equal(otherLog, 'console-2 login: ');
  });

  test('the simulated kubelet: a Running launcher\'s containers carry the image digest; each Node\'s Lease is renewed', async () => {
    const [pod] = await launcherPods(servers['console 1']!.name);
    assert.equal(pod?.status?.phase, 'Running');
    const statuses = (pod?.status?.containerStatuses ?? []) as { name: string; image: string; imageID: string; state?: { running?: unknown } }[];
    assert.ok(statuses.length > 0);
    for (const c of statuses) {
      assert.ok(c.state?.running, `${c.name} running`);
      // The repository of the image, pinned by digest, as a kubelet reports what it pulled.
      assert.ok(c.imageID.startsWith(`${c.image.replace(/[:@].*$/, '')}@sha256:`), `${c.name}: ${c.imageID}`);
      assert.match(c.imageID, /@sha256:[0-9a-f]{64}$/);
    }
    // The node heartbeat: each simulated Node holds a Lease in kube-node-lease, renewed (every 10 s).
    const nodes = (await kova.client.list<Node>(NODES, { labelSelector: SIM_NODE_LABEL })).items.map((n) => n.metadata.name ?? '');
    assert.ok(nodes.includes(pod?.spec.nodeName ?? ''));
    type Lease = { metadata: { name?: string }; spec?: { holderIdentity?: string; renewTime?: string } };
    const renewed = async (): Promise<Record<string, string>> =>
      Object.fromEntries(await Promise.all(nodes.map(async (n) => [n, (await kova.client.find<Lease>(LEASES, n, 'kube-node-lease'))?.spec?.renewTime ?? ''])));
    // A Node made moments ago gets its Lease at the next beat.
    const first = await eventually('a Lease for every simulated Node', async () => {
      const r = await renewed();
      return nodes.every((n) => r[n]) ? r : undefined;
    }, 30_000);
    for (const n of nodes) {
      assert.equal((await kova.client.get<Lease>(LEASES, n, 'kube-node-lease')).spec?.holderIdentity, n);
      assert.ok(Date.parse(first[n]!) > Date.now() - 60_000, `${n}'s Lease renewed lately (${first[n]})`);
    }
    await eventually('every Node\'s Lease renewed again', async () => {
      const now = await renewed();
      return nodes.every((n) => Date.parse(now[n]!) > Date.parse(first[n]!));
    }, 30_000);
  });

  test('a Node the simulator does not own is left alone', async () => {
    const name = uniq('foreign-node');
    await kova.client.create<Node>(NODES, { metadata: { name } });
    try {
      // A simulated Node created now is advertised promptly: by then the foreign one was seen too.
      const sim = uniq('sim-node');
      await kova.client.create<Node>(NODES, { metadata: { name: sim, labels: { [SIM_NODE_LABEL]: 'true' } } });
      await eventually('the new simulated Node advertised', async () => (await kova.client.get<Node>(NODES, sim)).status?.daemonEndpoints?.kubeletEndpoint?.Port);
      await kova.client.delete(NODES, sim);
      assert.equal((await kova.client.get<Node>(NODES, name)).status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0, 0, 'the apiserver default, untouched');
    } finally {
      await kova.client.delete(NODES, name);
    }
  });

  test('the action answers Nova\'s body with the last N lines, for each server its own console', async () => {
    const { id } = servers['console 1']!;
    const five = await act(member, id, { 'os-getConsoleOutput': { length: 5 } });
    assert.equal(five.status, 200);
    const sample = loadTemplate('os-console-output', 'console-output-post-resp.json.tpl', '2.1');
    assert.ok(sample);
    assert.deepEqual(compareShape(five.body, sample.value), [], "the shape of Nova's sample");
    const lines = (five.body.output as string).split('\n');
    assert.equal(lines.length, 5);
    assert.equal(lines.at(-1), 'console-1 login: ');
    assert.equal((await act(member, id, { 'os-getConsoleOutput': { length: '2' } })).body.output, "login as 'cirros' user. default password: 'gocubsgo'. use 'sudo' for root.\nconsole-1 login: ");
    assert.equal((await act(member, id, { 'os-getConsoleOutput': { length: 0 } })).body.output, '');
    for (const whole of [{}, { length: -1 }, { length: '-1' }, { length: null }]) {
      const r = await act(member, id, { 'os-getConsoleOutput': whole });
      assert.equal(r.status, 200);
      assert.match(r.body.output, /^SeaBIOS[^]*\nconsole-1 login: $/);
    }
    const other = await act(member, servers['console 2']!.id, { 'os-getConsoleOutput': { length: 1 } });
    assert.equal(other.body.output, 'console-2 login: ');
  });

  test('bad lengths and bodies are Nova\'s 400', async () => {
    const { id } = servers['console 1']!;
    const cases: [unknown, string][] = [
      [{ length: -2 }, 'Invalid input for field/attribute length. Value: -2. -2 is less than the minimum of -1'],
      [{ length: '-3' }, 'Invalid input for field/attribute length. Value: -3. -3 is less than the minimum of -1'],
      [{ length: 'ten' }, "Invalid input for field/attribute length. Value: ten. 'ten' does not match '^-?[0-9]+$'"],
      [{ lines: 3 }, "Additional properties are not allowed ('lines' was unexpected)"],
    ];
    for (const [arg, message] of cases) {
      const r = await act(member, id, { 'os-getConsoleOutput': arg });
      assert.equal(r.status, 400, JSON.stringify(arg));
      assert.equal(r.body.badRequest.message, message);
    }
    for (const arg of [null, { length: 1.5 }, { length: true }]) assert.equal((await act(member, id, { 'os-getConsoleOutput': arg })).status, 400, JSON.stringify(arg));
  });

  test('the caller needs pods/log: a member without it and a reader get 403, another project 404', async () => {
    const { id } = servers['console 1']!;
    for (const token of [noConsole, reader]) {
      const r = await act(token, id, { 'os-getConsoleOutput': { length: 1 } });
      assert.equal(r.status, 403);
      assert.equal(r.body.forbidden.message, "Policy doesn't allow os_compute_api:os-console-output to be performed.");
    }
    assert.equal((await act(stranger, id, { 'os-getConsoleOutput': { length: 1 } })).status, 404);
    // The log read itself is authorized by Kubernetes for the caller, not only the façade's check.
    const denied = await kova.client.as('carol').requestText('GET', resourcePath(PODS, ns, (await launcherPods(servers['console 1']!.name))[0]?.metadata.name, 'log'), { query: { container: GUEST_CONSOLE_LOG } })
      .then(() => 200, (e: { code?: number }) => e.code);
    assert.equal(denied, 403);
  });

  test('a stopped server has no console: 409 InstanceNotReady', async () => {
    const { id, name } = servers['console 2']!;
    assert.equal((await act(member, id, { 'os-stop': null })).status, 202);
    await eventually('SHUTOFF', async () => (await api.call('GET', `/v2.1/servers/${id}`, { token: member })).body.server.status === 'SHUTOFF');
    // KubeVirt reports the VM stopped once its domain is; the launcher pod may still be terminating.
    await eventually('no launcher pod left', async () => (await launcherPods(name)).length === 0);
    const r = await act(member, id, { 'os-getConsoleOutput': { length: 10 } });
    assert.equal(r.status, 409);
    assert.equal(r.body.conflictingRequest.message, `Instance ${id} is not ready`);
    const denied = await act(noConsole, id, { 'os-getConsoleOutput': { length: 10 } });
    assert.equal(denied.status, 403, 'the policy is checked before the instance, as in Nova');
  });
});
