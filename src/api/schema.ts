// A small builder for structural OpenAPI v3 schemas whose TypeScript types are inferred, so one
// declaration in src/api/ is both the CRD schema (crds/*.yaml) and the type the controllers use.

export interface Validation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface JSONSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchema>;
  required?: string[];
  items?: JSONSchema;
  additionalProperties?: JSONSchema;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  nullable?: boolean;
  'x-kubernetes-validations'?: Validation[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

/** A schema that carries the TypeScript type T of the values it accepts (type-level only). */
export type S<T> = JSONSchema & { readonly __type?: T };
export type Infer<X> = X extends S<infer T> ? T : never;

type Opts = Omit<JSONSchema, 'type' | 'properties' | 'items' | 'additionalProperties' | 'required' | 'enum'>;

export const str = (o: Opts = {}): S<string> => ({ type: 'string', ...o });
export const int = (o: Opts = {}): S<number> => ({ type: 'integer', ...o });
export const num = (o: Opts = {}): S<number> => ({ type: 'number', ...o });
export const bool = (o: Opts = {}): S<boolean> => ({ type: 'boolean', ...o });
export const dateTime = (o: Opts = {}): S<string> => ({ type: 'string', format: 'date-time', ...o });
export const oneOf = <const V extends readonly string[]>(values: V, o: Opts = {}): S<V[number]> => ({ type: 'string', enum: [...values], ...o });
export const arr = <T>(items: S<T>, o: Opts = {}): S<T[]> => ({ type: 'array', items, ...o });
export const map = <T>(values: S<T>, o: Opts = {}): S<Record<string, T>> => ({ type: 'object', additionalProperties: values, ...o });

type Props = Record<string, S<unknown>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjOf<P extends Props, R extends keyof P> = Simplify<{ [K in R]: Infer<P[K]> } & { [K in Exclude<keyof P, R>]?: Infer<P[K]> }>;

/** An object with `props`; the keys listed in `required` are required, the rest optional. */
export function obj<P extends Props, const R extends keyof P & string = never>(props: P, required: readonly R[] = [], o: Opts = {}): S<ObjOf<P, R>> {
  const s: JSONSchema = { type: 'object', properties: props as Record<string, JSONSchema>, ...o };
  if (required.length) s.required = [...required];
  return s as S<ObjOf<P, R>>;
}

/** Attaches CEL rules (x-kubernetes-validations) to a schema. */
export const cel = <T>(s: S<T>, ...rules: Validation[]): S<T> => ({ ...s, 'x-kubernetes-validations': [...(s['x-kubernetes-validations'] ?? []), ...rules] });

/** A field that may be set once and never changed or removed afterwards. */
export const immutable = (field: string, message?: string): Validation => ({
  rule: `has(oldSelf.${field}) == has(self.${field}) && (!has(self.${field}) || self.${field} == oldSelf.${field})`,
  message: message ?? `${field} is immutable`,
  fieldPath: `.${field}`,
});

/** KEP-1623 condition list, as metav1.Condition. */
export const conditions = (): S<import('../kube/types.ts').Condition[]> =>
  arr(
    obj(
      {
        type: str({ maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' }),
        status: oneOf(['True', 'False', 'Unknown'] as const),
        reason: str({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
        message: str({ maxLength: 32768 }),
        lastTransitionTime: dateTime(),
        observedGeneration: int({ minimum: 0 }),
      },
      ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
    ),
    { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
  ) as S<import('../kube/types.ts').Condition[]>;

/** A custom resource object whose spec and status have the given types. */
export interface CustomResource<Spec, Status> {
  apiVersion?: string;
  kind?: string;
  metadata: import('../kube/types.ts').ObjectMeta;
  spec: Spec;
  status?: Status;
  [k: string]: unknown;
}

/** The printer columns every Kova kind ends with. */
export const READY_AND_AGE: PrinterColumn[] = [
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** Everything that defines one custom resource kind; crds/*.yaml is rendered from this. */
export interface KindDefinition {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  description: string;
  spec: JSONSchema;
  status: JSONSchema;
  printerColumns: PrinterColumn[];
}

export function crdOf(d: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.${d.group}` },
    spec: {
      group: d.group,
      names: { kind: d.kind, listKind: `${d.kind}List`, plural: d.plural, singular: d.singular, shortNames: d.shortNames, categories: ['kova'] },
      scope: d.scope,
      versions: [
        {
          name: d.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: d.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: d.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: d.spec,
                status: d.status,
              },
            },
          },
        },
      ],
    },
  };
}
