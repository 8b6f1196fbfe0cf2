// Nova's quota model, pure: the resources and their defaults, the limits a project or user has
// (its QuotaSet, else the class `default`, else Nova's default), what it uses (a counter table keyed
// by resource), and Nova's decision for a request with its 403 message. The façade and the server
// controller both decide through here (docs/adr/019).
import { USER_ANNOTATION } from '../api/labels.ts';
import type { QuotaSet, QuotaSetSpec } from '../api/quotaset.ts';
import type { Server } from '../api/server.ts';

/** Nova's quota resources, in Nova's order, with the QuotaSet field each is kept in and Nova's default. */
export const QUOTA_RESOURCES = [
  { key: 'instances', field: 'instances', dflt: 10 },
  { key: 'cores', field: 'cores', dflt: 20 },
  { key: 'ram', field: 'ramMiB', dflt: 51200 },
  { key: 'metadata_items', field: 'metadataItems', dflt: 128 },
  { key: 'key_pairs', field: 'keyPairs', dflt: 100 },
  { key: 'server_groups', field: 'serverGroups', dflt: 10 },
  { key: 'server_group_members', field: 'serverGroupMembers', dflt: 10 },
  { key: 'injected_files', field: 'injectedFiles', dflt: 5 },
  { key: 'injected_file_content_bytes', field: 'injectedFileContentBytes', dflt: 10240 },
  { key: 'injected_file_path_bytes', field: 'injectedFilePathBytes', dflt: 255 },
] as const satisfies readonly { key: string; field: keyof QuotaSetSpec; dflt: number }[];

export type QuotaKey = (typeof QUOTA_RESOURCES)[number]['key'];
/** Nova's network quotas (until 2.36): shown, never stored or enforced; Neutron owns them (-1 as Nova shows them). */
export const NETWORK_QUOTAS = { fixed_ips: -1, floating_ips: -1, security_groups: -1, security_group_rules: -1 } as const;
export type Limits = Record<QuotaKey, number>;
export type Usage = Partial<Record<QuotaKey, number>>;

/** The QuotaSet objects limits are read from: a project's, a user's, the class `default`. */
export const PROJECT_QUOTA_NAME = 'project';
export const CLASS_QUOTA_NAME = 'default';

/** Nova's defaults (the `[quota]` options). */
export const DEFAULT_LIMITS = Object.fromEntries(QUOTA_RESOURCES.map((r) => [r.key, r.dflt])) as Limits;

/** `spec` over `base`, field by field. */
export function limitsOf(spec: QuotaSetSpec | undefined, base: Limits = DEFAULT_LIMITS): Limits {
  return Object.fromEntries(QUOTA_RESOURCES.map((r) => [r.key, spec?.[r.field] ?? base[r.key]])) as Limits;
}

/** The limits in force: the class's over Nova's, the project's over those, and a user's over the project's. */
export function effectiveLimits(sets: { klass?: QuotaSet; project?: QuotaSet; user?: QuotaSet }): Limits {
  return limitsOf(sets.user?.spec, limitsOf(sets.project?.spec, limitsOf(sets.klass?.spec)));
}

/** QuotaSet spec fields for a Nova body's resources (the others left out). */
export function specOf(values: Partial<Record<string, number>>): QuotaSetSpec {
  const spec: Record<string, number> = {};
  for (const r of QUOTA_RESOURCES) if (values[r.key] !== undefined) spec[r.field] = values[r.key] as number;
  return spec as QuotaSetSpec;
}

/** A server as quota counts it: its user and its flavor's size (the larger one while a resize is in flight). */
export interface CountedServer {
  userId?: string;
  vcpus: number;
  ramMiB: number;
}

/** What a project holds, as the counters read it. */
export interface Holdings {
  servers: CountedServer[];
  keyPairs: { userId?: string }[];
  /** The project's server groups (by their creator), where the count needs them. */
  serverGroups?: { userId?: string }[];
}

