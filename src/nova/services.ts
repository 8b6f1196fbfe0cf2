// Nova's services, as Kova has them: a nova-compute service per Node (disabled = cordoned,
// forced_down = a taint), and in the "internal" zone a nova-scheduler (the kube-scheduler) and a
// nova-conductor (Kova's controller), each up while its leader keeps its Lease. Pure.
import type { KubeObject, Node } from '../kube/types.ts';
import { DISABLED_REASON } from '../api/labels.ts';
import { forcedDown, isReady, legacyIntId, zoneOf } from './hosts.ts';
import type { Version } from './microversion.ts';

/** Nova's zone for the services that are not compute hosts. */
export const INTERNAL_ZONE = 'internal';

/** A coordination.k8s.io Lease, the fields Kova reads. */
export interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

/** One service as Nova's services table has it. */
export interface Service {
  binary: string;
  host: string;
  /** The backing object's uid: the service's id from 2.53 (an integer from it before). */
  uid: string;
  zone: string;
  disabled: boolean;
  disabledReason: string | null;
  forcedDown: boolean;
  up: boolean;
  /** The last report, as Nova's naive timestamp. */
  updatedAt: string | null;
}

/** A naive Nova timestamp (microseconds, no zone). */
const naive = (t: string | undefined): string | null => (t ? t.replace(/Z$/, '').replace(/(\.\d+)?$/, (m) => (m ? m.padEnd(7, '0').slice(0, 7) : '.000000')) : null);

/** A Node's nova-compute service. */
export function computeService(n: Node): Service {
  return {
    binary: 'nova-compute',
    host: n.metadata.name ?? '',
    uid: n.metadata.uid ?? '',
    zone: zoneOf(n),
    disabled: !!n.spec?.unschedulable,
    disabledReason: n.spec?.unschedulable ? n.metadata.annotations?.[DISABLED_REASON] ?? null : null,
    forcedDown: forcedDown(n),
    up: isReady(n) && !forcedDown(n),
    updatedAt: naive(n.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime),
  };
}

/**
 * A service whose leader holds a Lease (the kube-scheduler, Kova's controller): on the leader's
 * host (client-go's identity is "<hostname>_<id>"), up while the Lease is held and renewed within
 * its duration, at `now`.
 */
export function leaseService(binary: string, lease: Lease, now: Date): Service {
  const holder = lease.spec?.holderIdentity ?? '';
  const renewed = Date.parse(lease.spec?.renewTime ?? '');
  const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  return {
    binary,
    host: holder.split('_')[0] || (lease.metadata.name ?? ''),
    uid: lease.metadata.uid ?? '',
    zone: INTERNAL_ZONE,
    disabled: false,
    disabledReason: null,
    forcedDown: false,
    up: !!holder && !Number.isNaN(renewed) && now.getTime() - renewed <= duration,
    updatedAt: naive(lease.spec?.renewTime),
  };
}

/** A service's id at a microversion: the uid from 2.53, an integer before. */
export const serviceIdAt = (v: Version, s: Service): string | number => (v.atLeast('2.53') ? s.uid : legacyIntId(s.uid));
