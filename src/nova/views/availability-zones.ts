// Nova's os-availability-zone bodies: the zones are the Nodes' zone labels ('nova' without one). Pure.
import type { Node } from '../../kube/types.ts';
import { forcedDown, isReady, zoneOf } from '../hosts.ts';
import { heartbeat } from './services.ts';

const zonesOf = (nodes: Node[]): string[] => [...new Set(nodes.map(zoneOf))].sort();

/** GET /os-availability-zone: a zone is available while one of its hosts is ready and schedulable. */
export const availabilityZoneList = (nodes: Node[]) => ({
  availabilityZoneInfo: zonesOf(nodes).map((z) => ({ zoneName: z, zoneState: { available: nodes.some((n) => zoneOf(n) === z && isReady(n) && !n.spec?.unschedulable) }, hosts: null })),
});

/** GET /os-availability-zone/detail (admin): each zone's hosts and their compute service. */
export const availabilityZoneDetail = (nodes: Node[]) => ({
  availabilityZoneInfo: zonesOf(nodes).map((z) => ({
    zoneName: z,
    zoneState: { available: true },
    hosts: Object.fromEntries(nodes.filter((n) => zoneOf(n) === z).map((n) => [n.metadata.name, { 'nova-compute': { active: !n.spec?.unschedulable, available: isReady(n) && !forcedDown(n), updated_at: heartbeat(n) } }])),
  })),
});
