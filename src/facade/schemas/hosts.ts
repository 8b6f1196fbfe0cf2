// Request schemas of the host APIs: os-services (the pre-2.53 PUT actions and the 2.53 update) and
// os-hosts (≤ 2.42), compiled once at start.
import { compile } from '../validate.ts';

const STATUS = { type: 'string', enum: ['enable', 'disable', 'Enable', 'Disable', 'ENABLE', 'DISABLE'] };

/** PUT /os-services/{enable|disable|disable-log-reason|force-down} (before 2.53). */
export const LEGACY_SERVICE_UPDATE = compile({
  type: 'object', required: ['host', 'binary'],
  properties: { host: { type: 'string', minLength: 1, maxLength: 255 }, binary: { type: 'string', minLength: 1, maxLength: 255 }, disabled_reason: { type: 'string', minLength: 1, maxLength: 255 }, forced_down: { type: 'boolean' } },
});

/** PUT /os-services/{id} (2.53). */
export const SERVICE_UPDATE = compile({
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: { status: { type: 'string', enum: ['enabled', 'disabled'] }, disabled_reason: { type: 'string', minLength: 1, maxLength: 255 }, forced_down: { type: 'boolean' } },
});

/** PUT /os-hosts/{host}. */
export const HOST_UPDATE = compile({
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: { status: STATUS, maintenance_mode: STATUS },
});
