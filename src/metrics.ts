// Prometheus metrics: one private registry per process (never prom-client's global one).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly reconcileDuration: Histogram<'controller'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly queueDepth: Gauge<'controller'>;
  readonly queueRetries: Counter<'controller'>;
  readonly watchRestarts: Counter<'resource'>;
  readonly watchRelists: Counter<'resource'>;
  readonly servers: Gauge<'status'>;
  readonly leader: Gauge;
  readonly kubeWrites: Counter<'verb' | 'resource'>;
  readonly apiDuration: Histogram<'method' | 'route' | 'status_code' | 'microversion'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'kova_' });
    const r = [this.registry];
    this.reconcileDuration = new Histogram({ name: 'kova_reconcile_duration_seconds', help: 'Time one reconcile took.', labelNames: ['controller'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: r });
    this.reconcileErrors = new Counter({ name: 'kova_reconcile_errors_total', help: 'Reconciles that failed (and were retried).', labelNames: ['controller'], registers: r });
    this.queueDepth = new Gauge({ name: 'kova_workqueue_depth', help: 'Keys waiting in the work queue.', labelNames: ['controller'], registers: r });
    this.queueRetries = new Counter({ name: 'kova_workqueue_retries_total', help: 'Keys requeued with backoff after a failure.', labelNames: ['controller'], registers: r });
    this.watchRestarts = new Counter({ name: 'kova_watch_restarts_total', help: 'Watches restarted after a failure.', labelNames: ['resource'], registers: r });
    this.watchRelists = new Counter({ name: 'kova_watch_relists_total', help: 'Full relists (initial, expired watch or watchdog).', labelNames: ['resource'], registers: r });
    this.servers = new Gauge({ name: 'kova_servers', help: 'Servers by Nova status.', labelNames: ['status'], registers: r });
    this.kubeWrites = new Counter({ name: 'kova_kube_writes_total', help: 'Writes this process sent to the kube-apiserver, by verb and resource.', labelNames: ['verb', 'resource'], registers: r });
    this.leader = new Gauge({ name: 'kova_leader', help: '1 while this controller holds the leader Lease.', registers: r });
    this.apiDuration = new Histogram({
      name: 'kova_api_request_duration_seconds',
      help: 'Compute API request duration by route, status and microversion.',
      labelNames: ['method', 'route', 'status_code', 'microversion'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    });
  }

  private readonly scrapeHooks: (() => void)[] = [];

  /** Runs `fn` before every scrape: gauges that mirror state (queue depth, servers) are set there. */
  onScrape(fn: () => void): void {
    this.scrapeHooks.push(fn);
  }

  private readonly seen = new Map<string, number>();

  /** Brings a counter up to `total`, a count kept elsewhere (the queue's or an informer's). */
  syncCounter<L extends string>(c: Counter<L>, labels: Record<L, string>, total: number): void {
    const key = `${(c as unknown as { name: string }).name}${JSON.stringify(labels)}`;
    const delta = total - (this.seen.get(key) ?? 0);
    if (delta > 0) c.inc(labels as never, delta);
    this.seen.set(key, total);
  }

  async text(): Promise<string> {
    for (const fn of this.scrapeHooks) fn();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
