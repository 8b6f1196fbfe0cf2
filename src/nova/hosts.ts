// Hosts as Nova sees them: a Kubernetes Node is a compute host (nova-compute service and
// hypervisor). Whether it is up, forced down or in maintenance, and its availability zone. Pure.
import { FORCED_DOWN_TAINT, ZONE_LABEL } from '../api/labels.ts';
import type { Node } from '../kube/types.ts';
import type { Version } from './microversion.ts';

/** The zone of a host with no zone label (Nova's default_availability_zone). */
export const DEFAULT_ZONE = 'nova';

export const zoneOf = (n: Node): string => n.metadata.labels?.[ZONE_LABEL] || DEFAULT_ZONE;

/** The kubelet reports the Node Ready. */
export const isReady = (n: Node): boolean => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** An admin forced the compute service down (os-services forced_down): a taint on the Node. */
export const forcedDown = (n: Node): boolean => !!n.spec?.taints?.some((t) => t.key === FORCED_DOWN_TAINT);

/**
 * A server's host_status (2.16), as Nova's compute API works it out from its host's compute
 * service: '' when unplaced or the service is gone, DOWN when forced down, MAINTENANCE when
 * disabled (cordoned), UP when it reports in, else UNKNOWN.
 */
export function hostStatus(node: Node | undefined): 'UP' | 'DOWN' | 'MAINTENANCE' | 'UNKNOWN' | '' {
  if (!node) return '';
  if (forcedDown(node)) return 'DOWN';
  if (node.spec?.unschedulable) return 'MAINTENANCE';
  return isReady(node) ? 'UP' : 'UNKNOWN';
}

/** Nova's integer service and hypervisor ids (before 2.53), from a Node's uid. */
export const legacyIntId = (uid: string): number => Number.parseInt(uid.replace(/-/g, '').slice(0, 7), 16);

/** A host's service or hypervisor id at a microversion: the Node's uid from 2.53, an integer before. */
export const hostIdAt = (v: Version, n: Node): string | number | undefined => (v.atLeast('2.53') ? n.metadata.uid : legacyIntId(n.metadata.uid ?? ''));
