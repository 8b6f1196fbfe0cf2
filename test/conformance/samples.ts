/**
 * Nova API-sample templates as shape oracles for Kova's conformance suite.
 *
 * The templates are Nova's own functional-test fixtures
 * (nova/tests/functional/api_sample_tests/api_samples/), taken from the `nova` wheel on PyPI at
 * the version pinned in test/tools/nova-samples.ts (34.0.0: microversions up to 2.104, as Kova).
 * The test set-up fetches them once into ${KOVA_CACHE:-~/.cache/kova}/nova-<version>/api_samples
 * (the unit run's --test-global-setup, and test/support/setup.ts for the integration run); env
 * KOVA_NOVA_SAMPLES points at another copy instead. They are read from disk at runtime and never
 * copied into the project.
 *
 * Template syntax: JSON in which generated values are Python %-format
 * placeholders `%(name)s`:
 *   - inside a string:   "id": "%(uuid)s", "href": "%(compute_endpoint)s/servers/%(uuid)s"
 *   - unquoted:          "port": %(port)s, "size": %(int)s   (Nova treats these as "any
 *                        scalar, compared via str()"; see _objectify in Nova's test base)
 *   - as an object key:  { "%(action)s": null }             (os-shelve, servers start/stop)
 *   - `%%` is a literal `%` (Python formatting), e.g. "path=%%3Ftoken%%3D%(uuid)s".
 * An empty template (os-certificates/certificate-create-req) parses to `{}`, as in Nova.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { novaSamplesDir } from '../tools/nova-samples.ts';

// ---------------------------------------------------------------------------------------------
// Location
// ---------------------------------------------------------------------------------------------

/**
 * Absolute path of the templates folder: env `KOVA_NOVA_SAMPLES` if set, else the cached copy of
 * the pinned Nova release (fetched by the test set-up; see test/tools/nova-samples.ts).
 */
export function samplesRoot(): string {
  const override = process.env['KOVA_NOVA_SAMPLES'];
  if (override !== undefined && override !== '') return isAbsolute(override) ? override : resolve(override);
  return novaSamplesDir();
}

// ---------------------------------------------------------------------------------------------
// Wildcards and template parsing
// ---------------------------------------------------------------------------------------------

export type WildcardKind = 'string' | 'scalar';


const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Python `%` formatting turns `%%` into `%`. */
const unescapePercent = (s: string): string => s.replace(/%%/g, '%');

/** Does this text contain a `%(name)s` placeholder (ignoring `%%` escapes)? */
export function hasPlaceholder(text: string): boolean {
  return splitPlaceholders(text).names.length > 0;
}

/**
 * Split template text into literal parts (with `%%` already unescaped) and placeholder names:
 * `literals.length === names.length + 1`, text = literals[0] names[0] literals[1] ...
 */
function splitPlaceholders(text: string): { literals: string[]; names: string[] } {
  const literals: string[] = [];
  const names: string[] = [];
  let current = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '%' && text[i + 1] === '%') {
      current += '%';
      i += 2;
      continue;
    }
    if (ch === '%' && text[i + 1] === '(') {
      const m = /^%\(([^)]*)\)s/.exec(text.slice(i));
      if (m !== null) {
        literals.push(current);
        names.push(m[1] ?? '');
        current = '';
        i += m[0].length;
        continue;
      }
    }
    current += ch;
    i += 1;
  }
  literals.push(current);
  return { literals, names };
}

/**
 * A generated value in a template.
 *  - kind 'string': the placeholder(s) were inside a JSON string; matches any string.
 *    `pattern` matches the literal text with each placeholder as `.*` (for loose checks of
 *    hrefs etc.); `literals` are the fixed parts around the placeholders.
 *  - kind 'scalar': an unquoted placeholder; matches any string, number, boolean or null.
 */
