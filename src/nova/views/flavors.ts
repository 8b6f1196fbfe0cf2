// Nova's flavor view per microversion. Pure.
import type { Flavor } from '../../api/flavor.ts';
import { pageBody, selfAndBookmark, type Page, type ViewContext } from './links.ts';

export const flavorId = (f: Flavor): string => f.spec.id ?? f.metadata.name ?? '';

export function flavorSummary(c: ViewContext, f: Flavor): Record<string, unknown> {
  const id = flavorId(f);
  const out: Record<string, unknown> = { id, links: selfAndBookmark(c, 'flavors', id), name: f.spec.name };
  if (c.version.atLeast('2.55')) out.description = f.spec.description ?? null;
  return out;
}

export function flavorDetail(c: ViewContext, f: Flavor, showExtraSpecs = true): Record<string, unknown> {
  const v = c.version;
  const out: Record<string, unknown> = {
    ...flavorSummary(c, f),
    disk: f.spec.diskGiB ?? 0,
    'OS-FLV-EXT-DATA:ephemeral': f.spec.ephemeralGiB ?? 0,
    'os-flavor-access:is_public': f.spec.isPublic !== false,
    ram: f.spec.ramMiB,
    vcpus: f.spec.vcpus,
    // Nova showed "" for no swap until 2.75.
    swap: f.spec.swapMiB ? f.spec.swapMiB : v.atLeast('2.75') ? 0 : '',
  };
  if (!v.atLeast('2.102')) {
    out['OS-FLV-DISABLED:disabled'] = false;
    out.rxtx_factor = 1.0;
  }
  if (v.atLeast('2.61') && showExtraSpecs) out.extra_specs = f.spec.extraSpecs ?? {};
  return out;
}

/** GET /flavors and /flavors/detail, with `flavors_links` when the page is full. */
export const flavorList = (c: ViewContext, p: Page<Flavor>, detail: boolean, query: Record<string, unknown>): Record<string, unknown> =>
  pageBody(c, 'flavors', p, (f) => (detail ? flavorDetail(c, f) : flavorSummary(c, f)), { path: detail ? 'flavors/detail' : 'flavors', query, idOf: flavorId });

export const flavorShown = (c: ViewContext, f: Flavor) => ({ flavor: flavorDetail(c, f) });

export const extraSpecsView = (f: Flavor) => ({ extra_specs: f.spec.extraSpecs ?? {} });

/** One extra spec: `{key: value}`. */
export const extraSpecView = (key: string, value: string) => ({ [key]: value });

/** A private flavor's access list: the projects that may use it. */
export const flavorAccessView = (f: Flavor) => ({ flavor_access: (f.spec.projects ?? []).map((tenant_id) => ({ flavor_id: flavorId(f), tenant_id })) });