const own = <T extends { userId?: string }>(xs: T[], userId: string | undefined): T[] => (userId === undefined ? xs : xs.filter((x) => x.userId === userId));

/**
 * How each resource is counted, for the project (userId undefined) or one user. A resource with no
 * counter is a per-request or per-group limit (metadata_items, injected_*, server_group_members).
 */
export const COUNTERS: Partial<Record<QuotaKey, (h: Holdings, userId?: string) => number>> = {
  instances: (h, u) => own(h.servers, u).length,
  cores: (h, u) => own(h.servers, u).reduce((a, s) => a + s.vcpus, 0),
  ram: (h, u) => own(h.servers, u).reduce((a, s) => a + s.ramMiB, 0),
  key_pairs: (h, u) => own(h.keyPairs, u).length,
  server_groups: (h, u) => own(h.serverGroups ?? [], u).length,
};

/** Usage of every counted resource. */
export function usageOf(h: Holdings, userId?: string): Usage {
  return Object.fromEntries(Object.entries(COUNTERS).map(([k, count]) => [k, count(h, userId)]));
}

/** One scope a request is checked in: the project's limits and usage, or a user's. */
export interface QuotaScope {
  limits: Limits;
  usage: Usage;
}

/** Nova's 403 for resources over quota: `Quota exceeded for cores: Requested 4, but already used 18 of 20 cores`. */
export function overQuotaMessage(overs: { key: QuotaKey; requested: number | string; used: number; limit: number }[]): string {
  const list = (f: (o: (typeof overs)[number]) => unknown) => overs.map(f).join(', ');
  const names = list((o) => o.key);
  return `Quota exceeded for ${names}: Requested ${list((o) => o.requested)}, but already used ${list((o) => o.used)} of ${list((o) => o.limit)} ${names}`;
}

/** The resources `deltas` would take over their limit in `scope`. */
function oversOf(scope: QuotaScope, deltas: Usage): { key: QuotaKey; delta: number; used: number; limit: number }[] {
  const out: { key: QuotaKey; delta: number; used: number; limit: number }[] = [];
  for (const r of QUOTA_RESOURCES) {
    const delta = deltas[r.key];
    const limit = scope.limits[r.key];
    if (!delta || delta <= 0 || limit < 0) continue;
    const used = scope.usage[r.key] ?? 0;
    if (used + delta > limit) out.push({ key: r.key, delta, used, limit });
  }
  return out;
}

/** Checks `deltas` (a resize's growth, one key pair …) in every scope: undefined, or Nova's 403 message. */
export function checkDeltas(scopes: QuotaScope[], deltas: Usage): string | undefined {
  for (const scope of scopes) {
    const overs = oversOf(scope, deltas);
    if (overs.length) return overQuotaMessage(overs.map((o) => ({ ...o, requested: o.delta })));
  }
  return undefined;
}

/**
 * Nova's rule for a create of min..max servers of one flavor: as many as fit, up to max; refused
 * (with the resources over quota at max) when fewer than min fit.
 */
export function serversThatFit(scopes: QuotaScope[], flavor: { vcpus: number; ramMiB: number }, min: number, max: number): { count: number } | { refusal: string } {
  const per: Usage = { instances: 1, cores: flavor.vcpus, ram: flavor.ramMiB };
  let fit = max;
  for (const scope of scopes) {
    for (const key of ['instances', 'cores', 'ram'] as const) {
      const limit = scope.limits[key];
      const each = per[key] ?? 0;
      if (limit < 0 || each <= 0) continue;
      fit = Math.min(fit, Math.floor(Math.max(0, limit - (scope.usage[key] ?? 0)) / each));
    }
  }
  if (fit >= min && fit > 0) return { count: fit };
  const requested: Record<string, number | string> = { instances: min === max ? max : `${min}-${max}`, cores: max * flavor.vcpus, ram: max * flavor.ramMiB };
  for (const scope of scopes) {
    const overs = oversOf(scope, { instances: max, cores: max * flavor.vcpus, ram: max * flavor.ramMiB });
    if (overs.length) return { refusal: overQuotaMessage(overs.map((o) => ({ ...o, requested: requested[o.key] ?? o.delta }))) };
  }
  return { refusal: overQuotaMessage([{ key: 'instances', requested: requested.instances ?? max, used: scopes[0]?.usage.instances ?? 0, limit: scopes[0]?.limits.instances ?? 0 }]) };
}

