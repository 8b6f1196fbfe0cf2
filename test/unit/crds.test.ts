// Generated manifests (crds/, the chart's crds/, config/rbac and the chart's user roles) come from
// src/api/: this fails when someone edits one without the other.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderCrds, renderGenerated } from '../../src/api/index.ts';

const root = join(import.meta.dirname, '..', '..');

test('every generated file holds exactly what src/api renders (run `npm run crds` after changing src/api)', () => {
  for (const [path, text] of renderGenerated()) assert.equal(readFileSync(join(root, path), 'utf8'), text, `${path} is stale`);
  const crdFiles = [...renderCrds().keys()].sort();
  assert.deepEqual(readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort(), crdFiles);
  assert.deepEqual(readdirSync(join(root, 'charts', 'kova', 'crds')).sort(), crdFiles);
});

test('every CRD has a status subresource, the kova category, short names and printer columns', () => {
  for (const text of renderCrds().values()) {
    const crd = parse(text) as { spec: { names: { categories: string[]; shortNames: string[] }; versions: { subresources: unknown; additionalPrinterColumns: unknown[] }[] } };
    assert.deepEqual(crd.spec.names.categories, ['kova']);
    assert.ok(crd.spec.names.shortNames.length > 0);
    assert.deepEqual(crd.spec.versions[0]?.subresources, { status: {} });
    assert.ok((crd.spec.versions[0]?.additionalPrinterColumns.length ?? 0) >= 4);
  }
});
