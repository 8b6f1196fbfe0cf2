// Request schemas of /servers (create, update) per microversion range (Nova's
// schemas/servers.py), built and compiled once at start.
import { compile, perVersion, S } from '../validate.ts';

const HOSTNAME = { type: 'string', minLength: 2, maxLength: 63, pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$' };
const HOSTNAME_FQDN = { type: 'string', minLength: 2, maxLength: 255, pattern: '^[a-zA-Z0-9]+[a-zA-Z0-9-.]*[a-zA-Z0-9]+$' };
/** Personality files (create and rebuild, up to 2.56); Nova's base64 check lets any string through (it decodes leniently). */
export const PERSONALITY = {
  type: 'array',
  items: { type: 'object', additionalProperties: false, properties: { path: { type: 'string' }, contents: { type: 'string' } } },
};

/** A server tag (2.26+): at create, PUT /tags and PUT /tags/{tag}. */
export const TAG = compile({ type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' });

/** Server ids in a same_host / different_host hint: one, or a list. */
const SERVER_IDS = { anyOf: [S.uuid, { type: 'array', items: S.uuid }] };
/**
 * The scheduler hints as Nova's schema checks them (formats of the hints it knows, any other key
 * allowed); which of them Kova honours is nova/scheduler-hints.ts's rule.
 */
const HINTS = {
  type: 'object',
  properties: {
    group: S.uuid,
    same_host: SERVER_IDS,
    different_host: SERVER_IDS,
    query: { type: ['string', 'object'] },
    target_cell: { type: 'string', minLength: 1, maxLength: 255 },
    different_cell: { type: ['string', 'array'], items: { type: 'string' } },
    build_near_host_ip: { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
    cidr: { type: 'string', pattern: '^/[0-9a-f.:]+$' },
  },
};

/** POST /servers. */
export const createServerSchema = perVersion(['2.19', '2.32', '2.33', '2.37', '2.42', '2.52', '2.57', '2.63', '2.74', '2.90', '2.94'], (v) => {
  const networkItem = {
    type: 'object',
    additionalProperties: false,
    properties: {
      uuid: v.atLeast('2.37') ? S.uuid : { type: 'string' },
      port: { type: ['string', 'null'] },
      fixed_ip: { type: 'string' },
      // Network tags came in 2.32, went in 2.37 and came back in 2.42.
      ...((v.atLeast('2.32') && !v.atLeast('2.33')) || v.atLeast('2.42') ? { tag: { type: 'string', maxLength: 60 } } : {}),
    },
  };
  const server: Record<string, unknown> = {
    name: S.name,
    imageRef: { anyOf: [S.uuid, { type: 'string', maxLength: 0 }] },
    flavorRef: { type: ['string', 'integer'], minLength: 1 },
    adminPass: { type: 'string' },
    metadata: S.metadata,
    availability_zone: { type: 'string', minLength: 1, maxLength: 255 },
    key_name: { type: 'string', minLength: 1, maxLength: 255 },
    config_drive: { type: ['boolean', 'string'] },
    min_count: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
    max_count: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
    return_reservation_id: { type: ['boolean', 'string'] },
    security_groups: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false } },
    user_data: { type: 'string', format: 'byte', maxLength: 65535 },
    accessIPv4: { type: 'string', format: 'ipv4' },
    accessIPv6: { type: 'string', format: 'ipv6' },
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
    networks: v.atLeast('2.37')
      ? { anyOf: [{ type: 'string', enum: ['auto', 'none'] }, { type: 'array', items: networkItem }] }
      : { type: 'array', items: networkItem },
    block_device_mapping_v2: { type: 'array' },
    block_device_mapping: { type: 'array' },
  };
  if (!v.atLeast('2.57')) server.personality = PERSONALITY;
  if (v.atLeast('2.19')) server.description = S.nullableString(255);
  if (v.atLeast('2.52')) server.tags = { type: 'array', items: TAG, maxItems: 50 };
  if (v.atLeast('2.63')) server.trusted_image_certificates = { type: ['array', 'null'] };
  if (v.atLeast('2.74')) {
    server.host = { type: 'string', minLength: 1, maxLength: 255 };
    server.hypervisor_hostname = { type: 'string', minLength: 1, maxLength: 255 };
  }
  if (v.atLeast('2.90')) server.hostname = v.atLeast('2.94') ? HOSTNAME_FQDN : HOSTNAME;
  return {
    type: 'object',
    required: ['server'],
    additionalProperties: false,
    properties: {
      server: { type: 'object', required: v.atLeast('2.37') ? ['name', 'flavorRef', 'networks'] : ['name', 'flavorRef'], additionalProperties: false, properties: server },
      'os:scheduler_hints': HINTS,
      'OS-SCH-HNT:scheduler_hints': HINTS,
    },
  };
});

/** PUT /servers/{id} (2.104: pin or unpin the availability zone). */
export const updateServerSchema = perVersion(['2.19', '2.90', '2.94', '2.104'], (v) => {
  const props: Record<string, unknown> = {
    name: S.name,
    accessIPv4: { type: 'string', format: 'ipv4' },
    accessIPv6: { type: 'string', format: 'ipv6' },
    'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
  };
  if (v.atLeast('2.19')) props.description = S.nullableString(255);
  if (v.atLeast('2.90')) props.hostname = v.atLeast('2.94') ? HOSTNAME_FQDN : HOSTNAME;
  if (v.atLeast('2.104')) props.pinned_availability_zone = { oneOf: [{ type: 'string', minLength: 1, maxLength: 255 }, { type: 'null' }] };
  return { type: 'object', required: ['server'], additionalProperties: false, properties: { server: { type: 'object', additionalProperties: false, properties: props } } };
});
