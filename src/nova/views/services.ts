// Nova's os-services bodies: one nova-compute service per Node (disabled = cordoned, forced_down =
// a taint), per microversion (2.11 forced_down, 2.53 uuids). Pure.
import type { Node } from '../../kube/types.ts';
import { DISABLED_REASON } from '../../api/labels.ts';
import { forcedDown, hostIdAt, isReady, zoneOf } from '../hosts.ts';
import type { Version } from '../microversion.ts';

/** The Node's last heartbeat, as Nova's naive updated_at. */
export const heartbeat = (n: Node): string | null => n.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime?.replace(/Z$/, '.000000') ?? null;

/** Why the Node is cordoned, when it is. */
export const disabledReason = (n: Node): string | null => (n.spec?.unschedulable ? n.metadata.annotations?.[DISABLED_REASON] ?? null : null);

export function serviceView(v: Version, n: Node): Record<string, unknown> {
  const out: Record<string, unknown> = {
    binary: 'nova-compute',
    disabled_reason: disabledReason(n),
    host: n.metadata.name,
    id: hostIdAt(v, n),
    state: isReady(n) && !forcedDown(n) ? 'up' : 'down',
    status: n.spec?.unschedulable ? 'disabled' : 'enabled',
    updated_at: heartbeat(n),
    zone: zoneOf(n),
  };
  if (v.atLeast('2.11')) out.forced_down = forcedDown(n);
  return out;
}

export const serviceList = (v: Version, nodes: Node[]) => ({ services: nodes.map((n) => serviceView(v, n)) });

export const serviceShown = (v: Version, n: Node) => ({ service: serviceView(v, n) });

/** What the pre-2.53 PUT /os-services/{action} asked, which its answer repeats. */
export interface LegacyServiceUpdate {
  binary: string;
  host: string;
  disabled_reason?: string;
  forced_down?: boolean;
}

/** The answer of PUT /os-services/{enable|disable|disable-log-reason|force-down} (before 2.53). */
export function legacyServiceUpdated(action: string, b: LegacyServiceUpdate): Record<string, unknown> {
  if (action === 'disable-log-reason') return { service: { binary: b.binary, host: b.host, disabled_reason: b.disabled_reason, status: 'disabled' } };
  if (action === 'force-down') return { service: { binary: b.binary, host: b.host, forced_down: b.forced_down } };
  return { service: { binary: b.binary, host: b.host, status: action === 'enable' ? 'enabled' : 'disabled' } };
}
