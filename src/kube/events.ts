// Kubernetes Events (events.k8s.io/v1) about the objects Kova reconciles. Identical events for the
// same object are sent at most once per `windowMs`, a small stand-in for client-go's correlator.
import { randomBytes } from 'node:crypto';
import type { KubeClient } from './client.ts';
import type { KubeObject, ResourceType } from './types.ts';

export const EVENTS: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly controller: string;
  private readonly instance: string;
  private readonly recent = new Map<string, number>();
  private readonly windowMs: number;

  constructor(client: KubeClient, controller: string, windowMs = 60_000) {
    this.client = client;
    this.controller = controller;
    this.instance = `${controller}-${process.pid}`;
    this.windowMs = windowMs;
  }

  /** Records an event; never throws (an event is not worth failing a reconcile for). */
  async record(regarding: KubeObject, type: 'Normal' | 'Warning', reason: string, action: string, note: string): Promise<void> {
    const m = regarding.metadata;
    const dedup = `${m.uid}/${reason}/${note}`;
    const now = Date.now();
    if ((this.recent.get(dedup) ?? 0) > now - this.windowMs) return;
    this.recent.set(dedup, now);
    if (this.recent.size > 5000) for (const [k, t] of this.recent) if (t < now - this.windowMs) this.recent.delete(k);
    const namespace = m.namespace ?? 'default';
    try {
      await this.client.create(EVENTS, {
        metadata: { name: `${m.name}.${randomBytes(8).toString('hex')}`, namespace },
        eventTime: new Date(now).toISOString().replace('Z', '000Z'),
        reportingController: `compute.kova.io/${this.controller}`,
        reportingInstance: this.instance,
        action,
        reason,
        type,
        note: note.slice(0, 1024),
        regarding: { apiVersion: regarding.apiVersion, kind: regarding.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
      });
    } catch {
      // Events are best effort.
    }
  }
}
