// The informer caches the controllers, the API and the simulator read from: one informer per kind,
// with the indexes and look-ups (by Nova id, by name) every reader uses.
import { AGGREGATES, type Aggregate } from '../api/aggregate.ts';
import { DELETED_SERVERS, type DeletedServer } from '../api/deleted-server.ts';
import { FLAVORS, type Flavor } from '../api/flavor.ts';
import { FLAVOR_LABEL, IMAGE_ID_LABEL, PROJECT_LABEL, SERVER_LABEL, SOURCE_SERVER_LABEL } from '../api/labels.ts';
import { KEYPAIRS, type KeyPair } from '../api/keypair.ts';
import { QUOTASETS, type QuotaSet } from '../api/quotaset.ts';
import { SERVERS, type Server } from '../api/server.ts';
import { SERVER_GROUPS, type ServerGroup } from '../api/server-group.ts';
import type { KubeClient } from '../kube/client.ts';
import { LEASES, NAMESPACES, NODES, type KubeObject, type Namespace, type Node, type ResourceType } from '../kube/types.ts';
import { Informer, type InformerOptions } from '../kube/informer.ts';
import type { Logger } from '../log.ts';
import { CLUSTER_INSTANCETYPES, DATA_SOURCES, DATA_VOLUMES, INSTANCETYPES, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES, slimVirtualMachine, slimVirtualMachineInstance, type CachedVirtualMachine, type CachedVirtualMachineInstance, type DataSource, type DataVolume, type Instancetype, type VirtualMachineInstanceMigration } from '../kubevirt/types.ts';
import type { Metrics } from '../metrics.ts';
import type { KovaConfig, LeaseRef } from './config.ts';
import type { Lease } from '../nova/services.ts';
import { newestFirst } from '../nova/server-columns.ts';

/** The servers informer's kept order: Nova's default list order (`Informer.sorted`). */
export const SERVERS_NEWEST_FIRST = 'newest-first';

/** The DataVolumes informer's index of a server's volumes, by `namespace/server name`. */
export const DATA_VOLUMES_BY_SERVER = 'server';

export class Caches {
  readonly servers: Informer<Server>;
  readonly flavors: Informer<Flavor>;
  readonly keyPairs: Informer<KeyPair>;
  readonly aggregates: Informer<Aggregate>;
  readonly serverGroups: Informer<ServerGroup>;
  /** Nova's quotas: projects', users' and the class `default` (docs/adr/019). */
  readonly quotaSets: Informer<QuotaSet>;
  /** Deleted servers' records (docs/adr/022), by Nova id. */
  readonly deletedServers: Informer<DeletedServer>;
  /** Slimmed (`CachedVirtualMachine`): the controller's cache of thousands of VMs keeps what it reads. */
  readonly vms: Informer<CachedVirtualMachine>;
  /** Slimmed (`CachedVirtualMachineInstance`): status and metadata only. */
  readonly vmis: Informer<CachedVirtualMachineInstance>;
  readonly dataVolumes: Informer<DataVolume>;
  readonly migrations: Informer<VirtualMachineInstanceMigration>;
  readonly images: Informer<DataSource>;
  /** The DataVolumes of images being made from servers (createImage / createBackup). */
  readonly imageVolumes: Informer<DataVolume>;
  readonly clusterInstancetypes: Informer<Instancetype>;
  readonly instancetypes: Informer<Instancetype>;
  readonly nodes: Informer<Node>;
  readonly namespaces: Informer<Namespace>;
  /** The API's: the scheduler's and the controller's Leases (os-services). */
  readonly schedulerLease: Informer<Lease> | undefined;
  readonly conductorLease: Informer<Lease> | undefined;
  readonly imagesNamespace: string;

  /** The API needs no KubeVirt objects: it neither starts those informers nor needs RBAC for them. */
  private readonly profile: 'controller' | 'api';

