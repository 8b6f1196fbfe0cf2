import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { MAX_VERSION } from '../../src/nova/microversion.ts';
import { NOVA_VERSION, novaSamplesDir } from '../tools/nova-samples.ts';
import { compareShape, compareVersions, fillTemplate, formatTable, isWildcard, loadTemplate, parsePathPattern, parseTemplate, samplesRoot, versionsOf, Wildcard, type CompareOptions, type Mismatch } from './samples.ts';

// ---- helpers -------------------------------------------------------------------------------

/** A plausible concrete value for each placeholder name seen in the templates. */
function plausible(name: string): string {
  if (name === 'id' || name.includes('uuid') || name.endsWith('_id')) return '3f1b2a4e-5c6d-4e7f-8a9b-0c1d2e3f4a5b';
  if (name === 'isotime') return '2026-01-02T03:04:05Z';
  if (name.startsWith('strtime')) return '2026-01-02T03:04:05.000000';
  if (name === 'versioned_compute_endpoint') return 'http://kova.test/v2.1';
  if (name === 'compute_endpoint') return 'http://kova.test';
  if (name === 'ip') return '192.168.0.3';
  return `${name}-value`;
}

const NUMERIC = new Set(['int', 'port', 'tls_port', 'hypervisor_id', 'aggregate_id']);
const BOOLEAN = new Set(['preserve_ephemeral', 'forced_down']);

/** Fill a parsed template with concrete JSON values (then round-trip through JSON). */
function fill(template: unknown): unknown {
  const filled = fillTemplate(template, (w) => {
    if (w.kind === 'string') return w.fill(plausible);
    const name = w.names[0] ?? '';
    if (NUMERIC.has(name)) return 42;
    if (BOOLEAN.has(name)) return true;
    return plausible(name);
  });
  return JSON.parse(JSON.stringify(filled));
}

function load(area: string, file: string, version: string): unknown {
  const t = loadTemplate(area, file, version);
  assert.ok(t, `${area}/${file} @ ${version} should exist`);
  return t.value;
}

/** A filled copy of a template, as a mutable JSON object. */
function doc(area: string, file: string, version: string): Record<string, any> {
  return fill(load(area, file, version)) as Record<string, any>;
}

function allTemplateFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(samplesRoot(), p));
    }
  };
  walk(samplesRoot());
  return out;
}

/** KOVA_NOVA_SAMPLES as this run was started with. */
const RUN_OVERRIDE = process.env['KOVA_NOVA_SAMPLES'] || undefined;

function withEnv(value: string | undefined, fn: () => void): void {
  const saved = process.env['KOVA_NOVA_SAMPLES'];
  if (value === undefined) delete process.env['KOVA_NOVA_SAMPLES'];
  else process.env['KOVA_NOVA_SAMPLES'] = value;
  try {
    fn();
  } finally {
    if (saved === undefined) delete process.env['KOVA_NOVA_SAMPLES'];
    else process.env['KOVA_NOVA_SAMPLES'] = saved;
  }
}

// ---- samplesRoot -----------------------------------------------------------------------------

describe('samplesRoot', () => {
  test('defaults to the cached templates of the pinned Nova release', () => {
    withEnv(undefined, () => {
      const root = samplesRoot();
      const cache = process.env['KOVA_CACHE'] ?? join(homedir(), '.cache', 'kova');
      assert.equal(root, join(cache, `nova-${NOVA_VERSION}`, 'api_samples'));
      assert.equal(root, novaSamplesDir());
      // the test set-up fetched them (it skips the fetch when this run names its own copy)
      if (RUN_OVERRIDE === undefined) assert.ok(existsSync(join(root, 'servers', 'server-get-resp.json.tpl')));
    });
  });

  test('KOVA_NOVA_SAMPLES overrides it, and lookups follow', () => {
    const servers = join(samplesRoot(), 'servers');
    withEnv('/nonexistent/kova-samples', () => {
      assert.equal(samplesRoot(), '/nonexistent/kova-samples');
      assert.equal(loadTemplate('servers', 'server-get-resp.json.tpl', '2.1'), undefined);
      assert.deepEqual(versionsOf('servers', 'server-get-resp.json.tpl'), []);
    });
    withEnv(servers, () => {
      // with the root moved one level down, "v2.47" is an area-less folder
      assert.equal(loadTemplate('', 'server-get-resp.json.tpl', '2.50')?.folder, 'v2.47');
    });
  });

  test("the newest microversion folder in the templates is Kova's maximum", () => {
    const newest = allTemplateFiles()
      .flatMap((f) => f.split('/').flatMap((part) => (/^v\d+\.\d+$/.test(part) ? [part.slice(1)] : [])))
      .sort(compareVersions)
      .at(-1);
    assert.equal(newest, MAX_VERSION);
  });
});

