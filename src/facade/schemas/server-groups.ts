// Request schema of POST /os-server-groups per microversion range (2.15 soft policies, 2.64
// `policy` and `rules` instead of `policies`), built and compiled once at start.
import { perVersion, S } from '../validate.ts';

const HARD = ['anti-affinity', 'affinity'];
const SOFT = ['soft-anti-affinity', 'soft-affinity'];

export const createServerGroupSchema = perVersion(['2.15', '2.64'], (v) => {
  const policies = v.atLeast('2.15') ? [...HARD, ...SOFT] : HARD;
  const group = v.atLeast('2.64')
    ? {
        required: ['name', 'policy'],
        properties: {
          name: S.name,
          policy: { type: 'string', enum: policies },
          rules: {
            type: 'object',
            additionalProperties: false,
            properties: { max_server_per_host: { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 1, minLength: 1 } },
          },
        },
      }
    : { required: ['name', 'policies'], properties: { name: S.name, policies: { type: 'array', items: { type: 'string', enum: policies }, minItems: 1, maxItems: 1 } } };
  return {
    type: 'object',
    required: ['server_group'],
    additionalProperties: false,
    properties: { server_group: { type: 'object', additionalProperties: false, ...group } },
  };
});
