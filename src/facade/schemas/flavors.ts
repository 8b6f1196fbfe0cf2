// Request schemas of /flavors (create per microversion range, update), os-extra_specs and the
// flavor access actions (Nova's schemas/flavor_manage.py, flavors_extraspecs.py,
// flavor_access.py), built and compiled once at start.
import { compile, perVersion, S } from '../validate.ts';

/** POST /flavors (2.55 adds the description). */
export const createFlavorSchema = perVersion(['2.55'], (v) => ({
  type: 'object',
  required: ['flavor'],
  additionalProperties: false,
  properties: {
    flavor: {
      type: 'object',
      required: ['name', 'ram', 'vcpus', 'disk'],
      additionalProperties: false,
      properties: {
        name: { ...S.name },
        id: { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' },
        ram: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
        vcpus: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
        disk: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0 },
        'OS-FLV-EXT-DATA:ephemeral': { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0 },
        swap: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 0 },
        rxtx_factor: { type: ['number', 'string'], minimum: 0 },
        'os-flavor-access:is_public': { type: ['boolean', 'string'] },
        ...(v.atLeast('2.55') ? { description: S.nullableString(65535) } : {}),
      },
    },
  },
}));

/** PUT /flavors/{id} (2.55). */
export const UPDATE_FLAVOR = compile({
  type: 'object', required: ['flavor'], additionalProperties: false,
  properties: { flavor: { type: 'object', required: ['description'], additionalProperties: false, properties: { description: S.nullableString(65535) } } },
});

/** POST /flavors/{id}/os-extra_specs. */
export const EXTRA_SPECS = compile({
  type: 'object',
  required: ['extra_specs'],
  additionalProperties: false,
  properties: { extra_specs: { type: 'object', patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: ['string', 'number', 'boolean'], maxLength: 255 } }, additionalProperties: false } },
});

/** PUT /flavors/{id}/os-extra_specs/{key}: one item. */
export const EXTRA_SPEC_ITEM = compile({ type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: 255 } });

/** POST /flavors/{id}/action: addTenantAccess or removeTenantAccess. */
export const FLAVOR_ACCESS_ACTION = compile({
  type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: false,
  properties: Object.fromEntries(['addTenantAccess', 'removeTenantAccess'].map((a) => [a, { type: 'object', required: ['tenant'], additionalProperties: false, properties: { tenant: { type: 'string', minLength: 1, maxLength: 255 } } }])),
});
