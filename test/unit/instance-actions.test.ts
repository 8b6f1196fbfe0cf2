import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REQUEST_ANNOTATION, REQUEST_STAMP_PREFIX } from '../../src/api/labels.ts';
import { MAX_INSTANCE_ACTIONS, nextInstanceActions, parseStamp, stampsOf, unrecordedStamps } from '../../src/nova/instance-actions.ts';

const stamp = (requestId: string, action: string) => ({ requestId, action, userId: 'alice', projectId: 'p1', at: '2026-01-01T00:00:00Z' });
const notYet = { time: '2026-01-01T00:00:05Z', reached: () => false, error: false };

test('a new request becomes the newest action, with its compute event open', () => {
  const l = nextInstanceActions([], stamp('req-1', 'stop'), notYet);
  assert.equal(l.length, 1);
  assert.deepEqual(l[0]?.events, [{ event: 'compute_stop_instance', startTime: '2026-01-01T00:00:00Z' }]);
  assert.deepEqual(nextInstanceActions(l, stamp('req-1', 'stop'), notYet), l, 'the same request is recorded once');
});

test('the open event finishes when the server gets where the action takes it, or fails', () => {
  const open = nextInstanceActions([], stamp('req-1', 'stop'), notYet);
  const done = nextInstanceActions(open, undefined, { time: 't2', reached: (a) => a === 'stop', error: false, host: 'node-1' });
  assert.deepEqual(done[0]?.events?.[0], { event: 'compute_stop_instance', startTime: '2026-01-01T00:00:00Z', finishTime: 't2', result: 'Success', host: 'node-1' });
  assert.equal(done[0]?.updatedAt, 't2');
  const failed = nextInstanceActions(open, undefined, { time: 't3', reached: () => false, error: true });
  assert.equal(failed[0]?.events?.[0]?.result, 'Error');
});

test('API-only actions (lock) have no events; the list is newest first and bounded', () => {
  let l = nextInstanceActions([], stamp('req-0', 'lock'), notYet);
  assert.deepEqual(l[0]?.events, []);
  for (let i = 1; i <= MAX_INSTANCE_ACTIONS + 5; i++) l = nextInstanceActions(l, stamp(`req-${i}`, 'unlock'), notYet);
  assert.equal(l.length, MAX_INSTANCE_ACTIONS);
  assert.equal(l[0]?.requestId, `req-${MAX_INSTANCE_ACTIONS + 5}`);
});

test('stamps: only complete JSON stamps count', () => {
  assert.equal(parseStamp(undefined), undefined);
  assert.equal(parseStamp('not json'), undefined);
  assert.equal(parseStamp(JSON.stringify({ action: 'stop' })), undefined);
  assert.deepEqual(parseStamp(JSON.stringify(stamp('req-9', 'start'))), stamp('req-9', 'start'));
});

test('stamps: one annotation per request (and the single one of old), oldest first; other annotations ignored', () => {
  const a = { ...stamp('req-a', 'lock'), at: '2026-01-01T00:00:01Z', seq: 1500 };
  const b = { ...stamp('req-b', 'unlock'), at: '2026-01-01T00:00:01Z', seq: 1200 };
  const old = stamp('req-o', 'stop');
  const list = stampsOf({ [`${REQUEST_STAMP_PREFIX}req-a`]: JSON.stringify(a), [`${REQUEST_STAMP_PREFIX}req-b`]: JSON.stringify(b), [REQUEST_ANNOTATION]: JSON.stringify(old), other: JSON.stringify(stamp('req-x', 'start')) });
  assert.deepEqual(list.map((s) => s.requestId), ['req-o', 'req-b', 'req-a']);
});

test('unrecorded stamps: those not in the list, and none older than a full list', () => {
  const recorded = nextInstanceActions([], stamp('req-1', 'lock'), notYet);
  assert.deepEqual(unrecordedStamps([stamp('req-1', 'lock'), stamp('req-2', 'unlock')], recorded).map((s) => s.requestId), ['req-2']);
  let full = recorded;
  for (let i = 0; i < MAX_INSTANCE_ACTIONS; i++) full = nextInstanceActions(full, { ...stamp(`req-f${i}`, 'lock'), at: '2026-02-01T00:00:00Z' }, notYet);
  assert.deepEqual(unrecordedStamps([stamp('req-1', 'lock'), { ...stamp('req-3', 'stop'), at: '2026-03-01T00:00:00Z' }], full).map((s) => s.requestId), ['req-3']);
});
