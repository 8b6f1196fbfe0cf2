// Request schemas of os-quota-sets and os-quota-class-sets (Nova's schemas/quota_sets.py and
// quota_classes.py, per microversion), compiled once at start.
import { perVersion } from '../validate.ts';
import { quotaKeys, classKeys } from '../../nova/views/limits.ts';

/** A limit: an integer (or a string of one) from -1 (unlimited) to 2^31-1. */
const LIMIT = { type: ['integer', 'string'], pattern: '^-?[0-9]+$', minimum: -1, maximum: 0x7fffffff };
const BOOLEAN = { type: ['boolean', 'string'], enum: [true, false, 'True', 'False', 'true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 'y', 'n', 't', 'f'] };

/** PUT /os-quota-sets/{tenant_id}: the resources shown at the version, and `force`. */
export const quotaSetUpdateSchema = perVersion(['2.36', '2.57'], (v) => ({
  type: 'object', required: ['quota_set'], additionalProperties: false,
  properties: {
    quota_set: { type: 'object', additionalProperties: false, properties: { ...Object.fromEntries(quotaKeys(v).map((k) => [k, LIMIT])), force: BOOLEAN } },
  },
}));

/** PUT /os-quota-class-sets/{id}. */
export const quotaClassUpdateSchema = perVersion(['2.50', '2.57'], (v) => ({
  type: 'object', required: ['quota_class_set'], additionalProperties: false,
  properties: {
    quota_class_set: { type: 'object', additionalProperties: false, properties: Object.fromEntries(classKeys(v).map((k) => [k, LIMIT])) },
  },
}));
