// Server groups and scheduler hints, pure parts: which hints are honoured or refused, the view per
// microversion, members, slots, the pod affinity a VM carries and the decision's resolution of it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServerGroup } from '../../src/api/server-group.ts';
import type { Server } from '../../src/api/server.ts';
import { SERVER_GROUP_LABEL, SERVER_GROUP_SLOT_LABEL, SERVER_LABEL } from '../../src/api/labels.ts';
import { resolveHints, type Lookups } from '../../src/controllers/server/references.ts';
import { desiredVirtualMachine, type PodPlacement } from '../../src/controllers/server/vm.ts';
import type { VirtualMachine } from '../../src/kubevirt/types.ts';
import { Version } from '../../src/nova/microversion.ts';
import { NovaError } from '../../src/nova/faults.ts';
import { hintsView, schedulerHints } from '../../src/nova/scheduler-hints.ts';
import { freeSlot, groupMembers, groupUsage } from '../../src/nova/server-groups.ts';
import { serverGroupView } from '../../src/nova/views/server-groups.ts';
import type { ViewContext } from '../../src/nova/views/links.ts';

const G = '6a2cbd52-7f0c-4c8e-9d3e-6b0b0c1f2a10';
const group = (policy: ServerGroup['spec']['policy'], max?: number, o: Partial<ServerGroup['metadata']> = {}): ServerGroup => ({
  metadata: { name: 'db', namespace: 'proj', uid: G, creationTimestamp: '2026-01-01T00:00:00Z', ...o },
  spec: { name: 'db group', policy, ...(max ? { rules: { maxServerPerHost: max } } : {}), userId: 'alice' },
});
const server = (name: string, spec: Partial<Server['spec']> = {}, meta: Partial<Server['metadata']> = {}): Server => ({
  metadata: { name, namespace: 'proj', uid: `${name}-uid`, creationTimestamp: `2026-01-01T00:00:0${name.length % 10}Z`, ...meta },
  spec: { name, flavor: 'small', image: 'cirros', ...spec },
});
const vc = (v: string): ViewContext => ({ version: Version.of(v), origin: 'http://x', prefix: '/v2.1', bookmarkPrefix: '', admin: false });

const refused = (body: Record<string, unknown>): string => {
  try {
    schedulerHints(body);
  } catch (e) {
    assert.ok(e instanceof NovaError && e.code === 400);
    return e.message;
  }
  assert.fail('expected a 400');
};

describe('scheduler hints', () => {
  test('group, same_host and different_host become spec fields; one id or a list', () => {
    assert.deepEqual(schedulerHints({ 'os:scheduler_hints': { group: G, same_host: 'A-1', different_host: ['b', 'b', 'c'] } }), { serverGroup: G, sameHost: ['a-1'], differentHost: ['b', 'c'] });
    assert.deepEqual(schedulerHints({}), {});
  });

  test('OS-SCH-HNT:scheduler_hints is taken too, and wins over os:scheduler_hints', () => {
    assert.deepEqual(schedulerHints({ 'os:scheduler_hints': { group: 'x' }, 'OS-SCH-HNT:scheduler_hints': { group: G } }), { serverGroup: G });
  });

  test('every hint Kova cannot honour is a 400 naming it, known or not', () => {
    for (const h of ['query', 'target_cell', 'different_cell', 'build_near_host_ip', 'cidr']) {
      assert.match(refused({ 'os:scheduler_hints': { [h]: 'x' } }), new RegExp(`^Scheduler hint ${h} is not supported by Kova: .+ Kova honours group, same_host and different_host\\.$`));
    }
    assert.match(refused({ 'OS-SCH-HNT:scheduler_hints': { group: G, magic: 1 } }), /^Scheduler hint magic is not known to Kova\./);
  });

  test('the 2.100 view shows what was asked, the group by its id', () => {
    assert.deepEqual(hintsView({ serverGroup: 'db', sameHost: ['a'] }, G), { group: G, same_host: ['a'] });
    assert.deepEqual(hintsView({}, undefined), {});
  });
});