export class Wildcard {
  readonly kind: WildcardKind;
  /** Placeholder names in order, e.g. ['compute_endpoint', 'uuid']. */
  readonly names: readonly string[];
  /** Fixed text around the placeholders (`%%` unescaped); length = names.length + 1. */
  readonly literals: readonly string[];
  /** The raw template text, e.g. `%(compute_endpoint)s/servers/%(uuid)s`. */
  readonly source: string;
  /** Anchored regexp: literal parts escaped, placeholders as `.*` (string wildcards only). */
  readonly pattern: RegExp | undefined;

  constructor(kind: WildcardKind, source: string) {
    const { literals, names } = splitPlaceholders(source);
    this.kind = kind;
    this.source = source;
    this.names = names;
    this.literals = literals;
    this.pattern = kind === 'string' ? new RegExp(`^${literals.map(escapeRegExp).join('.*')}$`, 's') : undefined;
  }

  /** True when the value is nothing but one placeholder (no literal text around it). */
  get isBare(): boolean {
    return this.names.length === 1 && this.literals.every((l) => l === '');
  }

  /** Type-level match (what compareShape uses by default). */
  accepts(value: unknown): boolean {
    if (this.kind === 'string') return typeof value === 'string';
    return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  }

  /** Type match plus, for string wildcards, the literal parts (`pattern`). */
  matchesLoosely(value: unknown): boolean {
    if (!this.accepts(value)) return false;
    return this.pattern === undefined || this.pattern.test(value as string);
  }

  /** Fill the placeholders: `fill(name)` gives each one's text. */
  fill(fill: (name: string) => string): string {
    let out = this.literals[0] ?? '';
    this.names.forEach((name, i) => {
      out += fill(name) + (this.literals[i + 1] ?? '');
    });
    return out;
  }

  toString(): string {
    return this.kind === 'string' ? JSON.stringify(this.source) : this.source;
  }

  toJSON(): string {
    return `<wildcard ${this.kind} ${this.source}>`;
  }
}

export function isWildcard(value: unknown): value is Wildcard {
  return value instanceof Wildcard;
}

/** Private-use marker standing in for an unquoted placeholder during JSON.parse. */
const UNQUOTED = '\uE000kova-unquoted\uE000';

/** Define an own property (safe for keys such as `__proto__`). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function convert(value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.startsWith(UNQUOTED)) return new Wildcard('scalar', value.slice(UNQUOTED.length));
    // Nova's tests convert "%(int:name)s" to a number before comparing: it stands for any scalar.
    if (/^%\(int:[^)]*\)s$/.test(value)) return new Wildcard('scalar', value);
    if (hasPlaceholder(value)) return new Wildcard('string', value);
    return unescapePercent(value);
  }
  if (Array.isArray(value)) return value.map(convert);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Keys that are placeholders stay raw (compareShape treats them as key patterns).
      setOwn(out, hasPlaceholder(k) ? k : unescapePercent(k), convert(v));
    }
    return out;
  }
  return value;
}

/**
 * Parse a `.json.tpl` into a JSON value with `Wildcard`s for the generated values.
 * Strings containing placeholders → Wildcard('string'); unquoted placeholders →
 * Wildcard('scalar'); object keys are kept as written. Throws if the text is not JSON
 * once the unquoted placeholders are taken out.
 */
export function parseTemplate(text: string): unknown {
  if (text.trim() === '') return {};
  let out = '';
  let inString = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (ch === '"') inString = false;
      i += 1;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      i += 1;
      continue;
    }
    if (ch === '%') {
      const m = /^%\(([^)]*)\)s/.exec(text.slice(i));
      if (m !== null) {
        out += JSON.stringify(UNQUOTED + m[0]);
        i += m[0].length;
        continue;
      }
    }
    out += ch;
    i += 1;
  }
  return convert(JSON.parse(out));
}

// ---------------------------------------------------------------------------------------------
// Microversions and template lookup
// ---------------------------------------------------------------------------------------------

const VERSION = /^(\d+)\.(\d+)$/;
const VERSION_DIR = /^v(\d+)\.(\d+)$/;

function parseVersion(version: string): [number, number] {
  const m = VERSION.exec(version);
  if (m === null) throw new Error(`not a microversion: ${JSON.stringify(version)} (expected "X.Y")`);
  return [Number(m[1]), Number(m[2])];
}

