// crds/*.yaml is generated from src/api/: this fails when someone edits one without the other.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderCrds } from '../../src/api/index.ts';

const dir = join(import.meta.dirname, '..', '..', 'crds');

test('crds/ holds exactly what src/api renders (run `npm run crds` after changing src/api)', () => {
  const rendered = renderCrds();
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort(), [...rendered.keys()].sort());
  for (const [file, text] of rendered) assert.equal(readFileSync(join(dir, file), 'utf8'), text, `crds/${file} is stale`);
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
