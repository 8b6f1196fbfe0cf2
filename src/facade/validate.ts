// Request validation with JSON Schema (Ajv), with Nova's messages:
// "Invalid input for field/attribute <field>. Value: <v>. <reason>" or the bare reason at the root.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { NovaError } from '../nova/faults.ts';

const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);
const compiled = new WeakMap<object, ValidateFunction>();
/** Schemas built per request (they depend on the microversion) share one compiled function per text. */
const compiledByText = new Map<string, ValidateFunction>();

export type Schema = Record<string, unknown>;

export function validate<T>(schema: Schema, value: unknown, what: 'body' | 'query' = 'body'): T {
  let fn = compiled.get(schema);
  if (!fn) {
    const text = JSON.stringify(schema);
    fn = compiledByText.get(text) ?? ajv.compile(schema);
    compiledByText.set(text, fn);
    compiled.set(schema, fn);
  }
  if (fn(value)) return value as T;
  throw new NovaError(400, message(fn.errors?.[0], value, what));
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
      reason = `${JSON.stringify(valueAt(root, segments))} is not of type '${(e.params as { type: string }).type}'`;
      break;
    case 'minimum':
      reason = `${JSON.stringify(valueAt(root, segments))} is less than the minimum of ${(e.params as { limit: number }).limit}`;
      break;
    case 'pattern':
      reason = `'${String(valueAt(root, segments))}' does not match '${(e.params as { pattern: string }).pattern}'`;
      break;
    case 'enum':
      reason = `${JSON.stringify(valueAt(root, segments))} is not one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
      break;
    default:
      reason = `${JSON.stringify(valueAt(root, segments))} ${e.message ?? 'is invalid'}`;
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

const display = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

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