  constructor(client: KubeClient, cfg: KovaConfig, log: Logger, profile: 'controller' | 'api' = 'controller') {
    this.profile = profile;
    this.imagesNamespace = cfg.imagesNamespace;
    const onError = (what: string) => (err: unknown) => log.warn('watch failed; restarting', { resource: what, err });
    const make = <T extends KubeObject>(t: ResourceType, o: Partial<InformerOptions<T>> = {}) =>
      new Informer<T>(client, t, { ...o, onError: onError(t.plural) });
    this.servers = make<Server>(SERVERS).addIndex('uid', (x) => [x.metadata.uid ?? '']).addOrder(SERVERS_NEWEST_FIRST, newestFirst);
    this.flavors = make<Flavor>(FLAVORS).addIndex('id', (f) => [f.spec.id ?? f.metadata.name ?? '']);
    this.keyPairs = make<KeyPair>(KEYPAIRS).addIndex('name', (k) => [`${k.metadata.namespace}/${k.spec.name}`]);
    this.aggregates = make<Aggregate>(AGGREGATES);
    this.serverGroups = make<ServerGroup>(SERVER_GROUPS).addIndex('uid', (g) => [g.metadata.uid ?? '']);
    this.quotaSets = make<QuotaSet>(QUOTASETS);
    this.deletedServers = make<DeletedServer>(DELETED_SERVERS).addIndex('uid', (d) => [d.spec.serverId]);
    this.vms = make<CachedVirtualMachine>(VIRTUAL_MACHINES, { labelSelector: SERVER_LABEL, transform: slimVirtualMachine });
    this.vmis = make<CachedVirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, { labelSelector: SERVER_LABEL, transform: slimVirtualMachineInstance });
    // A server's volumes by `namespace/server`: a reconcile reads its own, not a scan of the project's.
    this.dataVolumes = make<DataVolume>(DATA_VOLUMES, { labelSelector: SERVER_LABEL }).addIndex(DATA_VOLUMES_BY_SERVER, (d) => [`${d.metadata.namespace}/${d.metadata.labels?.[SERVER_LABEL] ?? ''}`]);
    this.migrations = make<VirtualMachineInstanceMigration>(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, { labelSelector: SERVER_LABEL });
    // An image is found by its uid, or by the id Kova gave it before it existed (createImage).
    this.images = make<DataSource>(DATA_SOURCES, { namespace: cfg.imagesNamespace }).addIndex('uid', (d) => [d.metadata.uid ?? '', ...(d.metadata.labels?.[IMAGE_ID_LABEL] ? [d.metadata.labels[IMAGE_ID_LABEL]] : [])]);
    this.imageVolumes = make<DataVolume>(DATA_VOLUMES, { namespace: cfg.imagesNamespace, labelSelector: SOURCE_SERVER_LABEL });
    this.clusterInstancetypes = make<Instancetype>(CLUSTER_INSTANCETYPES);
    this.instancetypes = make<Instancetype>(INSTANCETYPES, { labelSelector: FLAVOR_LABEL });
    this.nodes = make<Node>(NODES);
    this.namespaces = make<Namespace>(NAMESPACES, { labelSelector: PROJECT_LABEL });
    const lease = (ref: LeaseRef | undefined) => (ref && profile === 'api' ? make<Lease>(LEASES, { namespace: ref.namespace, fieldSelector: `metadata.name=${ref.name}` }) : undefined);
    this.schedulerLease = lease(cfg.serviceLeases?.scheduler);
    this.conductorLease = lease(cfg.serviceLeases?.conductor);
  }

  /** Every informer, for starting, stopping and metrics. */
  informers(): Informer<KubeObject>[] {
    const kubevirt: unknown[] = [this.vms, this.vmis, this.dataVolumes, this.imageVolumes, this.migrations, this.clusterInstancetypes, this.instancetypes];
    return Object.values(this).filter((v): v is Informer<KubeObject> => v instanceof Informer && (this.profile === 'controller' || !kubevirt.includes(v)));
  }

  start(): void {
    for (const i of this.informers()) i.start();
  }

  async synced(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.synced));
  }

  stop(): void {
    for (const i of this.informers()) i.stop();
  }

  /** Nova project id of a namespace: its project label's value, or else its uid. */
  projectIdOf(namespace: string): string | undefined {
    const ns = this.namespaces.get(namespace);
    if (!ns) return undefined;
    return ns.metadata.labels?.[PROJECT_LABEL] || ns.metadata.uid;
  }

  /** A project (namespace carrying the project label) by Nova project id or namespace name. */
  projectByIdOrName(ref: string): { namespace: string; id: string } | undefined {
    const ns = this.namespaces.get(ref) ?? this.namespaces.list().find((n) => (n.metadata.labels?.[PROJECT_LABEL] || n.metadata.uid) === ref);
    const name = ns?.metadata.name;
    return name ? { namespace: name, id: this.projectIdOf(name) ?? name } : undefined;
  }

  /** A Flavor by metadata.name or by Nova id. */
  flavor(ref: string): Flavor | undefined {
    return this.flavors.get(ref) ?? this.flavors.byIndex('id', ref)[0];
  }

  /** A KeyPair of `namespace` by metadata.name or by Nova name. */
  keyPair(namespace: string, ref: string): KeyPair | undefined {
    return this.keyPairs.get(ref, namespace) ?? this.keyPairs.byIndex('name', `${namespace}/${ref}`)[0];
  }

  /** A ServerGroup of `namespace` by metadata.name or Nova id. */
  serverGroup(namespace: string, ref: string): ServerGroup | undefined {
    return this.serverGroups.get(ref, namespace) ?? this.serverGroups.byIndex('uid', ref).find((g) => g.metadata.namespace === namespace);
  }

  /** An image (DataSource) by name or uid. */
  image(ref: string): DataSource | undefined {
    return this.images.get(ref, this.imagesNamespace) ?? this.images.byIndex('uid', ref)[0];
  }
}


/** Watch restarts and relists per resource, and servers by Nova status, read at each scrape. */
export function observeCaches(metrics: Metrics, caches: Caches): void {
  metrics.onScrape(() => {
    for (const i of caches.informers()) {
      metrics.syncCounter(metrics.watchRestarts, { resource: i.type.plural }, i.stats.restarts);
      metrics.syncCounter(metrics.watchRelists, { resource: i.type.plural }, i.stats.relists);
    }
    const byStatus = new Map<string, number>();
    for (const s of caches.servers.list()) byStatus.set(s.status?.status ?? 'BUILD', (byStatus.get(s.status?.status ?? 'BUILD') ?? 0) + 1);
    metrics.servers.reset();
    for (const [status, n] of byStatus) metrics.servers.set({ status }, n);
  });
}
