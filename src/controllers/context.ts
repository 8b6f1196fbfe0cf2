// What every Kova controller shares: the client, the informer caches and the configuration.
// Controllers never call each other; they read each other's objects and status from these caches.
import { AGGREGATES, type Aggregate } from '../api/aggregate.ts';
import { FLAVORS, type Flavor } from '../api/flavor.ts';
import { PROJECT_LABEL } from '../api/group.ts';
import { KEYPAIRS, type KeyPair } from '../api/keypair.ts';
import { SERVERS, type Server } from '../api/server.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/types.ts';
import { EventRecorder } from '../kube/events.ts';
import { Informer } from '../kube/informer.ts';
import type { Logger } from '../log.ts';
import {
  CLUSTER_INSTANCETYPES, DATA_SOURCES, DATA_VOLUMES, INSTANCETYPES, NAMESPACES, NODES, VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS,
  type DataSource, type DataVolume, type Instancetype, type Namespace, type Node, type VirtualMachine, type VirtualMachineInstance,
} from '../kubevirt/types.ts';
import type { FlavorMappingConfig } from './flavor-instancetype.ts';
import type { Migration } from './server-ops.ts';

export const FLAVOR_LABEL = 'compute.kova.io/flavor';
/** The id of an image made by createImage, fixed before its DataSource exists. */
export const IMAGE_ID_LABEL = 'compute.kova.io/image-id';
/** The image's Nova name, when it differs from the DataSource's name. */
export const IMAGE_NAME_ANNOTATION = 'compute.kova.io/image-name';
/** The uid of the server an image was made from (createImage / createBackup). */
export const SOURCE_SERVER_LABEL = 'compute.kova.io/source-server';
/** createBackup: the backup type, for rotation. */
export const BACKUP_TYPE_LABEL = 'compute.kova.io/backup-type';
/** An image's id: the id it was promised under, else its DataSource's uid. */
export const imageIdOf = (d: { metadata: { uid?: string; labels?: Record<string, string> } }): string => d.metadata.labels?.[IMAGE_ID_LABEL] ?? d.metadata.uid ?? '';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kova' };

export interface KovaConfig extends FlavorMappingConfig {
  /** Namespace of the CDI DataSources that are Kova's images. */
  imagesNamespace: string;
  /** Network name under which pod-network addresses are shown. */
  networkName: string;
  /** Seconds a shelved server keeps its host before it is offloaded (Nova's shelved_offload_time; -1 never). */
  shelvedOffloadTimeSeconds?: number;
  /** Seconds a soft-deleted server is kept before it is reclaimed (Nova's reclaim_instance_interval; 0 = no soft delete). */
  reclaimInstanceIntervalSeconds?: number;
}

const envInt = (name: string, dflt: number): number => {
  const v = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(v) ? v : dflt;
};

export const defaultConfig = (): KovaConfig => ({
  imagesNamespace: process.env.KOVA_IMAGES_NAMESPACE ?? 'kova-images',
  networkName: 'default',
  shelvedOffloadTimeSeconds: envInt('KOVA_SHELVED_OFFLOAD_TIME', 0),
  reclaimInstanceIntervalSeconds: envInt('KOVA_RECLAIM_INSTANCE_INTERVAL', 0),
});

export class Caches {
  readonly servers: Informer<Server>;
  readonly flavors: Informer<Flavor>;
  readonly keyPairs: Informer<KeyPair>;
  readonly aggregates: Informer<Aggregate>;
  readonly vms: Informer<VirtualMachine>;
  readonly vmis: Informer<VirtualMachineInstance>;
  readonly dataVolumes: Informer<DataVolume>;
  readonly migrations: Informer<Migration>;
  readonly images: Informer<DataSource>;
  readonly clusterInstancetypes: Informer<Instancetype>;
  readonly instancetypes: Informer<Instancetype>;
  readonly nodes: Informer<Node>;
  readonly namespaces: Informer<Namespace>;
  private readonly imagesNamespace: string;

  /** The API needs no KubeVirt objects: it neither starts those informers nor needs RBAC for them. */
  private readonly profile: 'controller' | 'api';

  constructor(client: KubeClient, cfg: KovaConfig, log: Logger, profile: 'controller' | 'api' = 'controller') {
    this.profile = profile;
    this.imagesNamespace = cfg.imagesNamespace;
    const onError = (what: string) => (err: unknown) => log.warn('watch failed; restarting', { resource: what, err });
    const make = <T extends import('../kube/types.ts').KubeObject>(t: import('../kube/client.ts').ResourceType, o: Partial<import('../kube/informer.ts').InformerOptions> = {}) =>
      new Informer<T>(client, t, { ...o, onError: onError(t.plural) });
    this.servers = make<Server>(SERVERS).addIndex('uid', (x) => [x.metadata.uid ?? '']);
    this.flavors = make<Flavor>(FLAVORS).addIndex('id', (f) => [f.spec.id ?? f.metadata.name ?? '']);
    this.keyPairs = make<KeyPair>(KEYPAIRS).addIndex('name', (k) => [`${k.metadata.namespace}/${k.spec.name}`]);
    this.aggregates = make<Aggregate>(AGGREGATES);
    this.vms = make<VirtualMachine>(VIRTUAL_MACHINES, { labelSelector: 'compute.kova.io/server' });
    this.vmis = make<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, { labelSelector: 'compute.kova.io/server' });
    this.dataVolumes = make<DataVolume>(DATA_VOLUMES, { labelSelector: 'compute.kova.io/server' });
    this.migrations = make<Migration>(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, { labelSelector: 'compute.kova.io/server' });
    // An image is found by its uid, or by the id Kova gave it before it existed (createImage).
    this.images = make<DataSource>(DATA_SOURCES, { namespace: cfg.imagesNamespace }).addIndex('uid', (d) => [d.metadata.uid ?? '', ...(d.metadata.labels?.[IMAGE_ID_LABEL] ? [d.metadata.labels[IMAGE_ID_LABEL]] : [])]);
    this.clusterInstancetypes = make<Instancetype>(CLUSTER_INSTANCETYPES);
    this.instancetypes = make<Instancetype>(INSTANCETYPES, { labelSelector: FLAVOR_LABEL });
    this.nodes = make<Node>(NODES);
    this.namespaces = make<Namespace>(NAMESPACES, { labelSelector: PROJECT_LABEL });
  }

  /** Every informer, for starting, stopping and metrics. */
  informers(): Informer<KubeObject>[] {
    const kubevirt: unknown[] = [this.vms, this.vmis, this.dataVolumes, this.migrations, this.clusterInstancetypes, this.instancetypes];
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

  /** An image (DataSource) by name or uid. */
  image(ref: string): DataSource | undefined {
    return this.images.get(ref, this.imagesNamespace) ?? this.images.byIndex('uid', ref)[0];
  }
}

export interface Context {
  client: KubeClient;
  caches: Caches;
  cfg: KovaConfig;
  log: Logger;
  events: EventRecorder;
}
