// Starts Kova's controllers: the shared caches, one work queue per kind, and the event wiring
// that turns a change of any watched object into the keys of the objects it concerns.
import type { KubeClient } from '../kube/client.ts';
import { Controller } from '../kube/controller.ts';
import { EventRecorder } from '../kube/events.ts';
import { keyOf, controllerOf, type KubeObject } from '../kube/types.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { reconcileAggregate } from './aggregate.ts';
import { FLAVOR_LABEL, memberLabel, SOURCE_SERVER_LABEL } from '../api/labels.ts';
import { type ControllerDeps } from './deps.ts';
import { type KovaConfig } from '../cache/config.ts';
import { Caches, observeCaches } from '../cache/caches.ts';
import { reconcileDeletedServer } from './deleted-server.ts';
import { reconcileFlavor } from './flavor.ts';
import { reconcileKeyPair } from './keypair.ts';
import { reconcileServer, serverKeyOfLabelled } from './server/index.ts';
import { namesGroup } from '../nova/server-groups.ts';

export class ControllerManager {
  readonly ctx: ControllerDeps;
  readonly controllers: Controller[];

  constructor(client: KubeClient, cfg: KovaConfig, log: Logger, metrics?: Metrics) {
    const caches = new Caches(client, cfg, log);
    if (metrics) observeCaches(metrics, caches);
    this.ctx = { client, caches, cfg, log, events: new EventRecorder(client, 'kova-controller') };
    const ctx = this.ctx;
    const flavors = new Controller('flavor', async (k) => reconcileFlavor(ctx, k), log, {}, metrics);
    const keyPairs = new Controller('keypair', async (k) => reconcileKeyPair(ctx, k), log, {}, metrics);
    const aggregates = new Controller('aggregate', async (k) => reconcileAggregate(ctx, k), log, {}, metrics);
    const servers = new Controller('server', async (k) => reconcileServer(ctx, k), log, { concurrency: 8 }, metrics);
    const deletedServers = new Controller('deletedserver', async (k) => reconcileDeletedServer(ctx, k), log, {}, metrics);
    this.controllers = [flavors, keyPairs, aggregates, servers, deletedServers];

    const each = <T extends KubeObject>(fn: (o: T) => void) => (_t: string, o: T, old?: T) => {
      fn(o);
      if (old) fn(old);
    };
    const serversWhere = (pred: (s: import('../api/server.ts').Server) => boolean) => caches.servers.list().filter(pred).forEach((s) => servers.enqueue(keyOf(s)));

    caches.flavors.on(each((f) => {
      flavors.enqueue(keyOf(f));
      serversWhere((s) => s.spec.flavor === f.metadata.name || s.spec.flavor === f.spec.id);
    }));
    caches.clusterInstancetypes.on(each((it) => {
      const owner = it.metadata.labels?.[FLAVOR_LABEL];
      if (owner) flavors.enqueue(owner);
    }));
    caches.instancetypes.on(each((it) => flavors.enqueue(it.metadata.labels?.[FLAVOR_LABEL] ?? '')));
    caches.namespaces.on(each((ns) => {
      caches.flavors.list().filter((f) => f.spec.isPublic === false).forEach((f) => flavors.enqueue(keyOf(f)));
      serversWhere((s) => s.metadata.namespace === ns.metadata.name);
    }));
    caches.keyPairs.on(each((kp) => {
      keyPairs.enqueue(keyOf(kp));
      serversWhere((s) => s.metadata.namespace === kp.metadata.namespace && (s.spec.keyName === kp.metadata.name || s.spec.keyName === kp.spec.name));
    }));
    caches.serverGroups.on(each((g) => serversWhere((s) => namesGroup(s, g))));
    caches.images.on(each((img) => serversWhere((s) => s.spec.image === img.metadata.name || s.spec.image === img.metadata.uid)));
    caches.aggregates.on(each((a) => aggregates.enqueue(keyOf(a))));
    caches.nodes.on(each((n) => {
      for (const a of caches.aggregates.list()) {
        if (a.spec.hosts?.includes(n.metadata.name ?? '') || n.metadata.labels?.[memberLabel(a.metadata.name ?? '')] !== undefined) aggregates.enqueue(keyOf(a));
      }
    }));
    caches.servers.on(each((s) => servers.enqueue(keyOf(s))));
    caches.deletedServers.on((type, d) => {
      if (type !== 'delete') deletedServers.enqueue(keyOf(d));
    });
    const byOwner = each<KubeObject>((o) => {
      const owner = controllerOf(o);
      if (owner?.kind === 'Server') servers.enqueue(`${o.metadata.namespace}/${owner.name}`);
      else {
        const k = serverKeyOfLabelled(o);
        if (k) servers.enqueue(k);
      }
    });
    caches.vms.on(byOwner);
    caches.vmis.on(byOwner);
    caches.dataVolumes.on(byOwner);
    caches.migrations.on(byOwner);
    // An image being made from a server (in the images namespace) names the server by uid.
    caches.imageVolumes.on(each((dv) => {
      const s = caches.servers.byIndex('uid', dv.metadata.labels?.[SOURCE_SERVER_LABEL] ?? '')[0];
      if (s) servers.enqueue(keyOf(s));
    }));
  }

  async start(): Promise<void> {
    this.ctx.caches.start();
    await this.ctx.caches.synced();
    for (const c of this.controllers) c.start();
    this.ctx.log.info('controllers started', { controllers: this.controllers.map((c) => c.name) });
  }

  async stop(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.stop()));
    this.ctx.caches.stop();
  }
}

