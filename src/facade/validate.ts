// Request validation with JSON Schema (Ajv), with Nova's messages:
// "Invalid input for field/attribute <field>. Value: <v>. <reason>" or the bare reason at the root.
// Schemas are built and compiled once, when their module loads (facade/schemas/); one that depends
// on the microversion is built once per range of versions (`perVersion`).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { NovaError } from '../nova/faults.ts';
import { MIN, Version } from '../nova/microversion.ts';

const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);
const compiled = new WeakMap<object, ValidateFunction>();
/** Equal schemas (the same text) share one compiled function. */
const compiledByText = new Map<string, ValidateFunction>();

export type Schema = Record<string, unknown>;

function compiledFor(schema: Schema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    const text = JSON.stringify(schema);
    fn = compiledByText.get(text) ?? ajv.compile(schema);
    compiledByText.set(text, fn);
    compiled.set(schema, fn);
  }
  return fn;
}

/** A schema compiled now, at start, so that no request pays for it. */
export function compile<S extends Schema>(schema: S): S {
  compiledFor(schema);
  return schema;
}

/** A Version that refuses a threshold its range split does not know, so no range is built wrong. */
class RangeStart extends Version {
  readonly #known: ReadonlySet<string>;
  constructor(start: Version, known: ReadonlySet<string>) {
    super(start.major, start.minor);
    this.#known = known;
  }
  override cmp(o: Version | string): number {
    if (typeof o === 'string' && !this.#known.has(o)) throw new Error(`schema checks microversion ${o}, not among its thresholds [${[...this.#known].join(', ')}]`);
    return super.cmp(o);
  }
}

/**
 * A schema that depends on the microversion, built and compiled once per range between
 * `thresholds` (every version `build` checks), at start; the request's version picks its range.
 */
export function perVersion(thresholds: readonly string[], build: (v: Version) => Schema): (v: Version) => Schema {
  const known = new Set(thresholds);
  const starts = [MIN, ...thresholds.map((t) => Version.of(t))].sort((a, b) => a.cmp(b)).filter((v, i, all) => i === 0 || v.cmp(all[i - 1]!) !== 0);
  const schemas = starts.map((start) => compile(build(new RangeStart(start, known))));
  return (v) => {
    let i = starts.length - 1;
    while (i > 0 && starts[i]!.cmp(v) > 0) i--;
    return schemas[i]!;
  };
}

/** Validates a body (no body is JSON's null, Nova's None) or a query value; Nova's 400 when it fails. */
export function validate<T>(schema: Schema, value: unknown, what: 'body' | 'query' = 'body'): T {
  const fn = compiledFor(schema);
  const v = value === undefined ? null : value;
  if (fn(v)) return v as T;
  throw new NovaError(400, message(fn.errors?.[0], v, what));
}

function message(e: ErrorObject | undefined, root: unknown, what: 'body' | 'query'): string {
  if (!e) return 'Invalid input';
  const segments = e.instancePath.split('/').filter(Boolean).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let reason: string;
  switch (e.keyword) {
    case 'additionalProperties':
      reason = `Additional properties are not allowed ('${(e.params as { additionalProperty: string }).additionalProperty}' was unexpected)`;
      break;
    case 'required':
      reason = `'${(e.params as { missingProperty: string }).missingProperty}' is a required property`;
      break;
    case 'type':
      reason = `${pyRepr(valueAt(root, segments))} is not of type ${String((e.params as { type: string | string[] }).type).split(',').map((t) => `'${t}'`).join(', ')}`;
      break;
    case 'minimum':
      // Nova compares numbers given as strings as numbers, and shows them so.
      reason = `${pyRepr(asNumber(valueAt(root, segments)))} is less than the minimum of ${(e.params as { limit: number }).limit}`;
      break;
    case 'pattern':
      reason = `${pyRepr(valueAt(root, segments))} does not match '${(e.params as { pattern: string }).pattern}'`;
      break;
    case 'format': {
      const format = (e.params as { format: string }).format;
      reason = `${pyRepr(valueAt(root, segments))} is not a '${format === 'byte' ? 'base64' : format}'`;
      break;
    }
    case 'enum':
      reason = `${pyRepr(valueAt(root, segments))} is not one of ${pyRepr((e.params as { allowedValues: unknown[] }).allowedValues)}`;
      break;
    default:
      reason = `${pyRepr(valueAt(root, segments))} ${e.message ?? 'is invalid'}`;
  }
  // Nova names the innermost field below the top-level wrapper ("server", "flavor" …).
  const field = segments.filter((s) => !/^\d+$/.test(s)).slice(what === 'body' ? 1 : 0).pop();
  if (!field || e.keyword === 'required' || e.keyword === 'additionalProperties') return reason;
  const prefix = what === 'query' ? 'Invalid input for query parameters' : 'Invalid input for field/attribute';
  return `${prefix} ${field}. Value: ${display(valueAt(root, segments))}. ${reason}`;
}

function valueAt(root: unknown, path: string[]): unknown {
  let v: unknown = root;
  for (const s of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[s] : undefined;
  return v;
}

/** Nova's "Value: %s": Python's str() of the value. */
const display = (v: unknown): string => (typeof v === 'string' ? v : pyRepr(v));

const asNumber = (v: unknown): unknown => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v);

/** Python's repr() of a JSON value, as jsonschema's messages show it (None, True, 'text', [...], {...}). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    const escaped = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  return String(v);
}

/** Common schema pieces. */
export const S = {
  name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' },
  metadata: {
    type: 'object',
    patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: 'string', maxLength: 255 } },
    additionalProperties: false,
  },
  uuid: { type: 'string', format: 'uuid' },
  nullableString: (max = 255) => ({ type: ['string', 'null'], maxLength: max }),
};
