// Deleted servers' records (nova/history.ts, docs/adr/022): what a record keeps (and never keeps),
// the delete action it ends with, the bounds that prune records, and how a record reads as a server
// row (list filters) and as usage (hours of a terminated server).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeletedServer } from '../../src/api/deleted-server.ts';
import { REQUEST_ANNOTATION, USER_ANNOTATION } from '../../src/api/labels.ts';
import type { Server } from '../../src/api/server.ts';
import { Version } from '../../src/nova/microversion.ts';
import { deletedAsServer, deletedRecordOf, deletedUsage, expiresInMs, prunable } from '../../src/nova/history.ts';
import { activeDuring, tenantUsageShown, usagePeriod } from '../../src/nova/views/usage.ts';
import { serverFilter, wantsDeleted } from '../../src/facade/server-filters.ts';
import type { ServerFacts } from '../../src/nova/server-columns.ts';

const LATEST = Version.of('2.104');
const facts = (): ServerFacts => ({ projectId: 'p1', imageId: 'img-1', zone: 'zone-a' });

function server(o: { annotations?: Record<string, string>; status?: Server['status']; spec?: Partial<Server['spec']> } = {}): Server {
  return {
    metadata: { name: 'web', namespace: 'p1', uid: '11111111-2222-4333-8444-555555555555', creationTimestamp: '2026-05-01T09:00:00Z', deletionTimestamp: '2026-05-01T13:30:00Z', annotations: { [USER_ANNOTATION]: 'alice', ...o.annotations } },
    spec: { name: 'web', flavor: 'm1.small', image: 'cirros', userData: { secretName: 'web-user-data' }, adminPassword: { secretName: 'web-pw' }, metadata: { role: 'db' }, tags: ['t1'], ...o.spec },
    status: {
      status: 'ACTIVE', vmState: 'active', host: 'node-1', launchedAt: '2026-05-01T10:00:00Z',
      flavor: { id: '2', name: 'm1.small', vcpus: 2, ramMiB: 2048, diskGiB: 20, ephemeralGiB: 5, swapMiB: 0, extraSpecs: { 'hw:cpu_policy': 'dedicated' } },
      image: { name: 'cirros', uid: 'img-1' },
      instanceActions: [{ action: 'create', requestId: 'req-create', userId: 'alice', projectId: 'p1', startTime: '2026-05-01T09:00:00Z', events: [] }],
      ...o.status,
    },
  };
}
const stamp = (action: string, requestId: string) => JSON.stringify({ requestId, action, userId: 'bob', projectId: 'p1', at: '2026-05-01T13:29:59Z' });

