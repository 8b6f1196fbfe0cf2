// Nova's os-availability-zone bodies, from the services (nova/services.ts): a zone is available
// while it has an enabled service; the list hides the "internal" zone, the detail shows each
// available zone's hosts and their services. Pure.
import { INTERNAL_ZONE, type Service } from '../services.ts';

/** Nova's available zones (with an enabled service) and not available ones (only disabled services), each sorted. */
function zones(services: Service[]): { available: string[]; unavailable: string[] } {
  const available = [...new Set(services.filter((s) => !s.disabled).map((s) => s.zone))].sort();
  const unavailable = [...new Set(services.filter((s) => s.disabled && !available.includes(s.zone)).map((s) => s.zone))].sort();
  return { available, unavailable };
}

/** GET /os-availability-zone. */
export function availabilityZoneList(services: Service[]): Record<string, unknown> {
  const { available, unavailable } = zones(services);
  const entry = (available: boolean) => (z: string) => ({ zoneName: z, zoneState: { available }, hosts: null });
  return { availabilityZoneInfo: [...available.filter((z) => z !== INTERNAL_ZONE).map(entry(true)), ...unavailable.filter((z) => z !== INTERNAL_ZONE).map(entry(false))] };
}

/** GET /os-availability-zone/detail (admin): each available zone's hosts and their enabled services. */
export function availabilityZoneDetail(services: Service[]): Record<string, unknown> {
  const { available, unavailable } = zones(services);
  return {
    availabilityZoneInfo: [
      ...available.map((z) => {
        const hosts: Record<string, Record<string, unknown>> = {};
        for (const s of services.filter((x) => x.zone === z && !x.disabled)) (hosts[s.host] ??= {})[s.binary] = { available: s.up, active: true, updated_at: s.updatedAt };
        return { zoneName: z, zoneState: { available: true }, hosts };
      }),
      ...unavailable.map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
    ],
  };
}
