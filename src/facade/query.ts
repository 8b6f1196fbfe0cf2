// Query strings as Fastify parses them: a value may repeat (?a=1&a=2). Pure.
import { badRequest } from '../nova/faults.ts';

export type Query = Record<string, string | string[] | undefined>;

/** Query values may repeat (?a=1&a=2); Nova mostly takes the last. */
export const last = (v: unknown): string | undefined => (Array.isArray(v) ? (v.at(-1) as string | undefined) : (v as string | undefined));

/** Every value of a query parameter. */
export const all = (v: unknown): string[] => (v === undefined ? [] : ([] as string[]).concat(v as string | string[]));

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

/** oslo's bool_from_string without `strict`: a word for true or false, else undefined. */
export const isTrueish = (v: string | undefined): boolean | undefined =>
  v === undefined ? undefined : TRUE_STRINGS.includes(v.trim().toLowerCase()) ? true : FALSE_STRINGS.includes(v.trim().toLowerCase()) ? false : undefined;

/** oslo's bool_from_string(strict=True): Nova's 400 "Invalid input received" for anything else. */
export function strictBool(v: string): boolean {
  const b = isTrueish(v);
  if (b !== undefined) return b;
  const acceptable = [...TRUE_STRINGS, ...FALSE_STRINGS].sort().map((s) => `'${s}'`).join(', ');
  throw badRequest(`Invalid input received: Unrecognized value '${v}', acceptable values are: ${acceptable}`);
}
