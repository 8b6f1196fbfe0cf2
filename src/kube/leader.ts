// Leader election on a coordination.k8s.io Lease, with client-go's rules: a candidate takes the
// Lease only when its holder has not renewed it for leaseDuration as observed on the candidate's own
// clock; the leader renews every retryPeriod and steps down when it cannot renew within
// renewDeadline; on shutdown it releases the Lease so another replica takes over at once.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { isConflict, isNotFound, type KubeClient } from './client.ts';
import { LEASES, type KubeObject } from './types.ts';
import type { Logger } from '../log.ts';
import { sleep } from './informer.ts';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

const microTime = (d = new Date()): string => d.toISOString().replace('Z', '000Z');

export class LeaderElector {
  readonly identity: string;
  private readonly client: KubeClient;
  private readonly o: Required<Omit<LeaderElectionOptions, 'identity'>>;
  private readonly log: Logger;
  private stopped = false;
  private leading = false;
  /** The last Lease record seen and when (on this clock) it changed. */
  private observed: { record: string; at: number } | undefined;

  constructor(client: KubeClient, log: Logger, o: LeaderElectionOptions) {
    this.client = client;
    this.log = log.child({ lease: `${o.namespace}/${o.name}` });
    this.identity = o.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.o = { namespace: o.namespace, name: o.name, leaseDurationMs: o.leaseDurationMs ?? 15_000, renewDeadlineMs: o.renewDeadlineMs ?? 10_000, retryPeriodMs: o.retryPeriodMs ?? 2_000 };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until leader, calls `onStarted`, renews until the lease is lost or stop() is called,
   * then calls `onStopped`. Resolves when it is done leading (or was stopped before).
   */
  async run(onStarted: () => Promise<void> | void, onStopped: () => Promise<void> | void): Promise<void> {
    while (!this.stopped && !(await this.tryAcquireOrRenew())) await sleep(this.jitter());
    if (this.stopped) return;
    this.leading = true;
    this.log.info('became leader', { identity: this.identity });
    await onStarted();
    let lastRenew = Date.now();
    while (!this.stopped) {
      await sleep(this.o.retryPeriodMs);
      if (this.stopped) break;
      if (await this.tryAcquireOrRenew()) lastRenew = Date.now();
      else if (Date.now() - lastRenew > this.o.renewDeadlineMs) break;
    }
    this.leading = false;
    if (this.stopped) await this.release();
    else this.log.warn('lost leadership', { identity: this.identity });
    await onStopped();
  }

  stop(): void {
    this.stopped = true;
  }

  private jitter(): number {
    return this.o.retryPeriodMs * (1 + Math.random() * 0.2);
  }

  private desired(prev: Lease | undefined, now: Date): Lease {
    const holdingAlready = prev?.spec?.holderIdentity === this.identity;
    return {
      metadata: { name: this.o.name, namespace: this.o.namespace, ...(prev?.metadata.resourceVersion ? { resourceVersion: prev.metadata.resourceVersion } : {}) },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
        acquireTime: holdingAlready ? prev?.spec?.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (prev?.spec?.leaseTransitions ?? 0) + (holdingAlready || !prev?.spec?.holderIdentity ? 0 : 1),
      },
    };
  }

  /** One attempt; true when this candidate holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    try {
      const lease = await this.client.find<Lease>(LEASES, this.o.name, this.o.namespace);
      if (!lease) {
        await this.client.create(LEASES, this.desired(undefined, now) as never);
        return true;
      }
      const record = JSON.stringify(lease.spec ?? {});
      if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
      const holder = lease.spec?.holderIdentity;
      const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
      const expired = this.observed.at + duration <= Date.now();
      if (holder && holder !== this.identity && !expired) return false;
      await this.client.replace(LEASES, this.desired(lease, now) as never);
      return true;
    } catch (e) {
      if (!isConflict(e) && !isNotFound(e)) this.log.warn('leader election attempt failed', { err: e });
      return false;
    }
  }

  /** Gives the Lease up so a standby takes over without waiting for it to expire. */
  private async release(): Promise<void> {
    try {
      const lease = await this.client.find<Lease>(LEASES, this.o.name, this.o.namespace);
      if (lease?.spec?.holderIdentity !== this.identity) return;
      await this.client.replace(LEASES, { metadata: lease.metadata, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() } } as never);
      this.log.info('released the lease', { identity: this.identity });
    } catch (e) {
      this.log.warn('could not release the lease', { err: e });
    }
  }
}
