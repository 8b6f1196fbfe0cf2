import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { findCondition, isTrue, setCondition } from '../../src/kube/conditions.ts';
import type { Condition } from '../../src/kube/types.ts';

const T0 = '2024-01-01T00:00:00Z';
const now = new Date('2024-06-15T12:34:56.789Z');
const NOW = '2024-06-15T12:34:56Z';

const ready = (status: Condition['status'], over: Partial<Condition> = {}): Condition => ({ type: 'Ready', status, reason: 'R', message: 'm', lastTransitionTime: T0, ...over });

describe('setCondition', () => {
  test('adds a new condition with the transition time now, in whole seconds', () => {
    const list = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Active', message: 'ok' }, now);
    assert.deepEqual(list, [{ type: 'Ready', status: 'True', reason: 'Active', message: 'ok', lastTransitionTime: NOW }]);
  });

  test('the default "now" is the current time in RFC 3339 without fractions', () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const [c] = setCondition([], { type: 'Ready', status: 'True', reason: 'Active', message: 'ok' });
    assert.ok(c);
    assert.match(c.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const t = Date.parse(c.lastTransitionTime);
    assert.ok(t >= before && t <= Date.now(), c.lastTransitionTime);
  });

  test('keeps lastTransitionTime when the status is unchanged, but updates reason, message and generation', () => {
    const list = setCondition([ready('False', { observedGeneration: 1 })], { type: 'Ready', status: 'False', reason: 'Other', message: 'changed', observedGeneration: 2 }, now);
    assert.deepEqual(list, [{ type: 'Ready', status: 'False', reason: 'Other', message: 'changed', observedGeneration: 2, lastTransitionTime: T0 }]);
  });

  test('changes lastTransitionTime when the status changes', () => {
    for (const [from, to] of [
      ['False', 'True'],
      ['True', 'False'],
      ['Unknown', 'True'],
      ['True', 'Unknown'],
    ] as const) {
      const [c] = setCondition([ready(from)], { type: 'Ready', status: to, reason: 'X', message: 'y' }, now);
      assert.equal(c?.status, to);
      assert.equal(c?.lastTransitionTime, NOW, `${from} → ${to}`);
    }
  });

  test('preserves other conditions and their order', () => {
    const other1: Condition = { type: 'Synced', status: 'True', reason: 'S', message: 's', lastTransitionTime: '2023-01-01T00:00:00Z', observedGeneration: 3 };
    const other2: Condition = { type: 'Degraded', status: 'False', reason: 'D', message: 'd', lastTransitionTime: '2022-01-01T00:00:00Z' };
    const list = setCondition([other1, ready('False'), other2], { type: 'Ready', status: 'True', reason: 'Active', message: 'ok' }, now);
    assert.deepEqual(list, [other1, { type: 'Ready', status: 'True', reason: 'Active', message: 'ok', lastTransitionTime: NOW }, other2]);
  });

  test('appends a new type after the existing ones', () => {
    const list = setCondition([ready('True')], { type: 'Synced', status: 'False', reason: 'S', message: 's' }, now);
    assert.deepEqual(
      list.map((c) => [c.type, c.lastTransitionTime]),
      [
        ['Ready', T0],
        ['Synced', NOW],
      ],
    );
  });

  test('does not mutate the existing list or its conditions', () => {
    const existing = [ready('False')];
    const snapshot = structuredClone(existing);
    const list = setCondition(existing, { type: 'Ready', status: 'True', reason: 'Active', message: 'ok' }, now);
    assert.deepEqual(existing, snapshot);
    assert.notEqual(list, existing);
  });

  test('truncates very long messages to 32768 characters', () => {
    const [c] = setCondition([], { type: 'Ready', status: 'False', reason: 'R', message: 'x'.repeat(40000) }, now);
    assert.equal(c?.message.length, 32768);
    const [d] = setCondition([], { type: 'Ready', status: 'False', reason: 'R', message: 'short' }, now);
    assert.equal(d?.message, 'short');
  });

  test('setting the same condition twice is idempotent', () => {
    const next = { type: 'Ready', status: 'True', reason: 'Active', message: 'ok' } as const;
    const once = setCondition(undefined, next, now);
    const twice = setCondition(once, next, new Date('2030-01-01T00:00:00Z'));
    assert.deepEqual(twice, once);
  });
});

describe('findCondition / isTrue', () => {
  const list: Condition[] = [ready('True'), { type: 'Synced', status: 'False', reason: 'S', message: 's', lastTransitionTime: T0 }];

  test('findCondition finds by type', () => {
    assert.equal(findCondition(list, 'Synced')?.reason, 'S');
    assert.equal(findCondition(list, 'Missing'), undefined);
    assert.equal(findCondition(undefined, 'Ready'), undefined);
  });

  test('isTrue is true only for status True', () => {
    assert.equal(isTrue(list, 'Ready'), true);
    assert.equal(isTrue(list, 'Synced'), false);
    assert.equal(isTrue(list, 'Missing'), false);
    assert.equal(isTrue(undefined, 'Ready'), false);
    assert.equal(isTrue([ready('Unknown')], 'Ready'), false);
  });
});
