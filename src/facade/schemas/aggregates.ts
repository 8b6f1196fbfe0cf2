// Request schemas of /os-aggregates (create, update, the host and metadata actions, 2.81 image
// caching), compiled once at start.
import { compile } from '../validate.ts';

const AZ = { type: ['string', 'null'], minLength: 1, maxLength: 255 };
const NAME = { type: 'string', minLength: 1, maxLength: 255, pattern: '^\\S(.*\\S)?$' };
const HOST_BODY = { type: 'object', required: ['host'], additionalProperties: false, properties: { host: { type: 'string', minLength: 1, maxLength: 255 } } };

export const CREATE_AGGREGATE = compile({
  type: 'object', required: ['aggregate'], additionalProperties: false,
  properties: { aggregate: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: NAME, availability_zone: AZ } } },
});

export const UPDATE_AGGREGATE = compile({
  type: 'object', required: ['aggregate'], additionalProperties: false,
  properties: { aggregate: { type: 'object', minProperties: 1, additionalProperties: false, properties: { name: NAME, availability_zone: AZ } } },
});

/** POST /os-aggregates/{id}/images (2.81). */
export const CACHE_IMAGES = compile({
  type: 'object', required: ['cache'], additionalProperties: false,
  properties: { cache: { type: 'array', minItems: 1, items: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', format: 'uuid' } } } } },
});

/** POST /os-aggregates/{id}/action: add_host, remove_host or set_metadata. */
export const AGGREGATE_ACTION = compile({
  type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: false,
  properties: {
    add_host: HOST_BODY,
    remove_host: HOST_BODY,
    set_metadata: { type: 'object', required: ['metadata'], additionalProperties: false, properties: { metadata: { type: 'object', minProperties: 1, patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: ['string', 'null'], maxLength: 255 } }, additionalProperties: false } } },
  },
});