describe('os-server-groups view', () => {
  const g = group('anti-affinity', 3);
  const i = { projectId: 'p1', members: ['m1'] };
  test('2.1: policies and an empty metadata; no ids', () => {
    assert.deepEqual(serverGroupView(vc('2.1'), g, i), { id: G, name: 'db group', policies: ['anti-affinity'], metadata: {}, members: ['m1'] });
  });
  test('2.13: project_id and user_id', () => {
    assert.deepEqual(serverGroupView(vc('2.13'), g, i), { id: G, name: 'db group', policies: ['anti-affinity'], metadata: {}, members: ['m1'], project_id: 'p1', user_id: 'alice' });
  });
  test('2.64: policy and rules, no metadata', () => {
    assert.deepEqual(serverGroupView(vc('2.64'), g, i), { id: G, name: 'db group', policy: 'anti-affinity', rules: { max_server_per_host: 3 }, members: ['m1'], project_id: 'p1', user_id: 'alice' });
    assert.deepEqual(serverGroupView(vc('2.64'), group('affinity'), i).rules, {});
  });
});

describe('members, usage and slots', () => {
  const g = group('anti-affinity');
  test('members: servers whose hint named the group (by name or id), not being deleted, oldest first', () => {
    const list = [
      server('bbb', { serverGroup: G }),
      server('a', { serverGroup: 'db' }),
      server('gone', { serverGroup: 'db' }, { deletionTimestamp: '2026-01-02T00:00:00Z' }),
      server('other', { serverGroup: 'other' }),
      server('elsewhere', { serverGroup: 'db' }, { namespace: 'proj-b' }),
    ];
    assert.deepEqual(groupMembers(g, list).map((s) => s.metadata.name), ['a', 'bbb']);
    assert.deepEqual(groupUsage([g, group('affinity', undefined, { name: 'x', uid: 'x-uid' })], list), { serverGroups: 2, members: { [G]: 2, 'x-uid': 0 } });
  });

  test('a new member takes the least used slot, the lowest on a tie', () => {
    assert.equal(freeSlot(2, []), 0);
    assert.equal(freeSlot(2, [0]), 1);
    assert.equal(freeSlot(3, [0, 1, 2, 0, 2]), 1);
  });
});

describe('pod affinity of a VM', () => {
  const vmOf = (hints?: PodPlacement, excludeHost?: string) => desiredVirtualMachine({
    server: server('web'), instancetype: { kind: 'VirtualMachineClusterInstancetype', name: 'small' }, diskGiB: 1, ephemeralGiB: 0, swapMiB: 0,
    image: { name: 'cirros', namespace: 'kova-images' }, hints, ...(excludeHost ? { placement: { excludeHost } } : {}),
  });
  const term = (labels: Record<string, string>) => ({ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' });

  test('no hints: no affinity and no group label (an existing VM is unchanged)', () => {
    const vm = vmOf();
    assert.equal(vm.spec.template.spec.affinity, undefined);
    assert.deepEqual(vm.spec.template.metadata?.labels, { [SERVER_LABEL]: 'web' });
  });

  test('hard policies are required, soft ones preferred, on the group label', () => {
    const g = { [SERVER_GROUP_LABEL]: G };
    assert.deepEqual(vmOf({ group: { uid: G, policy: 'anti-affinity' } }).spec.template.spec.affinity, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(g)] } });
    assert.deepEqual(vmOf({ group: { uid: G, policy: 'affinity' } }).spec.template.spec.affinity, { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(g)] } });
    assert.deepEqual(vmOf({ group: { uid: G, policy: 'soft-anti-affinity' } }).spec.template.spec.affinity, { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term(g) }] } });
    assert.deepEqual(vmOf({ group: { uid: G, policy: 'soft-affinity' } }).spec.template.spec.affinity, { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term(g) }] } });
    const vm = vmOf({ group: { uid: G, policy: 'affinity' } });
    assert.deepEqual(vm.spec.template.metadata?.labels, { [SERVER_LABEL]: 'web', ...g });
    assert.deepEqual(vm.metadata.labels, { [SERVER_LABEL]: 'web' }, 'only the pods carry the group label');
  });

  test('a slot keeps a member away from the members sharing it', () => {
    const vm = vmOf({ group: { uid: G, policy: 'anti-affinity', slot: 1 } });
    const labels = { [SERVER_GROUP_LABEL]: G, [SERVER_GROUP_SLOT_LABEL]: '1' };
    assert.deepEqual(vm.spec.template.spec.affinity, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term(labels)] } });
    assert.equal(vm.spec.template.metadata?.labels?.[SERVER_GROUP_SLOT_LABEL], '1');
  });

  test('same_host / different_host select the other servers\' pods; a host to leave stays a node affinity', () => {
    const a = vmOf({ sameHost: ['a', 'b'], differentHost: ['c'] }, 'node-1').spec.template.spec.affinity as Record<string, unknown>;
    assert.deepEqual(a, {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['node-1'] }] }] } },
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: SERVER_LABEL, operator: 'In', values: ['a', 'b'] }] }, topologyKey: 'kubernetes.io/hostname' }] },
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: SERVER_LABEL, operator: 'In', values: ['c'] }] }, topologyKey: 'kubernetes.io/hostname' }] },
    });
  });
});