// ---- parseTemplate ---------------------------------------------------------------------------

describe('parseTemplate', () => {
  test('a string that is only a placeholder becomes a bare string wildcard', () => {
    const v = parseTemplate('{"id": "%(uuid)s"}') as { id: unknown };
    assert.ok(isWildcard(v.id));
    assert.equal(v.id.kind, 'string');
    assert.deepEqual(v.id.names, ['uuid']);
    assert.deepEqual(v.id.literals, ['', '']);
    assert.equal(v.id.isBare, true);
    assert.ok(v.id.pattern?.test('anything at all'));
  });

  test('placeholders inside a string keep the literal parts', () => {
    const v = parseTemplate('{"href": "%(compute_endpoint)s/servers/%(uuid)s"}') as { href: Wildcard };
    assert.ok(v.href instanceof Wildcard);
    assert.equal(v.href.kind, 'string');
    assert.equal(v.href.isBare, false);
    assert.deepEqual(v.href.names, ['compute_endpoint', 'uuid']);
    assert.deepEqual(v.href.literals, ['', '/servers/', '']);
    assert.equal(v.href.source, '%(compute_endpoint)s/servers/%(uuid)s');
    assert.ok(v.href.pattern?.test('http://kova.test/servers/abc'));
    assert.ok(!v.href.pattern?.test('http://kova.test/flavors/abc'));
    assert.equal(v.href.fill((n) => `<${n}>`), '<compute_endpoint>/servers/<uuid>');
  });

  test('unquoted placeholders become scalar wildcards', () => {
    const v = parseTemplate('{"port": %(port)s, "list": [%(int)s, 1], "s": "%(x)s"}') as Record<string, any>;
    assert.ok(isWildcard(v['port']));
    assert.equal(v['port'].kind, 'scalar');
    assert.equal(v['port'].pattern, undefined);
    assert.deepEqual(v['port'].names, ['port']);
    assert.equal(v['list'][0].kind, 'scalar');
    assert.equal(v['list'][1], 1);
    assert.equal(v['s'].kind, 'string');
  });

  test('%% is a literal percent sign (Python formatting)', () => {
    const v = parseTemplate('{"url": "a?path=%%3Ftoken%%3D%(uuid)s", "plain": "100%%"}') as Record<string, any>;
    assert.deepEqual(v['url'].literals, ['a?path=%3Ftoken%3D', '']);
    assert.ok(v['url'].pattern.test('a?path=%3Ftoken%3Dxyz'));
    assert.equal(v['plain'], '100%');
  });

  test('quotes and escapes inside strings do not confuse the scanner', () => {
    const v = parseTemplate('{"a": "say \\"%(x)s\\"", "b": "back\\\\", "c": %(y)s}') as Record<string, any>;
    assert.equal(v['a'].kind, 'string');
    assert.deepEqual(v['a'].literals, ['say "', '"']);
    assert.equal(v['b'], 'back\\');
    assert.equal(v['c'].kind, 'scalar');
  });

  test('placeholder object keys are kept as written; empty text is {}; invalid JSON throws', () => {
    assert.deepEqual(Object.keys(parseTemplate('{"%(action)s" : null}') as object), ['%(action)s']);
    assert.deepEqual(parseTemplate(''), {});
    assert.deepEqual(parseTemplate('  \n'), {});
    assert.throws(() => parseTemplate("{'a': 1}"), SyntaxError);
    assert.throws(() => parseTemplate('{"a": %(x)s'), SyntaxError);
  });

  test('a __proto__ key stays an ordinary own key', () => {
    const v = parseTemplate('{"__proto__": {"polluted": 1}}') as Record<string, unknown>;
    assert.ok(Object.hasOwn(v, '__proto__'));
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  test('every real template parses, except the one single-quoted file', () => {
    const files = allTemplateFiles();
    assert.ok(files.length >= 700, `expected ~709 templates, found ${files.length}`);
    const failed: string[] = [];
    let scalars = 0;
    const count = (v: unknown): void => {
      if (isWildcard(v)) scalars += v.kind === 'scalar' ? 1 : 0;
      else if (Array.isArray(v)) v.forEach(count);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(count);
    };
    for (const f of files) {
      try {
        count(parseTemplate(readFileSync(join(samplesRoot(), f), 'utf8')));
      } catch {
        failed.push(f);
      }
    }
    assert.deepEqual(failed, ['os-admin-actions/admin-actions-reset-state.json.tpl']);
    // 36 unquoted placeholders, plus 5 quoted "%(int:…)s" ones that Nova's tests turn into numbers.
    assert.equal(scalars, 41);
    assert.throws(() => loadTemplate('os-admin-actions', 'admin-actions-reset-state.json.tpl', '2.1'), /cannot parse template .*admin-actions-reset-state/);
  });

  test('real template: images/image-get-resp has an unquoted size and string hrefs', () => {
    const v = load('images', 'image-get-resp.json.tpl', '2.1') as { image: Record<string, any> };
    assert.equal(v.image['OS-EXT-IMG-SIZE:size'].kind, 'scalar');
    assert.equal(v.image['minDisk'], 0);
    assert.equal(v.image['links'][0].href.kind, 'string');
  });
});

// ---- loadTemplate / versionsOf ---------------------------------------------------------------

describe('loadTemplate', () => {
  const serverGet = (v: string): string | undefined => loadTemplate('servers', 'server-get-resp.json.tpl', v)?.folder;

  test('picks the highest vX.Y folder <= the requested microversion (servers/server-get-resp)', () => {
    const expected: [string, string][] = [
      ['2.1', ''],
      ['2.2', ''],
      ['2.3', 'v2.3'],
      ['2.8', 'v2.3'],
      ['2.9', 'v2.9'],
      ['2.10', 'v2.9'], // numeric: 2.10 > 2.9, and there is no v2.10
      ['2.16', 'v2.16'],
      ['2.46', 'v2.19'],
      ['2.47', 'v2.47'],
      ['2.48', 'v2.47'],
      ['2.99', 'v2.98'],
      ['2.100', 'v2.100'],
      ['2.104', 'v2.100'],
    ];
    assert.deepEqual(
      expected.map(([v]) => [v, serverGet(v)]),
      expected,
    );
  });

  test('returns path, folder and version, and the content differs as Nova says', () => {
    const t46 = loadTemplate('servers', 'server-get-resp.json.tpl', '2.46');
    const t47 = loadTemplate('servers', 'server-get-resp.json.tpl', '2.47');
    assert.ok(t46 && t47);
    assert.equal(t46.path, join(samplesRoot(), 'servers', 'v2.19', 'server-get-resp.json.tpl'));
    assert.equal(t46.version, '2.19');
    assert.equal(t47.version, '2.47');
    const f46 = (t46.value as any).server.flavor;
    const f47 = (t47.value as any).server.flavor;
    // 2.47 embeds the flavor instead of linking to it
    assert.deepEqual(Object.keys(f46).sort(), ['id', 'links']);
    assert.ok('original_name' in f47 && !('id' in f47));
    const base = loadTemplate('servers', 'server-get-resp.json.tpl', '2.1');
    assert.equal(base?.folder, '');
    assert.equal(base?.version, '2.1');
    assert.equal(base?.path, join(samplesRoot(), 'servers', 'server-get-resp.json.tpl'));
  });

  test('flavors/flavor-get-resp', () => {
    const f = (v: string): string | undefined => loadTemplate('flavors', 'flavor-get-resp.json.tpl', v)?.folder;
    assert.deepEqual(
      ['2.1', '2.54', '2.55', '2.60', '2.61', '2.74', '2.75', '2.101', '2.102', '2.104'].map(f),
      ['', '', 'v2.55', 'v2.55', 'v2.61', 'v2.61', 'v2.75', 'v2.75', 'v2.102', 'v2.102'],
    );
    // swap was "" up to 2.74 and an integer from 2.75
    assert.equal((load('flavors', 'flavor-get-resp.json.tpl', '2.1') as any).flavor.swap, '');
    assert.equal((load('flavors', 'flavor-get-resp.json.tpl', '2.75') as any).flavor.swap, 0);
  });

  test('files that only exist from some microversion on; unknown files and areas', () => {
    assert.equal(loadTemplate('os-remote-consoles', 'create-vnc-console-resp.json.tpl', '2.5'), undefined);
    assert.equal(loadTemplate('os-remote-consoles', 'create-vnc-console-resp.json.tpl', '2.6')?.folder, 'v2.6');
    assert.equal(loadTemplate('os-remote-consoles', 'create-vnc-console-resp.json.tpl', '2.104')?.folder, 'v2.6');
    assert.equal(loadTemplate('servers', 'no-such-file.json.tpl', '2.1'), undefined);
    assert.equal(loadTemplate('no-such-area', 'server-get-resp.json.tpl', '2.1'), undefined);
    // area '' = the files at the top of the templates folder
    assert.equal(loadTemplate('', 'extensions-list-resp.json.tpl', '2.1')?.folder, '');
    // the empty request template is {}
    assert.deepEqual(load('os-certificates', 'certificate-create-req.json.tpl', '2.1'), {});
  });

  test('rejects malformed microversions', () => {
    for (const bad of ['2', 'v2.1', '2.1.1', 'latest', '']) {
      assert.throws(() => loadTemplate('servers', 'server-get-resp.json.tpl', bad), /not a microversion/, bad);
    }
  });
});

describe('versionsOf / compareVersions', () => {
  test('compareVersions is numeric', () => {
    assert.deepEqual(['2.100', '2.10', '2.9', '2.1', '3.0', '2.2'].sort(compareVersions), ['2.1', '2.2', '2.9', '2.10', '2.100', '3.0']);
  });

  test('servers/server-get-resp', () => {
    assert.deepEqual(versionsOf('servers', 'server-get-resp.json.tpl'), [
      '2.1', '2.3', '2.9', '2.16', '2.19', '2.47', '2.52', '2.63', '2.69', '2.71', '2.73', '2.90', '2.94', '2.96', '2.98', '2.100',
    ]);
  });

  test('flavors, a versioned-only file, and unknowns', () => {
    assert.deepEqual(versionsOf('flavors', 'flavor-get-resp.json.tpl'), ['2.1', '2.55', '2.61', '2.75', '2.102']);
    assert.deepEqual(versionsOf('os-remote-consoles', 'create-vnc-console-resp.json.tpl'), ['2.6']);
    assert.deepEqual(versionsOf('servers', 'no-such-file.json.tpl'), []);
    assert.deepEqual(versionsOf('no-such-area', 'x.json.tpl'), []);
  });

  test('agrees with loadTemplate: each listed version is where the template switches', () => {
    for (const [area, file] of [
      ['servers', 'server-get-resp.json.tpl'],
      ['servers', 'servers-details-resp.json.tpl'],
      ['flavors', 'flavors-detail-resp.json.tpl'],
      ['os-keypairs', 'keypairs-get-resp.json.tpl'],
    ] as const) {
      const versions = versionsOf(area, file);
      assert.ok(versions.length > 0, `${area}/${file}`);
      versions.forEach((v, i) => {
        assert.equal(loadTemplate(area, file, v)?.version, v, `${area}/${file} @ ${v}`);
        const [maj, min] = v.split('.').map(Number) as [number, number];
        if (i > 0) assert.equal(loadTemplate(area, file, `${maj}.${min - 1}`)?.version, versions[i - 1], `${area}/${file} just below ${v}`);
      });
      assert.equal(loadTemplate(area, file, '2.104')?.version, versions.at(-1));
    }
  });
});

// ---- compareShape ----------------------------------------------------------------------------

describe('compareShape', () => {
  const SERVER = ['servers', 'server-get-resp.json.tpl'] as const;

  test('a document filled from the template matches it (several templates and versions)', () => {
    for (const [area, file, v] of [
      [...SERVER, '2.1'],
      [...SERVER, '2.46'],
      [...SERVER, '2.47'],
      [...SERVER, '2.100'],
      ['servers', 'servers-details-resp.json.tpl', '2.100'],
      ['flavors', 'flavor-get-resp.json.tpl', '2.1'],
      ['flavors', 'flavor-get-resp.json.tpl', '2.75'],
      ['os-keypairs', 'keypairs-get-resp.json.tpl', '2.1'],
      ['os-aggregates', 'aggregate-post-resp.json.tpl', '2.81'],
    ] as const) {
      const filled = doc(area, file, v);
      assert.equal(JSON.stringify(filled).includes('%('), false, 'no placeholders left');
      assert.deepEqual(compareShape(filled, load(area, file, v)), [], `${area}/${file} @ ${v}`);
    }
  });

  test('removing a key gives exactly one "missing key"', () => {
    const d = doc(...SERVER, '2.47');
    delete d['server'].name;
    assert.deepEqual(compareShape(d, load(...SERVER, '2.47')), [{ path: '$.server.name', problem: 'missing key' }]);
  });

  test('removing a nested key inside an array element reports that element', () => {
    const d = doc(...SERVER, '2.1');
    delete d['server'].links[1].rel;
    assert.deepEqual(compareShape(d, load(...SERVER, '2.1')), [{ path: '$.server.links[1].rel', problem: 'missing key' }]);
  });

  test('adding a key gives exactly one "unexpected key"', () => {
    const d = doc(...SERVER, '2.47');
    d['server']['OS-EXT-KOVA:extra'] = 1;
    d['server'].flavor.id = '1';
    // template keys are walked first (in template order), then the object's extra keys
    assert.deepEqual(compareShape(d, load(...SERVER, '2.47')), [
      { path: '$.server.flavor.id', problem: 'unexpected key' },
      { path: '$.server["OS-EXT-KOVA:extra"]', problem: 'unexpected key' },
    ]);
  });

  test('changing a type gives exactly one type mismatch', () => {
    const t = load(...SERVER, '2.1');
    const cases: [(d: Record<string, any>) => void, Mismatch][] = [
      [(d) => (d['server']['OS-EXT-STS:power_state'] = '1'), { path: '$.server["OS-EXT-STS:power_state"]', problem: 'expected number, got string' }],
      [(d) => (d['server'].status = null), { path: '$.server.status', problem: 'expected string, got null' }],
      [(d) => (d['server'].hostId = null), { path: '$.server.hostId', problem: 'expected string, got null' }],
      [(d) => (d['server'].id = 7), { path: '$.server.id', problem: 'expected string, got number' }],
      [(d) => (d['server'].links = {}), { path: '$.server.links', problem: 'expected array, got object' }],
      [(d) => (d['server'].metadata = []), { path: '$.server.metadata', problem: 'expected object, got array' }],
      [(d) => (d['server'].links[1].rel = 5), { path: '$.server.links[1].rel', problem: 'expected string, got number' }],
      [(d) => (d['server'].addresses.private[0].version = '4'), { path: '$.server.addresses.private[0].version', problem: 'expected number, got string' }],
    ];
    for (const [mutate, mismatch] of cases) {
      const d = doc(...SERVER, '2.1');
      mutate(d);
      assert.deepEqual(compareShape(d, t), [mismatch]);
    }
  });

  test('several problems are all reported, each with its own path', () => {
    const d = doc(...SERVER, '2.1');
    delete d['server'].name;
    delete d['server'].status;
    d['server'].foo = 1;
    d['server'].progress = 'zero';
    assert.deepEqual(
      compareShape(d, load(...SERVER, '2.1')).sort((a, b) => a.path.localeCompare(b.path)),
      [
        { path: '$.server.foo', problem: 'unexpected key' },
        { path: '$.server.name', problem: 'missing key' },
        { path: '$.server.progress', problem: 'expected number, got string' },
        { path: '$.server.status', problem: 'missing key' },
      ],
    );
  });

  test('null in the template accepts null, scalars, objects and arrays', () => {
    const t = load(...SERVER, '2.100');
    for (const value of [null, 'mykey', 3, true, { a: 1 }, ['cert-id']]) {
      const d = doc(...SERVER, '2.100');
      d['server'].key_name = value;
      d['server'].trusted_image_certificates = value;
      assert.deepEqual(compareShape(d, t), [], JSON.stringify(value));
    }
  });

  test('a scalar wildcard accepts string/number/boolean/null, not objects or arrays', () => {
    const t = load('images', 'image-get-resp.json.tpl', '2.1');
    for (const size of [0, 12345, '12345', true, null]) {
      const d = doc('images', 'image-get-resp.json.tpl', '2.1');
      d['image']['OS-EXT-IMG-SIZE:size'] = size;
      assert.deepEqual(compareShape(d, t, { arrayElements: 'any' }), [], JSON.stringify(size));
    }
    const d = doc('images', 'image-get-resp.json.tpl', '2.1');
    d['image']['OS-EXT-IMG-SIZE:size'] = { bytes: 1 };
    assert.deepEqual(compareShape(d, t, { arrayElements: 'any' }), [{ path: '$.image["OS-EXT-IMG-SIZE:size"]', problem: 'expected scalar, got object' }]);
  });

  test('integer vs float does not matter', () => {
    const t = load('flavors', 'flavor-get-resp.json.tpl', '2.1'); // rxtx_factor: 1.0
    for (const r of [1, 1.5, 0]) {
      const d = doc('flavors', 'flavor-get-resp.json.tpl', '2.1');
      d['flavor'].rxtx_factor = r;
      d['flavor'].ram = 512.25;
      assert.deepEqual(compareShape(d, t), []);
    }
  });

  test('arrays: empty actual arrays match, empty template arrays accept anything, every element is checked', () => {
    const t = load(...SERVER, '2.100'); // tags: [], server_groups: []
    const d = doc(...SERVER, '2.100');
    d['server'].links = [];
    d['server'].security_groups = [];
    d['server'].tags = ['a', 'b'];
    d['server'].server_groups = [{ id: 'x' }, 3];
    assert.deepEqual(compareShape(d, t), []);
    const d2 = doc(...SERVER, '2.100');
    d2['server']['os-extended-volumes:volumes_attached'].push({ id: 'v3', delete_on_termination: 'no' }, { id: 'v4' });
    assert.deepEqual(compareShape(d2, t), [
      { path: '$.server["os-extended-volumes:volumes_attached"][2].delete_on_termination', problem: 'expected boolean, got string' },
      { path: '$.server["os-extended-volumes:volumes_attached"][3].delete_on_termination', problem: 'missing key' },
    ]);
  });

  test('flavor 2.1 vs 2.75: the same document fits one and not the other', () => {
    const d75 = doc('flavors', 'flavor-get-resp.json.tpl', '2.75');
    assert.deepEqual(compareShape(d75, load('flavors', 'flavor-get-resp.json.tpl', '2.75')), []);
    assert.deepEqual(compareShape(d75, load('flavors', 'flavor-get-resp.json.tpl', '2.1')), [
      { path: '$.flavor.swap', problem: 'expected string, got number' },
      { path: '$.flavor.description', problem: 'unexpected key' },
      { path: '$.flavor.extra_specs', problem: 'unexpected key' },
    ]);
    const d1 = doc('flavors', 'flavor-get-resp.json.tpl', '2.1');
    assert.deepEqual(compareShape(d1, load('flavors', 'flavor-get-resp.json.tpl', '2.75')), [
      { path: '$.flavor.swap', problem: 'expected number, got string' },
      { path: '$.flavor.description', problem: 'missing key' },
      { path: '$.flavor.extra_specs', problem: 'missing key' },
    ]);
  });

  test('freeKeys: metadata keys are data, only value types are checked', () => {
    const t = load(...SERVER, '2.1'); // metadata: {"My Server Name": "Apache1"}
    const d = doc(...SERVER, '2.1');
    d['server'].metadata = { role: 'web', 'env.name': 'prod' };
    assert.deepEqual(compareShape(d, t), [
      { path: '$.server.metadata["My Server Name"]', problem: 'missing key' },
      { path: '$.server.metadata.role', problem: 'unexpected key' },
      { path: '$.server.metadata["env.name"]', problem: 'unexpected key' },
    ]);
    const opts: CompareOptions = { freeKeys: ['$.server.metadata'] };
    assert.deepEqual(compareShape(d, t, opts), []);
    d['server'].metadata = {};
    assert.deepEqual(compareShape(d, t, opts), []);
    d['server'].metadata = { role: 'web', count: 3 };
    assert.deepEqual(compareShape(d, t, opts), [{ path: '$.server.metadata.count', problem: 'expected string, got number' }]);
    d['server'].metadata = ['web'];
    assert.deepEqual(compareShape(d, t, opts), [{ path: '$.server.metadata', problem: 'expected object, got array' }]);
  });

  test('freeKeys: addresses (values are arrays), extra_specs (empty template), list paths with *', () => {
    const t = load(...SERVER, '2.100');
    const d = doc(...SERVER, '2.100');
    const addr = d['server'].addresses.private[0];
    d['server'].addresses = { 'net-a': [addr, addr], 'net-b': [] };
    d['server'].flavor.extra_specs = { 'hw:cpu_policy': 'dedicated', 'hw:numa_nodes': 2 };
    const opts = { freeKeys: ['$.server.addresses', '$.server.flavor.extra_specs'] };
    assert.deepEqual(compareShape(d, t, opts), []);
    d['server'].addresses['net-b'] = [{ ...addr, version: 'v4' }];
    assert.deepEqual(compareShape(d, t, opts), [{ path: '$.server.addresses["net-b"][0].version', problem: 'expected number, got string' }]);

    const tl = load('servers', 'servers-details-resp.json.tpl', '2.1');
    const dl = doc('servers', 'servers-details-resp.json.tpl', '2.1');
    const first = dl['servers'][0];
    dl['servers'] = [
      { ...first, metadata: { a: 'b' } },
      { ...first, metadata: {} },
    ];
    assert.deepEqual(compareShape(dl, tl), [
      { path: '$.servers[0].metadata["My Server Name"]', problem: 'missing key' },
      { path: '$.servers[0].metadata.a', problem: 'unexpected key' },
      { path: '$.servers[1].metadata["My Server Name"]', problem: 'missing key' },
    ]);
    assert.deepEqual(compareShape(dl, tl, { freeKeys: ['$.servers[*].metadata'] }), []);
    assert.deepEqual(compareShape(dl, tl, { freeKeys: ['$.*.*.metadata'] }), []);
    assert.deepEqual(compareShape(dl, tl, { freeKeys: ['$.servers[1].metadata'] }), [
      { path: '$.servers[0].metadata["My Server Name"]', problem: 'missing key' },
      { path: '$.servers[0].metadata.a', problem: 'unexpected key' },
    ]);
  });

  test('freeKeys with * as any key: availability-zone hosts', () => {
    const t = load('os-availability-zone', 'availability-zone-detail-resp.json.tpl', '2.1');
    const d = fill(t) as Record<string, any>;
    // first-element rule: the second zone's hosts differ from the first zone's
    assert.deepEqual(compareShape(d, t), [
      { path: '$.availabilityZoneInfo[1].hosts.conductor', problem: 'missing key' },
      { path: '$.availabilityZoneInfo[1].hosts.scheduler', problem: 'missing key' },
      { path: '$.availabilityZoneInfo[1].hosts.compute', problem: 'unexpected key' },
    ]);
    assert.deepEqual(compareShape(d, t, { freeKeys: ['$.availabilityZoneInfo[*].hosts', '$.availabilityZoneInfo[*].hosts.*'] }), []);
  });

  test('nullable: listed paths may be null where the template has a value', () => {
    const t = load('os-services', 'services-list-get-resp.json.tpl', '2.1');
    const d = fill(t) as Record<string, any>;
    assert.deepEqual(compareShape(d, t), [{ path: '$.services[2].disabled_reason', problem: 'expected string, got null' }]);
    const opts = { nullable: ['$.services[*].disabled_reason'] };
    assert.deepEqual(compareShape(d, t, opts), []);
    d['services'][0].disabled_reason = 5;
    d['services'][1].host = null;
    assert.deepEqual(compareShape(d, t, opts), [
      { path: '$.services[0].disabled_reason', problem: 'expected string, got number' },
      { path: '$.services[1].host', problem: 'expected string, got null' },
    ]);
  });

  test('the path argument prefixes reported paths (and freeKeys still use absolute paths)', () => {
    const t = load(...SERVER, '2.1') as { server: unknown };
    const d = doc(...SERVER, '2.1');
    d['server'].metadata = { x: 'y' };
    delete d['server'].name;
    assert.deepEqual(compareShape(d['server'], t.server, '$.server', { freeKeys: ['$.server.metadata'] }), [{ path: '$.server.name', problem: 'missing key' }]);
    assert.deepEqual(compareShape(1, 'x', '$.a[0]'), [{ path: '$.a[0]', problem: 'expected string, got number' }]);
  });

  test('checkPatterns also checks the literal parts of string wildcards', () => {
    const t = load(...SERVER, '2.1');
    const d = doc(...SERVER, '2.1');
    d['server'].links[0].href = 'http://kova.test/v2.1/instances/abc';
    assert.deepEqual(compareShape(d, t), []);
    assert.deepEqual(compareShape(d, t, { checkPatterns: true }), [
      { path: '$.server.links[0].href', problem: '"http://kova.test/v2.1/instances/abc" does not match template "%(versioned_compute_endpoint)s/servers/%(uuid)s"' },
    ]);
  });

  test('placeholder keys ("%(action)s") match one otherwise unmatched key', () => {
    const t = load('servers', 'server-action-stop.json.tpl', '2.1');
    assert.deepEqual(compareShape({ 'os-stop': null }, t), []);
    assert.deepEqual(compareShape({}, t), [{ path: '$["%(action)s"]', problem: 'missing key' }]);
    assert.deepEqual(compareShape({ 'os-stop': null, 'os-start': null }, t), [{ path: '$["os-start"]', problem: 'unexpected key' }]);
  });

  test('arrayElements "any": non-uniform sample arrays (image links: only "alternate" has type)', () => {
    const t = load('images', 'image-get-resp.json.tpl', '2.1');
    const d = fill(t) as Record<string, any>;
    assert.deepEqual(compareShape(d, t), [{ path: '$.image.links[2].type', problem: 'unexpected key' }]);
    assert.deepEqual(compareShape(d, t, { arrayElements: 'any' }), []);
    d['image'].links.push({ href: 'x', rel: 5 });
    assert.deepEqual(compareShape(d, t, { arrayElements: 'any' }), [{ path: '$.image.links[3].rel', problem: 'expected string, got number' }]);
  });

  test('template vs template: what changed in servers/server-get-resp from 2.98 to 2.100', () => {
    const t98 = load(...SERVER, '2.98');
    const t100 = load(...SERVER, '2.100');
    assert.deepEqual(compareShape(t100, t98), [{ path: '$.server.scheduler_hints', problem: 'unexpected key' }]);
    assert.deepEqual(compareShape(t98, t100), [{ path: '$.server.scheduler_hints', problem: 'missing key' }]);
    assert.deepEqual(compareShape(new Wildcard('string', '%(x)s'), 5), [{ path: '$', problem: 'expected number, got string wildcard' }]);
    assert.deepEqual(compareShape(new Wildcard('scalar', '%(x)s'), 5), []);
  });

  test('every response template, filled, matches itself (with arrayElements "any")', () => {
    const bad: string[] = [];
    const firstRuleBad: string[] = [];
    for (const f of allTemplateFiles()) {
      if (!f.endsWith('-resp.json.tpl')) continue;
      const t = parseTemplate(readFileSync(join(samplesRoot(), f), 'utf8'));
      const d = fill(t);
      if (compareShape(d, t, { arrayElements: 'any' }).length > 0) bad.push(f);
      if (compareShape(d, t).length > 0) firstRuleBad.push(f);
    }
    assert.deepEqual(bad, []);
    // where Nova's example arrays are not uniform, the first-element rule needs freeKeys/'any'
    assert.deepEqual(firstRuleBad, [
      // extra_specs keys are data ($.flavors[*].extra_specs needs freeKeys)
      'flavors/v2.102/flavors-detail-resp.json.tpl',
      'flavors/v2.61/flavors-detail-resp.json.tpl',
      'flavors/v2.75/flavors-detail-resp.json.tpl',
      // the "alternate" link (only) has a "type" key
      'images/image-get-resp.json.tpl',
      'images/images-details-get-resp.json.tpl',
      'images/images-list-get-resp.json.tpl',
      'os-availability-zone/availability-zone-detail-resp.json.tpl',
      'os-server-topology/v2.78/servers-topology-resp.json.tpl',
      // disabled_reason / tag: a string in the first element, null in a later one
      'os-services/services-list-get-resp.json.tpl',
      'os-services/v2.11/services-list-get-resp.json.tpl',
      'os-services/v2.53/services-list-get-resp.json.tpl',
      'os-volume_attachments/v2.101/list-volume-attachments-resp.json.tpl',
      'os-volume_attachments/v2.70/list-volume-attachments-resp.json.tpl',
      'os-volume_attachments/v2.79/list-volume-attachments-resp.json.tpl',
      'os-volume_attachments/v2.85/list-volume-attachments-resp.json.tpl',
      'os-volume_attachments/v2.89/list-volume-attachments-resp.json.tpl',
      // links[1] (describedby) has a "type" key
      'versions/v2-version-get-resp.json.tpl',
      'versions/v21-version-get-resp.json.tpl',
    ]);
  });
});

describe('parsePathPattern', () => {
  test('dot keys, indices, stars and quoted keys', () => {
    const star = parsePathPattern('$[*]')[0];
    assert.equal(typeof star, 'symbol');
    assert.deepEqual(parsePathPattern('$.server.metadata'), ['server', 'metadata']);
    assert.deepEqual(parsePathPattern('$.servers[2]["OS-EXT:x.y"]'), ['servers', 2, 'OS-EXT:x.y']);
    assert.deepEqual(parsePathPattern("$['a b'].c-d:e"), ['a b', 'c-d:e']);
    assert.deepEqual(parsePathPattern('$.servers[*].addresses.*'), ['servers', star, 'addresses', star]);
    assert.deepEqual(parsePathPattern('$'), []);
    for (const bad of ['server', '$.', '$[x]', '$[1', '$..a']) assert.throws(() => parsePathPattern(bad), Error, bad);
  });
});

// ---- formatTable -----------------------------------------------------------------------------

describe('formatTable', () => {
  test('endpoint x microversion grid, numeric column order, worst result wins, details listed', () => {
    const out = formatTable([
      { endpoint: 'GET /servers/{id}', version: '2.10', result: 'match' },
      { endpoint: 'GET /servers/{id}', version: '2.9', result: 'mismatch', detail: '$.server.name: missing key' },
      { endpoint: 'GET /flavors/{id}', version: '2.100', result: 'n/a' },
      { endpoint: 'GET /flavors/{id}', version: '2.9', result: 'match' },
      { endpoint: 'GET /flavors/{id}', version: '2.9', result: 'mismatch' },
      { endpoint: 'GET /flavors/{id}', version: '2.9', result: 'match' },
    ]);
    assert.equal(
      out,
      [
        'endpoint          | 2.9      | 2.10  | 2.100',
        '------------------+----------+-------+------',
        'GET /servers/{id} | MISMATCH | match |',
        'GET /flavors/{id} | MISMATCH |       | n/a',
        '',
        'Details:',
        '  GET /servers/{id} @ 2.9 (mismatch): $.server.name: missing key',
        '',
      ].join('\n'),
    );
  });

  test('no rows', () => {
    assert.equal(formatTable([]), 'endpoint\n--------\n');
  });
});
