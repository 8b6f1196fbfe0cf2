// Query strings as Fastify parses them: a value may repeat (?a=1&a=2). Pure.

export type Query = Record<string, string | string[] | undefined>;

/** Query values may repeat (?a=1&a=2); Nova mostly takes the last. */
export const last = (v: unknown): string | undefined => (Array.isArray(v) ? (v.at(-1) as string | undefined) : (v as string | undefined));

export const isTrueish = (v: string | undefined): boolean | undefined =>
  v === undefined ? undefined : ['1', 'true', 't', 'yes', 'y', 'on'].includes(v.toLowerCase()) ? true : ['0', 'false', 'f', 'no', 'n', 'off'].includes(v.toLowerCase()) ? false : undefined;