/** Nova's 403 for a server's metadata over the metadata_items quota. */
export function checkMetadataItems(limits: Limits, count: number): string | undefined {
  return limits.metadata_items >= 0 && count > limits.metadata_items ? `Maximum number of metadata items exceeds ${limits.metadata_items}` : undefined;
}

/** Nova's 403 for a server group over the server_groups quota. */
export const SERVER_GROUPS_EXCEEDED = 'Quota exceeded, too many server groups.';
/** Nova's 403 when a create would put more servers in a group than server_group_members allows. */
export const SERVER_GROUP_MEMBERS_EXCEEDED = 'Quota exceeded, too many servers in group';

/** Nova's 403 for a key pair over the key_pairs quota (the user's). */
export const KEY_PAIRS_EXCEEDED = 'Quota exceeded, too many key pairs.';

/**
 * Nova's check of a new limit (PUT without force): not below what is used; and a user's not above
 * the project's. A 400 message, or undefined.
 */
export function checkNewLimit(key: QuotaKey, value: number, used: number, projectLimit?: number): string | undefined {
  if (value >= 0 && value < used) return `Quota limit ${value} for ${key} must be greater than or equal to already used and reserved ${used}.`;
  if (projectLimit !== undefined && projectLimit >= 0 && (value < 0 || value > projectLimit)) return `Quota limit ${value} for ${key} must be less than or equal to ${projectLimit}.`;
  return undefined;
}

/**
 * The Server condition the controller records its quota decision in: True when the server was
 * admitted (counted), False when it is over quota and is not built (docs/adr/019).
 */
export const QUOTA_CONDITION = 'QuotaAdmitted';

const quotaCondition = (s: Server) => s.status?.conditions?.find((c) => c.type === QUOTA_CONDITION);

/** The refusal of a Server the controller found over quota (it stays ERROR, unbuilt). */
export const quotaRefusal = (s: Server): string | undefined => {
  const c = quotaCondition(s);
  return c?.status === 'False' ? c.message : undefined;
};

/** A Server the controller admitted: its condition says so, or it was built before quotas were (it has a VM name). */
export const quotaAdmitted = (s: Server): boolean => quotaCondition(s)?.status === 'True' || (!quotaCondition(s) && !!s.status?.instanceName);

/** Whether the controller has yet to decide on a Server's quota. */
export const awaitsQuotaDecision = (s: Server): boolean => !s.metadata.deletionTimestamp && !quotaCondition(s) && !s.status?.instanceName;

/**
 * A Server as quota counts it (undefined when it is not counted: being deleted, or refused): its
 * user and the larger of its current and requested flavors, so a resize in flight holds both.
 */
export function countedServer(s: Server, flavorOf: (ref: string) => { vcpus?: number; ramMiB?: number } | undefined): CountedServer | undefined {
  if (s.metadata.deletionTimestamp || quotaRefusal(s) !== undefined) return undefined;
  const now = s.status?.flavor;
  const wanted = flavorOf(s.spec.flavor);
  return {
    userId: s.metadata.annotations?.[USER_ANNOTATION],
    vcpus: Math.max(now?.vcpus ?? 0, wanted?.vcpus ?? 0),
    ramMiB: Math.max(now?.ramMiB ?? 0, wanted?.ramMiB ?? 0),
  };
}
