// Nova's os-services bodies, per microversion (2.11 forced_down, 2.53 uuids). Pure.
import type { Node } from '../../kube/types.ts';
import type { Version } from '../microversion.ts';
import { computeService, serviceIdAt, type Service } from '../services.ts';

/** Why the Node's compute service is disabled, when it is. */
export const disabledReason = (n: Node): string | null => computeService(n).disabledReason;

export function serviceView(v: Version, s: Service): Record<string, unknown> {
  const out: Record<string, unknown> = {
    binary: s.binary,
    disabled_reason: s.disabledReason,
    host: s.host,
    id: serviceIdAt(v, s),
    state: s.up ? 'up' : 'down',
    status: s.disabled ? 'disabled' : 'enabled',
    updated_at: s.updatedAt,
    zone: s.zone,
  };
  if (v.atLeast('2.11')) out.forced_down = s.forcedDown;
  return out;
}

export const serviceList = (v: Version, services: Service[]) => ({ services: services.map((s) => serviceView(v, s)) });

export const serviceShown = (v: Version, s: Service) => ({ service: serviceView(v, s) });

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
