// Request schemas of os-quota-sets (Nova's schemas/quota_sets.py, its outer shape), compiled once at start.
import { compile } from '../validate.ts';

/** PUT /os-quota-sets/{tenant_id}: checked as Nova checks it before Kova refuses the change. */
export const QUOTA_SET_UPDATE = compile({ type: 'object', required: ['quota_set'], additionalProperties: false, properties: { quota_set: { type: 'object' } } });
