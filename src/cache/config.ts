// Kova's configuration: what the controllers and the API are told at start (environment, flags, Helm values).
import { CONTROLLER_LEASE } from '../api/group.ts';

export interface FlavorMappingConfig {
  /** pci_passthrough:alias name → KubeVirt permittedHostDevices resource name. */
  pciAliases?: Record<string, string>;
  /** Resource name of the mediated device that resources:VGPU asks for (e.g. nvidia.com/GRID_T4_1Q). */
  vgpuDeviceName?: string;
}

/** Where a leader-elected service keeps its Lease. */
export interface LeaseRef {
  namespace: string;
  name: string;
}

/** The Leases that stand for Nova's scheduler and conductor (os-services). */
export interface ServiceLeases {
  /** The kube-scheduler's (kube-system/kube-scheduler). */
  scheduler: LeaseRef;
  /** Kova's controller's (kova-controller in Kova's namespace, KOVA_NAMESPACE as the controller reads it). */
  conductor: LeaseRef;
}

export interface KovaConfig extends FlavorMappingConfig {
  /** The Leases the API shows as nova-scheduler and nova-conductor. */
  serviceLeases?: ServiceLeases;
  /** Namespace of the CDI DataSources that are Kova's images. */
  imagesNamespace: string;
  /** Network name under which pod-network addresses are shown (and the Neutron network's name). */
  networkName: string;
  /** The pod network's CIDRs, one per IP version: the Neutron subnets (KOVA_POD_CIDRS, comma-separated). */
  podCidrs: string[];
  /** The pod network's MTU, as Neutron shows it (KOVA_POD_MTU). */
  podMtu: number;
  /** Seconds a shelved server keeps its host before it is offloaded (Nova's shelved_offload_time; -1 never). */
  shelvedOffloadTimeSeconds?: number;
  /** Seconds a soft-deleted server is kept before it is reclaimed (Nova's reclaim_instance_interval; 0 = no soft delete). */
  reclaimInstanceIntervalSeconds?: number;
  /**
   * Nova's [api] enable_instance_password (default true): create, rebuild, evacuate and rescue set a
   * generated admin password in the guest and return it as adminPass. Off, they return none and set
   * one only when the request gives adminPass (docs/adr/016).
   */
  enableInstancePassword?: boolean;
  /**
   * How many deleted servers' records each project keeps, and for how long (docs/adr/022): the
   * oldest beyond the count, and any older than the age, are pruned (KOVA_DELETED_SERVERS_MAX,
   * KOVA_DELETED_SERVERS_MAX_AGE in seconds).
   */
  deletedServers?: HistoryBounds;
}

/** The bounds of the deleted servers' records of one project. */
export interface HistoryBounds {
  maxPerProject: number;
  maxAgeSeconds: number;
}

/** 1,000 records a project, for 90 days. */
export const DEFAULT_HISTORY_BOUNDS: HistoryBounds = { maxPerProject: 1000, maxAgeSeconds: 90 * 24 * 3600 };

const envInt = (name: string, dflt: number): number => {
  const v = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(v) ? v : dflt;
};

export const defaultConfig = (): KovaConfig => ({
  imagesNamespace: process.env.KOVA_IMAGES_NAMESPACE ?? 'kova-images',
  networkName: 'default',
  podCidrs: (process.env.KOVA_POD_CIDRS || '10.244.0.0/16').split(',').map((c) => c.trim()).filter(Boolean),
  podMtu: envInt('KOVA_POD_MTU', 1500),
  shelvedOffloadTimeSeconds: envInt('KOVA_SHELVED_OFFLOAD_TIME', 0),
  reclaimInstanceIntervalSeconds: envInt('KOVA_RECLAIM_INSTANCE_INTERVAL', 0),
  deletedServers: {
    maxPerProject: envInt('KOVA_DELETED_SERVERS_MAX', DEFAULT_HISTORY_BOUNDS.maxPerProject),
    maxAgeSeconds: envInt('KOVA_DELETED_SERVERS_MAX_AGE', DEFAULT_HISTORY_BOUNDS.maxAgeSeconds),
  },
  enableInstancePassword: !['false', '0', 'no', 'off'].includes((process.env.KOVA_ENABLE_INSTANCE_PASSWORD ?? '').toLowerCase()),
  serviceLeases: {
    scheduler: { namespace: 'kube-system', name: 'kube-scheduler' },
    conductor: { namespace: process.env.KOVA_NAMESPACE || 'kova-system', name: CONTROLLER_LEASE },
  },
});

