// Request schemas of /servers/{id}/metadata and /servers/{id}/tags, compiled once at start.
import { compile, S } from '../validate.ts';
import { TAG } from './servers.ts';

/** POST and PUT /servers/{id}/metadata. */
export const METADATA = compile({ type: 'object', required: ['metadata'], additionalProperties: false, properties: { metadata: S.metadata } });

/** PUT /servers/{id}/metadata/{key}: one item. */
export const META_ITEM = compile({ type: 'object', required: ['meta'], additionalProperties: false, properties: { meta: { ...S.metadata, minProperties: 1, maxProperties: 1 } } });

/** PUT /servers/{id}/tags. */
export const TAGS = compile({ type: 'object', required: ['tags'], additionalProperties: false, properties: { tags: { type: 'array', items: TAG, maxItems: 50 } } });
