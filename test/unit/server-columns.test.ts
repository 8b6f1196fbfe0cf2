// What the views and the list show of times, hosts and the columns Kova keeps: updated_at from the
// apiserver's managedFields, host_status from the host's compute service. Pure.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../../src/kube/types.ts';
import { FORCED_DOWN_TAINT } from '../../src/api/labels.ts';
import { hostStatus } from '../../src/nova/hosts.ts';
import { columnText, reservationIdOf } from '../../src/nova/server-columns.ts';
import { lastWriteAt, specUpdatedAt } from '../../src/nova/timestamps.ts';
import type { Server } from '../../src/api/server.ts';

const entry = (time: string, o: { subresource?: string; spec?: boolean } = {}) => ({ manager: 'm', time, ...(o.subresource ? { subresource: o.subresource } : {}), fieldsV1: o.spec === false ? { 'f:metadata': {} } : { 'f:spec': {} } });

describe('timestamps', () => {
  const created = '2026-03-01T10:00:00Z';
  test('specUpdatedAt: null until the spec changes, then the last spec writer\'s time (status writes do not count)', () => {
    assert.equal(specUpdatedAt({ metadata: { creationTimestamp: created, generation: 1, managedFields: [entry(created)] } as never }), null);
    const changed = { metadata: { creationTimestamp: created, generation: 3, managedFields: [entry('2026-03-01T10:05:00Z'), entry('2026-03-01T11:00:00Z', { subresource: 'status' }), entry('2026-03-01T12:00:00Z', { spec: false })] } as never };
    assert.equal(specUpdatedAt(changed), '2026-03-01T10:05:00Z');
  });
  test('lastWriteAt: any write, status included, else the creation', () => {
    assert.equal(lastWriteAt({ metadata: { creationTimestamp: created } }), created);
    assert.equal(lastWriteAt({ metadata: { creationTimestamp: created, managedFields: [entry('2026-03-02T00:00:00Z', { subresource: 'status' })] } as never }), '2026-03-02T00:00:00Z');
  });
});

describe('hostStatus (2.16), as Nova works it out', () => {
  const node = (o: { ready?: boolean; cordoned?: boolean; forced?: boolean }): Node => ({
    metadata: { name: 'n' },
    spec: { unschedulable: o.cordoned, taints: o.forced ? [{ key: FORCED_DOWN_TAINT, effect: 'NoSchedule' }] : [] },
    status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  });
  test('UP, UNKNOWN when it stops reporting, MAINTENANCE when disabled, DOWN when forced down, "" with no host', () => {
    assert.equal(hostStatus(node({})), 'UP');
    assert.equal(hostStatus(node({ ready: false })), 'UNKNOWN');
    assert.equal(hostStatus(node({ cordoned: true })), 'MAINTENANCE');
    assert.equal(hostStatus(node({ forced: true, cordoned: true })), 'DOWN');
    assert.equal(hostStatus(undefined), '');
  });
});

describe('columns', () => {
  test('as the database text for regular expressions', () => {
    assert.equal(columnText('2026-03-01T10:00:00Z'), '2026-03-01 10:00:00');
    assert.equal(columnText(true), '1');
    assert.equal(columnText(3), '3');
    assert.equal(columnText(null), null);
  });
  test('a Server made with kubectl still has a reservation id', () => {
    assert.equal(reservationIdOf({ metadata: { uid: 'abcdef01-2345-6789-abcd-ef0123456789' }, spec: {} } as Server), 'r-abcdef01');
  });
});
