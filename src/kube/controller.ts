// Runs one level-triggered reconcile function over a work queue fed by informers.
import type { Logger } from '../log.ts';
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

  constructor(name: string, reconcile: Reconcile, log: Logger, opts: QueueOptions = {}) {
    this.name = name;
    this.reconcile = reconcile;
    this.log = log.child({ controller: name });
    this.queue = new WorkQueue(opts);
  }

  enqueue = (key: string): void => this.queue.add(key);

  start(): void {
    this.running = this.queue.run(
      async (key) => {
        this.reconciles++;
        return this.reconcile(key);
      },
      (key, err) => {
        this.errors++;
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