describe('resolveHints (the controller)', () => {
  const memberVm = (name: string, slot: number): VirtualMachine => ({
    metadata: { name, namespace: 'proj' },
    spec: { template: { metadata: { labels: { [SERVER_GROUP_LABEL]: G, [SERVER_GROUP_SLOT_LABEL]: String(slot) } }, spec: { domain: { devices: {} } } } },
  });
  const lookups = (groups: ServerGroup[], servers: Server[] = []): Lookups => ({
    serverGroup: (ns: string, ref: string) => groups.find((g) => g.metadata.namespace === ns && (g.metadata.name === ref || g.metadata.uid === ref)),
    servers: { get: (n: string, ns?: string) => servers.find((s) => s.metadata.name === n && s.metadata.namespace === ns), byIndex: (_: string, uid: string) => servers.filter((s) => s.metadata.uid === uid) },
  }) as unknown as Lookups;

  test('no hints: nothing to resolve', () => {
    assert.deepEqual(resolveHints(lookups([]), server('web'), undefined), {});
  });

  test('a missing group is a fault before the VM exists; after, the server is free of it', () => {
    assert.deepEqual(resolveHints(lookups([]), server('web', { serverGroup: 'db' }), undefined).fault?.message, 'Instance group db could not be found.');
    assert.deepEqual(resolveHints(lookups([]), server('web', { serverGroup: 'db' }), memberVm('web', 0)), { hints: {} });
  });

  test('the group\'s policy; a slot only when a host may run several members, claimed in the group first', () => {
    assert.deepEqual(resolveHints(lookups([group('affinity')]), server('web', { serverGroup: 'db' }), undefined).hints, { group: { uid: G, policy: 'affinity' } });
    const two = group('anti-affinity', 2);
    assert.deepEqual(resolveHints(lookups([two]), server('web', { serverGroup: G }), undefined), { claimSlot: 'db' });
    const claimed = { ...two, status: { slots: { web: 1 } } };
    assert.deepEqual(resolveHints(lookups([claimed]), server('web', { serverGroup: G }), undefined).hints?.group, { uid: G, policy: 'anti-affinity', slot: 1 });
    assert.deepEqual(resolveHints(lookups([two]), server('web', { serverGroup: G }), memberVm('web', 0)).hints?.group?.slot, 0, 'the VM\'s slot stands in for a lost record');
  });

  test('other servers by name or Nova id, in the same namespace; an unknown one stays named', () => {
    const l = lookups([], [server('a'), server('b', {}, { namespace: 'proj-b' })]);
    assert.deepEqual(resolveHints(l, server('web', { sameHost: ['a-uid'], differentHost: ['a', 'b-uid'] }), undefined).hints, { sameHost: ['a'], differentHost: ['a', 'b-uid'] });
  });
});
