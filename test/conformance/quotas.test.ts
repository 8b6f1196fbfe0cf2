// os-quota-sets and os-quota-class-sets views against Nova's samples at every microversion folder
// (2.36 drops the network quotas, 2.50 changes the class set, 2.57 drops the personality quotas):
// the same keys and value types, and the values Nova's defaults give. The façade's answers are
// compared the same way in test/integration/quotas.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Version } from '../../src/nova/microversion.ts';
import { DEFAULT_LIMITS, limitsOf, specOf, type Limits } from '../../src/nova/quotas.ts';
import { quotaClassSetView, quotaSetView } from '../../src/nova/views/limits.ts';
import { compareShape, loadTemplate, versionsOf } from './samples.ts';

/** Nova's defaults with the request sample of that version applied. */
const updated = (area: string, file: string, v: Version): Limits => {
  const body = Object.values(loadTemplate(area, file, v.toString())?.value as Record<string, Record<string, number>>)[0]!;
  return limitsOf(specOf(body));
};

/** Each sample and the view that answers it at a version. */
const CASES: { area: string; file: string; view: (v: Version) => unknown }[] = [
  { area: 'os-quota-sets', file: 'quotas-show-get-resp.json.tpl', view: (v) => quotaSetView(v, 'fake_tenant', DEFAULT_LIMITS) },
  { area: 'os-quota-sets', file: 'quotas-show-defaults-get-resp.json.tpl', view: (v) => quotaSetView(v, 'fake_tenant', DEFAULT_LIMITS) },
  { area: 'os-quota-sets', file: 'quotas-show-detail-get-resp.json.tpl', view: (v) => quotaSetView(v, 'fake_tenant', DEFAULT_LIMITS, {}) },
  { area: 'os-quota-sets', file: 'user-quotas-show-get-resp.json.tpl', view: (v) => quotaSetView(v, 'fake_tenant', DEFAULT_LIMITS) },
  { area: 'os-quota-sets', file: 'quotas-update-post-resp.json.tpl', view: (v) => quotaSetView(v, undefined, updated('os-quota-sets', 'quotas-update-post-req.json.tpl', v)) },
  { area: 'os-quota-sets', file: 'quotas-update-force-post-resp.json.tpl', view: (v) => quotaSetView(v, undefined, updated('os-quota-sets', 'quotas-update-force-post-req.json.tpl', v)) },
  { area: 'os-quota-sets', file: 'user-quotas-update-post-resp.json.tpl', view: (v) => quotaSetView(v, undefined, updated('os-quota-sets', 'user-quotas-update-post-req.json.tpl', v)) },
  { area: 'os-quota-class-sets', file: 'quota-classes-show-get-resp.json.tpl', view: (v) => quotaClassSetView(v, 'test_class', DEFAULT_LIMITS) },
  { area: 'os-quota-class-sets', file: 'quota-classes-update-post-resp.json.tpl', view: (v) => quotaClassSetView(v, undefined, updated('os-quota-class-sets', 'quota-classes-update-post-req.json.tpl', v)) },
];

describe("quota views match Nova's samples at every microversion folder", () => {
  for (const c of CASES) {
    for (const version of versionsOf(c.area, c.file)) {
      test(`${c.area}/${c.file} @ ${version}`, () => {
        const t = loadTemplate(c.area, c.file, version);
        assert.ok(t);
        const actual = c.view(Version.of(version));
        assert.deepEqual(compareShape(actual, t.value), []);
        // The resources' values too, where the sample does not show a network quota (Kova shows those as -1, as Nova's samples do).
        const set = Object.values(t.value as Record<string, Record<string, unknown>>)[0]!;
        const mine = Object.values(actual as Record<string, Record<string, unknown>>)[0]!;
        for (const [k, want] of Object.entries(set)) if (typeof want === 'number') assert.equal(mine[k], want, `${k} @ ${version}`);
      });
    }
  }
});
