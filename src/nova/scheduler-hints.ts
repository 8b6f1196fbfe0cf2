// Nova's scheduler hints (POST /servers `os:scheduler_hints`) as Kova takes them: the ones the
// kube-scheduler can enforce become Server spec fields, and every other hint is refused by name,
// never dropped (docs/adr/020). Pure.
import type { ServerSpec } from '../api/server.ts';
import { badRequest } from './faults.ts';

/** Hints Nova's schema knows that Kova cannot honour, and why. */
const REFUSED: Record<string, string> = {
  query: 'JsonFilter queries over host state have no Kubernetes equivalent',
  target_cell: 'Kova has no cells',
  different_cell: 'Kova has no cells',
  build_near_host_ip: 'Kova does not place servers by the network address of a host',
  cidr: 'Kova does not place servers by the network address of a host',
};

/** The hints Kova honours, as Server spec fields. */
export type SchedulerHints = Pick<ServerSpec, 'serverGroup' | 'sameHost' | 'differentHost'>;

const ids = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).map((x) => String(x).toLowerCase());

/**
 * The request's hints (`os:scheduler_hints`, or the older `OS-SCH-HNT:scheduler_hints`, which
 * wins when both are sent), already checked against Nova's schema. A hint Kova cannot honour is a
 * 400 naming it.
 */
export function schedulerHints(body: Record<string, unknown>): SchedulerHints {
  const hints = { ...(body['os:scheduler_hints'] as Record<string, unknown> | undefined), ...(body['OS-SCH-HNT:scheduler_hints'] as Record<string, unknown> | undefined) };
  const out: SchedulerHints = {};
  for (const [key, value] of Object.entries(hints)) {
    if (key === 'group') out.serverGroup = String(value);
    else if (key === 'same_host') out.sameHost = [...new Set(ids(value))];
    else if (key === 'different_host') out.differentHost = [...new Set(ids(value))];
    else if (key in REFUSED) throw badRequest(`Scheduler hint ${key} is not supported by Kova: ${REFUSED[key]}. Kova honours group, same_host and different_host.`);
    else throw badRequest(`Scheduler hint ${key} is not known to Kova. Kova honours group, same_host and different_host.`);
  }
  return out;
}

/** The hints a server was created with, as Nova shows them (2.100 `scheduler_hints`). */
export function hintsView(spec: SchedulerHints, groupId: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (spec.serverGroup) out.group = groupId ?? spec.serverGroup;
  if (spec.sameHost?.length) out.same_host = spec.sameHost;
  if (spec.differentHost?.length) out.different_host = spec.differentHost;
  return out;
}
