import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_INSTANCE_ACTIONS, nextInstanceActions, parseStamp } from '../../src/nova/instance-actions.ts';

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
