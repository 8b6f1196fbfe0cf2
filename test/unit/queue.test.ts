import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue, type QueueOptions, type Reconcile } from '../../src/kube/queue.ts';

/** Polls `cond` until it holds, failing after `ms`. */
async function until(cond: () => boolean, ms = 1500, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

interface Harness {
  q: WorkQueue;
  calls: { key: string; at: number }[];
  errors: { key: string; err: unknown }[];
  done: Promise<void>;
  stop: () => Promise<void>;
}

/** Starts `run` on a new queue; `stop` stops it and waits for run() to end. */
function start(reconcile: Reconcile, opts: QueueOptions = {}, setup?: (q: WorkQueue) => void): Harness {
  const q = new WorkQueue({ baseDelayMs: 5, ...opts });
  setup?.(q);
  const calls: Harness['calls'] = [];
  const errors: Harness['errors'] = [];
  const done = q.run(
    async (key) => {
      calls.push({ key, at: Date.now() });
      return reconcile(key);
    },
    (key, err) => errors.push({ key, err }),
  );
  return {
    q,
    calls,
    errors,
    done,
    stop: async () => {
      q.stop();
      await done;
    },
  };
}

const count = (calls: { key: string }[], key: string): number => calls.filter((c) => c.key === key).length;

describe('WorkQueue', { timeout: 10_000 }, () => {
  test('a key added many times while waiting is processed once', async () => {
    const h = start(
      async () => undefined,
      {},
      (q) => {
        for (let i = 0; i < 20; i++) q.add('a');
        q.add('b');
        q.add('a');
        assert.equal(q.depth, 2, 'a and b wait once each');
      },
    );
    await until(() => h.calls.length >= 2, 1000, 'both keys');
    await sleep(50);
    assert.equal(count(h.calls, 'a'), 1);
    assert.equal(count(h.calls, 'b'), 1);
    assert.equal(h.q.depth, 0);
    await h.stop();
  });

  test('keys added before run are processed in order with one worker', async () => {
    const h = start(async () => undefined, { concurrency: 1 }, (q) => {
      for (const k of ['x', 'y', 'z', 'x', 'y']) q.add(k);
    });
    await until(() => h.calls.length >= 3);
    await sleep(30);
    assert.deepEqual(
      h.calls.map((c) => c.key),
      ['x', 'y', 'z'],
    );
    await h.stop();
  });

  test('a key added while processing is processed once more afterwards, never concurrently with itself', async () => {
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    let n = 0;
    const h = start(
      async () => {
        n++;
        active++;
        maxActive = Math.max(maxActive, active);
        try {
          if (n === 1) await gate.promise; // the first run is held open
          else await sleep(5);
        } finally {
          active--;
        }
      },
      { concurrency: 4 },
    );
    h.q.add('a');
    await until(() => n === 1, 1000, 'first run');
    // While the first run is in progress: add it many times.
    for (let i = 0; i < 10; i++) h.q.add('a');
    await sleep(50);
    assert.equal(n, 1, 'not processed concurrently while the first run holds it');
    assert.equal(h.q.depth, 0, 'a key being processed does not wait in the queue');
    gate.resolve();
    await until(() => n === 2, 1000, 'second run');
    await sleep(50);
    assert.equal(n, 2, 'processed exactly once more');
    assert.equal(maxActive, 1);
    assert.deepEqual(h.errors, []);
    await h.stop();
  });

  test('different keys are processed concurrently', async () => {
    const gate = deferred();
    const started = new Set<string>();
    const h = start(
      async (key) => {
        started.add(key);
        await gate.promise;
      },
      { concurrency: 3 },
    );
    for (const k of ['a', 'b', 'c']) h.q.add(k);
    await until(() => started.size === 3, 1000, 'three concurrent runs');
    gate.resolve();
    await h.stop();
  });

  test('failures are retried with growing backoff and the key succeeds later', async () => {
    let n = 0;
    const h = start(
      async () => {
        n++;
        if (n <= 3) throw new Error(`boom ${n}`);
      },
      { baseDelayMs: 10 },
    );
    h.q.add('a');
    await until(() => n === 4, 1500, 'fourth attempt');
    await sleep(100);
    assert.equal(n, 4, 'no more runs after the success');
    assert.deepEqual(
      h.errors.map((e) => [e.key, (e.err as Error).message]),
      [
        ['a', 'boom 1'],
        ['a', 'boom 2'],
        ['a', 'boom 3'],
      ],
    );
    assert.equal(h.q.retries, 3);
    // backoff: base * 2^n → ≥20, ≥40, ≥80 ms between attempts (a little slack for timer rounding)
    const gaps = h.calls.slice(1).map((c, i) => c.at - (h.calls[i]?.at ?? 0));
    assert.equal(gaps.length, 3);
    assert.ok(gaps[0]! >= 18, `first retry after ${gaps[0]} ms`);
    assert.ok(gaps[1]! >= 38, `second retry after ${gaps[1]} ms`);
    assert.ok(gaps[2]! >= 78, `third retry after ${gaps[2]} ms`);
    await h.stop();
  });

  test('new work is not held by the retry bucket: 20 new keys with a bucket of 1 a second run at once', async () => {
    const h = start(async () => {}, { qps: 1, burst: 1 });
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) h.q.add(`k${i}`);
    await until(() => h.calls.length === 20, 1500, 'all 20 keys (held by the bucket they would take 19 s)');
    assert.ok(Date.now() - t0 < 1500);
    await h.stop();
  });

  test('retries are held by the bucket: four keys failing at once come back one bucket interval apart', async () => {
    const failed = new Set<string>();
    const h = start(
      async (key) => {
        if (!failed.has(key)) {
          failed.add(key);
          throw new Error('once');
        }
      },
      { qps: 10, burst: 1, baseDelayMs: 1 },
    );
    for (const k of ['a', 'b', 'c', 'd']) h.q.add(k);
    await until(() => h.calls.length === 8, 3000, 'four failures and four retries');
    const retries = h.calls.slice(4).map((c) => c.at).sort((x, y) => x - y);
    const firstFailure = h.calls[0]!.at;
    // The bucket holds one token at 10 a second: the retries are due at about 0, 100, 200 and 300 ms.
    assert.ok(retries[3]! - firstFailure >= 250, `the last retry came ${retries[3]! - firstFailure} ms after the first failure`);
    await h.stop();
  });

  test('backoff is capped at maxDelayMs', async () => {
    let n = 0;
    const h = start(
      async () => {
        n++;
        if (n <= 5) throw new Error('boom');
      },
      { baseDelayMs: 10, maxDelayMs: 15 },
    );
    const t0 = Date.now();
    h.q.add('a');
    await until(() => n === 6, 1500, 'sixth attempt');
    // uncapped this would take 20+40+80+160+320 = 620 ms
    assert.ok(Date.now() - t0 < 400, `took ${Date.now() - t0} ms`);
    await h.stop();
  });

  test('the failure count is forgotten after a success', async () => {
    let n = 0;
    const h = start(
      async () => {
        n++;
        if (n === 1 || n === 2 || n === 4) throw new Error(`boom ${n}`);
      },
      { baseDelayMs: 40 },
    );
    h.q.add('a');
    await until(() => n === 3, 1500, 'success after two failures');
    h.q.add('a'); // fails once more: the retry must use the first backoff step again (80 ms), not the third (320 ms)
    await until(() => n === 5, 1500, 'retry after the new failure');
    const gap = (h.calls[4]?.at ?? 0) - (h.calls[3]?.at ?? 0);
    assert.ok(gap >= 75 && gap < 300, `retry after ${gap} ms`);
    await h.stop();
  });

  test('one key failing does not hold up other keys', async () => {
    const h = start(async (key) => {
      if (key === 'bad') throw new Error('always');
    }, { baseDelayMs: 1000 });
    h.q.add('bad');
    h.q.add('good');
    await until(() => count(h.calls, 'good') === 1 && h.errors.length === 1);
    await h.stop();
    assert.equal(count(h.calls, 'bad'), 1, 'the retry is still in backoff');
  });

  test('requeueAfterMs schedules another run', async () => {
    let n = 0;
    const h = start(async () => {
      n++;
      return n === 1 ? { requeueAfterMs: 60 } : undefined;
    });
    h.q.add('a');
    await until(() => n === 2, 1500, 'requeued run');
    const gap = (h.calls[1]?.at ?? 0) - (h.calls[0]?.at ?? 0);
    assert.ok(gap >= 55, `requeued after ${gap} ms`);
    await sleep(100);
    assert.equal(n, 2, 'no further runs');
    assert.deepEqual(h.errors, []);
    await h.stop();
  });

  test('an add before the requeue time runs the key now and cancels the scheduled run', async () => {
    let n = 0;
    const h = start(async () => {
      n++;
      return n === 1 ? { requeueAfterMs: 150 } : undefined;
    });
    h.q.add('a');
    await until(() => n === 1);
    await sleep(10);
    h.q.add('a');
    await until(() => n === 2, 100, 'immediate run');
    await sleep(250);
    assert.equal(n, 2, 'the scheduled run was cancelled');
    await h.stop();
  });

  test('addAfter delays a key', async () => {
    const h = start(async () => undefined);
    const t0 = Date.now();
    h.q.addAfter('a', 50);
    await sleep(20);
    assert.equal(h.calls.length, 0);
    await until(() => h.calls.length === 1);
    assert.ok((h.calls[0]?.at ?? 0) - t0 >= 45);
    await h.stop();
  });

  test('stop() ends run()', async () => {
    const h = start(async () => undefined, { concurrency: 3 });
    h.q.add('a');
    await until(() => h.calls.length === 1);
    h.q.stop();
    const result = await Promise.race([h.done.then(() => 'ended'), sleep(1000).then(() => 'still running')]);
    assert.equal(result, 'ended');
  });

  test('stop() ends run() on an idle queue', async () => {
    const h = start(async () => undefined);
    await sleep(10);
    h.q.stop();
    assert.equal(await Promise.race([h.done.then(() => 'ended'), sleep(1000).then(() => 'still running')]), 'ended');
  });

  test('after stop() adds are ignored and scheduled keys never run', async () => {
    let n = 0;
    const h = start(async () => {
      n++;
      return { requeueAfterMs: 30 };
    });
    h.q.addAfter('later', 30);
    h.q.add('a');
    await until(() => n === 1);
    await h.stop();
    h.q.add('b');
    h.q.addAfter('c', 1);
    assert.equal(h.q.depth, 0);
    await sleep(100);
    assert.equal(n, 1);
    assert.deepEqual(
      h.calls.map((c) => c.key),
      ['a'],
    );
  });

  test('stop() lets an in-flight reconcile finish', async () => {
    const gate = deferred();
    let finished = false;
    const h = start(async () => {
      await gate.promise;
      finished = true;
    });
    h.q.add('a');
    await until(() => h.calls.length === 1);
    h.q.stop();
    let ended = false;
    void h.done.then(() => (ended = true));
    await sleep(20);
    assert.equal(ended, false, 'run() waits for the worker');
    gate.resolve();
    await h.done;
    assert.equal(finished, true);
  });
});
