// The shape of src/ (docs/adr/014-layers.md): each layer imports only from the layers before it, and
// the three doors onto the cluster (controllers, facade, sim) never import each other. Read from
// the import statements themselves, so a new file or import is checked the day it is written.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Layer of each top-level folder (or root file) of src/; a module may import from a lower number only, or its own folder. */
export const LAYERS: Record<string, number> = {
  'log.ts': 0,
  'metrics.ts': 0,
  'runtime-env.ts': 0,
  kube: 1,
  api: 2,
  kubevirt: 2,
  nova: 3,
  neutron: 3,
  cache: 4,
  compute: 5,
  identity: 5,
  controlplane: 5,
  controllers: 6,
  facade: 6,
  sim: 6,
  cli: 7,
};

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

/** Every relative import of a file (static, dynamic and type-only alike), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'([^']+)'/g), ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? '');
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(SRC, resolve(dirname(file), s)));
}

const top = (path: string): string => path.split('/')[0] ?? path;

/** Every file of src/ and what it imports, as paths under src/. */
const sourceGraph = (): Map<string, string[]> => new Map(files(SRC).map((f) => [relative(SRC, f), importsOf(f)]));

/** (file, imported) pairs that break the layering. */
export function violations(graph: Map<string, string[]> = sourceGraph()): string[] {
  const out: string[] = [];
  for (const [from, imports] of graph) {
    const fromTop = top(from);
    const fromLayer = LAYERS[fromTop];
    if (fromLayer === undefined) {
      out.push(`${from}: its folder has no layer in LAYERS`);
      continue;
    }
    for (const to of imports) {
      const toTop = top(to);
      if (toTop === fromTop) continue;
      const toLayer = LAYERS[toTop];
      if (toLayer === undefined) out.push(`${from} → ${to}: outside src/ or in a folder with no layer`);
      else if (toLayer > fromLayer) out.push(`${from} → ${to}: upward (${fromTop} is layer ${fromLayer}, ${toTop} is ${toLayer})`);
      else if (toLayer === fromLayer) out.push(`${from} → ${to}: sideways (${fromTop} and ${toTop} are both layer ${fromLayer})`);
    }
  }
  return out;
}

/** Cycles between files (a route importing another route that imports it back …). */
function cycles(graph: Map<string, string[]> = sourceGraph()): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') found.push([...stack.slice(stack.indexOf(m)), m].join(' → '));
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return found;
}

describe('layers of src/', () => {
  test('every import points to a lower layer (or within its own folder)', () => {
    assert.deepEqual(violations(), []);
  });

  test('no import cycle between files', () => {
    assert.deepEqual(cycles(), []);
  });

  test('the checker sees a violation and a cycle when there is one', () => {
    const bad = new Map([
      ['facade/routes/x.ts', ['controllers/server/index.ts']],
      ['nova/y.ts', ['cache/caches.ts']],
      ['kube/a.ts', ['kube/b.ts']],
      ['kube/b.ts', ['kube/a.ts']],
    ]);
    assert.deepEqual(violations(bad).map((v) => v.split(': ')[1]?.split(' ')[0]), ['sideways', 'upward']);
    assert.deepEqual(cycles(bad), ['kube/a.ts → kube/b.ts → kube/a.ts']);
    // The real imports are read: cli/main.ts starts the doors it sits above.
    assert.ok(importsOf(join(SRC, 'cli/main.ts')).some((i) => top(i) === 'controllers'));
  });
});
