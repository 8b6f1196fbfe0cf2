// Runs one level-triggered reconcile function over a work queue fed by informers.
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { isConflict } from './client.ts';
import { WorkQueue, type QueueOptions, type Reconcile } from './queue.ts';

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconcile: Reconcile;
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  reconciles = 0;
  errors = 0;

  private readonly metrics: Metrics | undefined;

  constructor(name: string, reconcile: Reconcile, log: Logger, opts: QueueOptions = {}, metrics?: Metrics) {
    this.name = name;
    this.reconcile = reconcile;
    this.metrics = metrics;
    metrics?.onScrape(() => {
      metrics.queueDepth.set({ controller: name }, this.queue.depth);
      metrics.syncCounter(metrics.queueRetries, { controller: name }, this.queue.retries);
    });
    this.log = log.child({ controller: name });
    this.queue = new WorkQueue(opts);
  }

  enqueue = (key: string): void => this.queue.add(key);

  start(): void {
    this.running = this.queue.run(
      async (key) => {
        this.reconciles++;
        const end = this.metrics?.reconcileDuration.startTimer({ controller: this.name });
        try {
          return await this.reconcile(key);
        } finally {
          end?.();
        }
      },
      (key, err) => {
        this.errors++;
        this.metrics?.reconcileErrors.inc({ controller: this.name });
        // A conflict means the cache was behind a write: routine, retried with the fresh object.
        if (isConflict(err)) this.log.debug('conflict; will retry', { key });
        else this.log.warn('reconcile failed; will retry', { key, err });
      },
    );
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await this.running;
  }
}