describe('a deleted server\'s record', () => {
  test('keeps who, what size, when and its actions; never user data, passwords, metadata or tags', () => {
    const r = deletedRecordOf(server({ annotations: { [REQUEST_ANNOTATION]: stamp('delete', 'req-del') } }), 'p1', '2026-05-01T13:30:02Z');
    assert.deepEqual(
      { ...r, instanceActions: undefined },
      {
        serverId: '11111111-2222-4333-8444-555555555555', name: 'web', userId: 'alice', projectId: 'p1',
        flavor: { id: '2', name: 'm1.small', vcpus: 2, ramMiB: 2048, diskGiB: 20, ephemeralGiB: 5, swapMiB: 0 },
        image: { name: 'cirros', uid: 'img-1' }, host: 'node-1',
        createdAt: '2026-05-01T09:00:00Z', launchedAt: '2026-05-01T10:00:00Z', deletedAt: '2026-05-01T13:30:02Z', instanceActions: undefined,
      },
    );
    const text = JSON.stringify(r);
    for (const k of ['user-data', 'web-pw', 'userData', 'adminPassword', 'role', 't1', 'extraSpecs']) assert.ok(!text.includes(k), k);
  });

  test('ends with the delete: the caller\'s stamped request, its event finished; or, from kubectl, one by no user', () => {
    const stamped = deletedRecordOf(server({ annotations: { [REQUEST_ANNOTATION]: stamp('delete', 'req-del') } }), 'p1', '2026-05-01T13:30:02Z');
    assert.deepEqual(stamped.instanceActions?.map((a) => [a.action, a.requestId, a.userId]), [['delete', 'req-del', 'bob'], ['create', 'req-create', 'alice']]);
    assert.deepEqual(stamped.instanceActions?.[0]?.events, [{ event: 'compute_terminate_instance', startTime: '2026-05-01T13:29:59Z', finishTime: '2026-05-01T13:30:02Z', result: 'Success', host: 'node-1' }]);
    // The controller may have recorded the stamped delete already (no event): it is replaced, not doubled.
    const seen = server({ annotations: { [REQUEST_ANNOTATION]: stamp('delete', 'req-del') } });
    seen.status!.instanceActions!.unshift({ action: 'delete', requestId: 'req-del', startTime: '2026-05-01T13:29:59Z', events: [] });
    assert.deepEqual(deletedRecordOf(seen, 'p1', '2026-05-01T13:30:02Z').instanceActions?.map((a) => a.requestId), ['req-del', 'req-create']);
    // Through kubectl: the last stamp is another action's; a delete with a derived id and no user.
    const kubectl = deletedRecordOf(server({ annotations: { [REQUEST_ANNOTATION]: stamp('stop', 'req-stop') } }), 'p1', '2026-05-01T13:30:02Z');
    const del = kubectl.instanceActions?.[0];
    assert.equal(del?.action, 'delete');
    assert.equal(del?.userId, '');
    assert.match(del?.requestId ?? '', /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(del?.requestId, deletedRecordOf(server(), 'p1', '2026-05-01T13:31:00Z').instanceActions?.[0]?.requestId, 'the same delete, the same id on a retry');
    assert.equal(del?.projectId, 'p1');
  });

  test('a reclaimed soft-deleted server keeps its own delete; at most 50 actions', () => {
    const soft = server({ annotations: { [REQUEST_ANNOTATION]: stamp('delete', 'req-soft') }, spec: { powerState: 'SoftDeleted' } });
    soft.status!.instanceActions!.unshift({ action: 'delete', requestId: 'req-soft', startTime: '2026-05-01T12:00:00Z', events: [] });
    assert.deepEqual(deletedRecordOf(soft, 'p1', '2026-05-01T13:30:02Z').instanceActions?.map((a) => a.requestId), ['req-soft', 'req-create']);
    const busy = server({ status: { instanceActions: Array.from({ length: 50 }, (_, i) => ({ action: 'reboot', requestId: `req-${i}`, startTime: '2026-05-01T11:00:00Z' })) } });
    const actions = deletedRecordOf(busy, 'p1', '2026-05-01T13:30:02Z').instanceActions ?? [];
    assert.equal(actions.length, 50);
    assert.equal(actions[0]?.action, 'delete');
  });
});

describe('bounds', () => {
  const now = new Date('2026-05-10T00:00:00Z');
  const rec = (name: string, deletedAt: string): DeletedServer => ({ metadata: { name, namespace: 'p1' }, spec: { serverId: name, name, deletedAt } });
  const names = (l: DeletedServer[]) => l.map((r) => r.metadata.name).sort();

  test('the oldest beyond the count go, whatever order they are listed in', () => {
    const l = [rec('c', '2026-05-03T00:00:00Z'), rec('a', '2026-05-01T00:00:00Z'), rec('d', '2026-05-04T00:00:00Z'), rec('b', '2026-05-02T00:00:00Z')];
    assert.deepEqual(names(prunable(l, { maxPerProject: 2, maxAgeSeconds: 30 * 86400 }, now)), ['a', 'b']);
    assert.deepEqual(prunable(l, { maxPerProject: 4, maxAgeSeconds: 30 * 86400 }, now), []);
    assert.deepEqual(names(prunable(l, { maxPerProject: 0, maxAgeSeconds: 30 * 86400 }, now)), ['a', 'b', 'c', 'd']);
    // Same time: the name decides, so every replica prunes the same one.
    assert.deepEqual(names(prunable([rec('y', '2026-05-04T00:00:00Z'), rec('x', '2026-05-04T00:00:00Z')], { maxPerProject: 1, maxAgeSeconds: 30 * 86400 }, now)), ['y']);
  });

  test('any past the age goes, within the count or not; the rest say when they will', () => {
    const l = [rec('old', '2026-05-02T23:59:59Z'), rec('young', '2026-05-09T00:00:00Z')];
    const b = { maxPerProject: 10, maxAgeSeconds: 7 * 86400 };
    assert.deepEqual(names(prunable(l, b, now)), ['old']);
    assert.equal(expiresInMs(l[1]!, b, now), 6 * 86400_000);
    assert.equal(expiresInMs(l[0]!, b, now), 0);
  });
});

describe('a record read as a server and as usage', () => {
  const record: DeletedServer = { metadata: { name: 'id-1', namespace: 'p1' }, spec: deletedRecordOf(server(), 'p1', '2026-05-01T13:30:00Z') };

  test('a server row: DELETED, listed by changes-since and an admin\'s deleted=true, hidden from a plain list', () => {
    const row = deletedAsServer(record);
    assert.equal(row.metadata.uid, '11111111-2222-4333-8444-555555555555');
    assert.deepEqual([row.status?.status, row.status?.vmState, row.status?.terminatedAt, row.status?.addresses], ['DELETED', 'deleted', '2026-05-01T13:30:00Z', undefined]);
    const keeps = (q: Record<string, string>, admin: boolean) => serverFilter(q, admin, LATEST, facts)(row);
    assert.equal(keeps({}, false), false);
    assert.equal(keeps({ 'changes-since': '2026-05-01T13:00:00Z' }, false), true);
    assert.equal(keeps({ 'changes-since': '2026-05-01T14:00:00Z' }, false), false, 'updated when it was deleted');
    assert.equal(keeps({ 'changes-before': '2026-05-01T13:00:00Z', 'changes-since': '2026-05-01T12:00:00Z' }, false), false);
    assert.equal(keeps({ deleted: 'true' }, true), true);
    assert.equal(keeps({ deleted: 'true', soft_deleted: 'false' }, true), true);
    assert.equal(keeps({ deleted: 'false', 'changes-since': '2026-05-01T13:00:00Z' }, true), false);
    assert.equal(keeps({ status: 'DELETED' }, true), true);
  });

  test('the route reads records only when the query could show them', () => {
    assert.equal(wantsDeleted({}, true, LATEST), false);
    assert.equal(wantsDeleted({ 'changes-since': '2026-05-01T00:00:00Z' }, false, LATEST), true);
    assert.equal(wantsDeleted({ 'changes-before': '2026-05-01T00:00:00Z' }, false, Version.of('2.65')), false);
    assert.equal(wantsDeleted({ 'changes-before': '2026-05-01T00:00:00Z' }, false, LATEST), true);
    assert.equal(wantsDeleted({ deleted: 'true' }, false, LATEST), false);
    assert.equal(wantsDeleted({ deleted: 'true' }, true, LATEST), true);
    assert.equal(wantsDeleted({ status: 'deleted' }, true, LATEST), true);
    assert.equal(wantsDeleted({ vm_state: 'deleted' }, true, LATEST), true);
  });

  test('usage: the hours it ran within the period, terminated when deleted, its flavor\'s size', () => {
    const u = deletedUsage(record, 'p1');
    assert.deepEqual(u, { id: '11111111-2222-4333-8444-555555555555', name: 'web', projectId: 'p1', flavor: 'm1.small', vcpus: 2, memoryMiB: 2048, localGiB: 25, vmState: 'deleted', launchedAt: '2026-05-01T10:00:00Z', terminatedAt: '2026-05-01T13:30:00Z' });
    const now = new Date('2026-05-02T00:00:00Z');
    const vc = { version: Version.of('2.1'), origin: 'http://kova', prefix: '/v2.1', bookmarkPrefix: '', admin: false };
    // Launched 10:00, deleted 13:30; the period 12:00–18:00 holds 1.5 hours of it.
    const period = usagePeriod('2026-05-01T12:00:00', '2026-05-01T18:00:00', now);
    const body = tenantUsageShown(vc, 'p1', activeDuring([u], period), { period, now, limit: 0, query: {} }) as { tenant_usage: Record<string, any> };
    const s = body.tenant_usage.server_usages[0];
    assert.deepEqual([s.state, s.hours, s.ended_at, s.started_at, s.uptime, s.local_gb], ['terminated', 1.5, '2026-05-01T13:30:00.000000', '2026-05-01T10:00:00.000000', 3.5 * 3600, 25]);
    assert.deepEqual([body.tenant_usage.total_hours, body.tenant_usage.total_vcpus_usage, body.tenant_usage.total_memory_mb_usage, body.tenant_usage.total_local_gb_usage], [1.5, 3, 3072, 37.5]);
    // A period after it was deleted does not count it.
    const after = usagePeriod('2026-05-01T14:00:00', '2026-05-01T18:00:00', now);
    assert.deepEqual(activeDuring([u], after), []);
  });
});
