// Request schema of POST /os-keypairs per microversion range (2.2 type, 2.10 user_id, 2.92 import
// only and a wider name), built and compiled once at start.
import { perVersion } from '../validate.ts';

export const createKeyPairSchema = perVersion(['2.2', '2.10', '2.92'], (v) => ({
  type: 'object',
  required: ['keypair'],
  additionalProperties: false,
  properties: {
    keypair: {
      type: 'object',
      required: v.atLeast('2.92') ? ['name', 'public_key'] : ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: v.atLeast('2.92') ? '^[_\\-@. a-zA-Z0-9]+$' : '^[_\\- a-zA-Z0-9]+$' },
        public_key: { type: 'string' },
        ...(v.atLeast('2.2') ? { type: { type: 'string', enum: ['ssh', 'x509'] } } : {}),
        ...(v.atLeast('2.10') ? { user_id: { type: 'string', minLength: 1, maxLength: 255 } } : {}),
      },
    },
  },
}));