/** Numeric microversion order: 2.9 < 2.10 < 2.100. */
export function compareVersions(a: string, b: string): number {
  const [aMaj, aMin] = parseVersion(a);
  const [bMaj, bMin] = parseVersion(b);
  return aMaj - bMaj || aMin - bMin;
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/** vX.Y sub-folders of an area that hold `file`, as { version: 'X.Y', folder: 'vX.Y' }, sorted. */
function versionFolders(area: string, file: string): { version: string; folder: string }[] {
  const dir = join(samplesRoot(), area);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const found: { version: string; folder: string }[] = [];
  for (const entry of readdirSync(dir)) {
    const m = VERSION_DIR.exec(entry);
    if (m === null) continue;
    if (isFile(join(dir, entry, file))) found.push({ version: `${Number(m[1])}.${Number(m[2])}`, folder: entry });
  }
  return found.sort((a, b) => compareVersions(a.version, b.version));
}

export type LoadedTemplate = {
  /** Parsed template (see parseTemplate). */
  value: unknown;
  /** Absolute path of the template file. */
  path: string;
  /** Folder relative to the area: 'vX.Y', or '' for the base (2.1) file. */
  folder: string;
  /** Microversion from which this template applies ('2.1' for the base file). */
  version: string;
};

/**
 * The template for `<area>/<file>` that applies at microversion `version`: the highest
 * `<area>/vX.Y/<file>` with X.Y ≤ version, else `<area>/<file>`; undefined if none.
 * `area` may be '' for the files at the top of the templates folder.
 */
export function loadTemplate(area: string, file: string, version: string): LoadedTemplate | undefined {
  parseVersion(version);
  const candidates = versionFolders(area, file).filter((f) => compareVersions(f.version, version) <= 0);
  const best = candidates.at(-1);
  const chosen = best ?? { version: '2.1', folder: '' };
  const path = join(samplesRoot(), area, chosen.folder, file);
  if (!isFile(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  let value: unknown;
  try {
    value = parseTemplate(text);
  } catch (err) {
    throw new Error(`cannot parse template ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { value, path, folder: chosen.folder, version: chosen.version };
}

/**
 * Microversions at which the applicable template for `<area>/<file>` changes: '2.1' when
 * the base file exists, then each vX.Y folder holding the file, sorted numerically.
 */
export function versionsOf(area: string, file: string): string[] {
  const versions = versionFolders(area, file).map((f) => f.version);
  if (isFile(join(samplesRoot(), area, file)) && !versions.includes('2.1')) versions.unshift('2.1');
  return versions.sort(compareVersions);
}

// ---------------------------------------------------------------------------------------------
// Shape comparison
// ---------------------------------------------------------------------------------------------

export type Mismatch = { path: string; problem: string };

export type CompareOptions = {
  /**
   * JSON paths of objects whose keys are data, not schema (e.g. '$.server.metadata',
   * '$.servers[*].addresses', '$.flavor.extra_specs'). `*` matches any array index or key.
   * At such a path only the value types are compared, each against the template's first value.
   */
  freeKeys?: readonly string[];
  /**
   * JSON paths (same syntax as freeKeys) whose value may also be null even though the
   * template shows a non-null value, e.g. '$.services[*].disabled_reason',
   * '$.volumeAttachments[*].tag' (Nova's own list samples mix null and strings there).
   */
  nullable?: readonly string[];
  /** Also check string wildcards' literal parts (`Wildcard.pattern`), e.g. href suffixes. */
  checkPatterns?: boolean;
  /**
   * How actual array elements are checked: 'first' (default) against the template's first
   * element; 'any' against whichever template element fits best (no mismatch if one fits),
   * for templates whose example arrays are not uniform (e.g. image links, where only the
   * "alternate" link has a "type" key).
   */
  arrayElements?: 'first' | 'any';
};

type Segment = string | number;
type PatternSegment = Segment | typeof ANY;
const ANY: unique symbol = Symbol('any');

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Render path segments: `$.server["OS-EXT-STS:power_state"].links[0].href`. */
function renderPath(base: string, segments: readonly Segment[]): string {
  let out = base;
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  return out;
}

/**
 * Parse a JSON path pattern: `$`, then `.key` (any chars up to the next `.` or `[`),
 * `[n]`, `[*]`, `.*`, `["key"]` / `['key']`.
 */
export function parsePathPattern(pattern: string): PatternSegment[] {
  if (!pattern.startsWith('$')) throw new Error(`JSON path must start with $: ${pattern}`);
  const segs: PatternSegment[] = [];
  let i = 1;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === '.') {
      let j = i + 1;
      while (j < pattern.length && pattern[j] !== '.' && pattern[j] !== '[') j++;
      const key = pattern.slice(i + 1, j);
      if (key === '') throw new Error(`empty key in JSON path ${pattern}`);
      segs.push(key === '*' ? ANY : key);
      i = j;
    } else if (ch === '[') {
      const close = pattern[i + 1] === '"' || pattern[i + 1] === "'" ? findQuotedClose(pattern, i + 1) : pattern.indexOf(']', i);
      if (close < 0) throw new Error(`unclosed [ in JSON path ${pattern}`);
      const inner = pattern.slice(i + 1, close);
      if (inner === '*') segs.push(ANY);
      else if (/^\d+$/.test(inner)) segs.push(Number(inner));
      else if (inner.startsWith('"')) segs.push(JSON.parse(inner) as string);
      else if (inner.startsWith("'")) segs.push(inner.slice(1, -1));
      else throw new Error(`bad index [${inner}] in JSON path ${pattern}`);
      i = close + 1;
    } else {
      throw new Error(`unexpected ${JSON.stringify(ch)} in JSON path ${pattern}`);
    }
  }
  return segs;
}

function findQuotedClose(s: string, quoteAt: number): number {
  const q = s[quoteAt];
  let i = quoteAt + 1;
  while (i < s.length) {
    if (s[i] === '\\') i += 2;
    else if (s[i] === q) return s[i + 1] === ']' ? i + 1 : -1;
    else i += 1;
  }
  return -1;
}

function pathMatches(pattern: readonly PatternSegment[], segments: readonly Segment[]): boolean {
  if (pattern.length !== segments.length) return false;
  // `.0` in a pattern is accepted for index 0 as well as `[0]`.
  return pattern.every((p, i) => p === ANY || p === segments[i] || (typeof segments[i] === 'number' && String(segments[i]) === p));
}

/** The JSON type name of a value ('wildcard' for template wildcards). */
export function jsonType(value: unknown): 'null' | 'string' | 'number' | 'boolean' | 'array' | 'object' | 'wildcard' | 'undefined' | 'other' {
  if (value === null) return 'null';
  if (value instanceof Wildcard) return 'wildcard';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
      return 'object';
    case 'undefined':
      return 'undefined';
    default:
      return 'other';
  }
}

/** Own enumerable keys whose value is not undefined (what JSON.stringify would keep). */
function presentKeys(obj: Record<string, unknown>): string[] {
  return Object.keys(obj).filter((k) => obj[k] !== undefined);
}

/**
 * Compare `actual` (a parsed HTTP response body) with `expected` (a parsed template) for
 * keys and value types. Returns one Mismatch per problem; [] means the shapes agree.
 *
 * Rules: objects must have the same keys (each missing/extra key reported on its own);
 * values must have the same JSON type (integer vs float is not distinguished); a string
 * wildcard matches any string, a scalar wildcard any string/number/boolean/null; a `null`
 * in the template matches anything (Nova samples use null for unset optional values); a
 * non-null template value does not match null. Arrays: each actual element is compared
 * with the template's first element (an empty template array, or empty actual array,
 * matches). Template keys that are placeholders (`"%(action)s"`) match any otherwise
 * unmatched actual key fitting their pattern.
 *
 * Call as compareShape(actual, expected), compareShape(actual, expected, options) or
 * compareShape(actual, expected, '$.prefix', options).
 */
export function compareShape(actual: unknown, expected: unknown, path?: string | CompareOptions, options?: CompareOptions): Mismatch[] {
  const base = typeof path === 'string' ? path : '$';
  const opts = (typeof path === 'object' ? path : options) ?? {};
  const free = (opts.freeKeys ?? []).map(parsePathPattern);
  const nullable = (opts.nullable ?? []).map(parsePathPattern);
  const out: Mismatch[] = [];
  // freeKeys patterns are relative to '$'; when the caller passes a sub-path base, match on the
  // segments below `base` prefixed with the segments of `base` itself.
  const baseSegments = base === '$' ? [] : safeSegments(base);
  walk(actual, expected, [], { base, baseSegments, free, nullable, checkPatterns: opts.checkPatterns === true, arrayElements: opts.arrayElements ?? 'first', out });
  return out;
}

function safeSegments(base: string): Segment[] {
  try {
    return parsePathPattern(base).map((s) => (s === ANY ? '*' : s));
  } catch {
    return [];
  }
}

type WalkContext = {
  base: string;
  baseSegments: Segment[];
  free: PatternSegment[][];
  nullable: PatternSegment[][];
  checkPatterns: boolean;
  arrayElements: 'first' | 'any';
  out: Mismatch[];
};

function walk(actual: unknown, expected: unknown, segs: Segment[], ctx: WalkContext): void {
  const here = (): string => renderPath(ctx.base, segs);
  const aType = jsonType(actual);

  if (expected === null) return; // unset optional value in the sample: anything goes
  if (actual === null && ctx.nullable.length > 0) {
    const absolute = [...ctx.baseSegments, ...segs];
    if (ctx.nullable.some((p) => pathMatches(p, absolute))) return;
  }

  if (actual instanceof Wildcard) {
    // Template-vs-template comparison: a string wildcard stands for a string, a scalar one
    // for any scalar.
    const ok =
      expected instanceof Wildcard
        ? expected.kind === 'scalar' || actual.kind === 'string'
        : actual.kind === 'string'
          ? typeof expected === 'string'
          : typeof expected === 'string' || typeof expected === 'number' || typeof expected === 'boolean';
    if (!ok) {
      const want = expected instanceof Wildcard ? expected.kind : jsonType(expected);
      ctx.out.push({ path: here(), problem: `expected ${want}, got ${actual.kind} wildcard` });
    }
    return;
  }

  if (expected instanceof Wildcard) {
    if (!expected.accepts(actual)) {
      ctx.out.push({ path: here(), problem: `expected ${expected.kind === 'string' ? 'string' : 'scalar'}, got ${aType}` });
    } else if (ctx.checkPatterns && expected.pattern !== undefined && !expected.pattern.test(actual as string)) {
      ctx.out.push({ path: here(), problem: `${JSON.stringify(actual)} does not match template ${JSON.stringify(expected.source)}` });
    }
    return;
  }

  const eType = jsonType(expected);
  if (eType !== aType) {
    ctx.out.push({ path: here(), problem: `expected ${eType}, got ${aType}` });
    return;
  }

  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length === 0) return;
    if (ctx.arrayElements === 'any' && expected.length > 1) {
      actual.forEach((item, i) => {
        let best: Mismatch[] | undefined;
        for (const model of expected) {
          const found: Mismatch[] = [];
          walk(item, model, [...segs, i], { ...ctx, out: found });
          if (best === undefined || found.length < best.length) best = found;
          if (found.length === 0) break;
        }
        ctx.out.push(...(best ?? []));
      });
      return;
    }
    const model = expected[0];
    actual.forEach((item, i) => walk(item, model, [...segs, i], ctx));
    return;
  }

  if (eType !== 'object') return; // same scalar type

  const act = actual as Record<string, unknown>;
  const exp = expected as Record<string, unknown>;
  const absolute = [...ctx.baseSegments, ...segs];

  if (ctx.free.some((p) => pathMatches(p, absolute))) {
    const firstKey = presentKeys(exp)[0];
    if (firstKey === undefined) return;
    const model = exp[firstKey];
    for (const k of presentKeys(act)) walk(act[k], model, [...segs, k], ctx);
    return;
  }

  const expKeys = presentKeys(exp);
  const literalKeys = expKeys.filter((k) => !hasPlaceholder(k));
  const patternKeys = expKeys.filter((k) => hasPlaceholder(k)).map((k) => ({ key: k, re: new Wildcard('string', k).pattern, used: false }));
  const actKeys = new Set(presentKeys(act));

  for (const k of literalKeys) {
    if (actKeys.has(k)) walk(act[k], exp[k], [...segs, k], ctx);
    else ctx.out.push({ path: renderPath(ctx.base, [...segs, k]), problem: 'missing key' });
  }
  for (const k of actKeys) {
    if (literalKeys.includes(k)) continue;
    const pk = patternKeys.find((p) => !p.used && p.re !== undefined && p.re.test(k));
    if (pk !== undefined) {
      pk.used = true;
      walk(act[k], exp[pk.key], [...segs, k], ctx);
    } else {
      ctx.out.push({ path: renderPath(ctx.base, [...segs, k]), problem: 'unexpected key' });
    }
  }
  for (const p of patternKeys) {
    if (!p.used) ctx.out.push({ path: renderPath(ctx.base, [...segs, p.key]), problem: 'missing key' });
  }
}

// ---------------------------------------------------------------------------------------------
// Filling templates (to build plausible documents)
// ---------------------------------------------------------------------------------------------

/**
 * Replace every Wildcard in a parsed template: `fill(wildcard, path)` returns the value.
 * Returns a deep copy; non-wildcard values are copied as they are.
 */
export function fillTemplate(template: unknown, fill: (w: Wildcard, path: string) => unknown, path = '$'): unknown {
  if (template instanceof Wildcard) return fill(template, path);
  if (Array.isArray(template)) return template.map((v, i) => fillTemplate(v, fill, `${path}[${i}]`));
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) setOwn(out, k, fillTemplate(v, fill, renderPath(path, [k])));
    return out;
  }
  return template;
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

export type ResultRow = { endpoint: string; version: string; result: 'match' | 'mismatch' | 'n/a'; detail?: string };

const RANK = { 'n/a': 0, match: 1, mismatch: 2 } as const;

function versionOrder(a: string, b: string): number {
  const va = VERSION.test(a);
  const vb = VERSION.test(b);
  if (va && vb) return compareVersions(a, b);
  if (va !== vb) return va ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Plain-text grid: one line per endpoint (first-seen order), one column per microversion
 * (numeric order), cells 'match' / 'MISMATCH' / 'n/a' ('' when no row). Several rows for the
 * same cell combine to the worst result. Details of rows that have one follow the grid.
 */
export function formatTable(rows: readonly ResultRow[]): string {
  const endpoints: string[] = [];
  const versions: string[] = [];
  const cells = new Map<string, ResultRow['result']>();
  const details: string[] = [];
  for (const r of rows) {
    if (!endpoints.includes(r.endpoint)) endpoints.push(r.endpoint);
    if (!versions.includes(r.version)) versions.push(r.version);
    const key = `${r.endpoint}\u0000${r.version}`;
    const prev = cells.get(key);
    if (prev === undefined || RANK[r.result] > RANK[prev]) cells.set(key, r.result);
    if (r.detail !== undefined && r.detail !== '') details.push(`${r.endpoint} @ ${r.version} (${r.result}): ${r.detail}`);
  }
  versions.sort(versionOrder);
  const label = (res: ResultRow['result'] | undefined): string => (res === undefined ? '' : res === 'mismatch' ? 'MISMATCH' : res);
  const header = ['endpoint', ...versions];
  const body = endpoints.map((e) => [e, ...versions.map((v) => label(cells.get(`${e}\u0000${v}`)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cols: string[]): string => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...body.map(line)];
  if (details.length > 0) lines.push('', 'Details:', ...details.map((d) => `  ${d}`));
  return lines.join('\n') + '\n';
}
