// Request schemas of POST /servers/{id}/action, one per action (and per microversion range where
// Nova's schemas differ), built and compiled once at start.
import { compile, perVersion, S, type Schema } from '../validate.ts';
import { PERSONALITY } from './servers.ts';

const obj = (props: Record<string, unknown>, required: string[] = []): Schema => ({ type: 'object', properties: props, required, additionalProperties: false });
const nullableObj = (props: Record<string, unknown>): Schema => ({ type: ['object', 'null'], properties: props, additionalProperties: false });
const HOST = { type: 'string', minLength: 1, maxLength: 255 };
const NULLABLE_HOST = { type: ['string', 'null'], minLength: 1, maxLength: 255 };

/** `reboot` (validated before the state rule, which depends on its type). */
export const REBOOT = compile({ type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', pattern: '^([Ss][Oo][Ff][Tt]|[Hh][Aa][Rr][Dd])$' } } });

export const RESIZE = compile(obj({ flavorRef: { type: ['string', 'integer'], minLength: 1 }, 'OS-DCF:diskConfig': { enum: ['AUTO', 'MANUAL'] } }, ['flavorRef']));

export const rebuildSchema = perVersion(['2.19', '2.54', '2.57', '2.63', '2.90'], (v) => {
  const props: Record<string, unknown> = {
    imageRef: { type: 'string', minLength: 1 }, name: S.name, metadata: S.metadata, adminPass: { type: 'string' }, preserve_ephemeral: { type: 'boolean' },
    'OS-DCF:diskConfig': { enum: ['AUTO', 'MANUAL'] }, accessIPv4: { type: 'string' }, accessIPv6: { type: 'string' },
  };
  if (!v.atLeast('2.57')) props.personality = PERSONALITY;
  if (v.atLeast('2.19')) props.description = S.nullableString(255);
  if (v.atLeast('2.54')) props.key_name = { type: ['string', 'null'], minLength: 1, maxLength: 255 };
  if (v.atLeast('2.57')) props.user_data = { type: ['string', 'null'], maxLength: 65535 };
  // Accepted; KubeVirt does not verify image signatures (README, differences).
  if (v.atLeast('2.63')) props.trusted_image_certificates = { type: ['array', 'null'], items: { type: 'string', minLength: 1 }, maxItems: 50 };
  if (v.atLeast('2.90')) props.hostname = HOST;
  return obj(props, ['imageRef']);
});

/** `migrate`: no body before 2.56, then an optional host. */
export const migrateSchema = perVersion(['2.56'], (v) => (v.atLeast('2.56') ? nullableObj({ host: NULLABLE_HOST }) : { type: 'null' }));

export const liveMigrateSchema = perVersion(['2.25', '2.30', '2.68'], (v) => {
  const props: Record<string, unknown> = { host: NULLABLE_HOST, block_migration: v.atLeast('2.25') ? { enum: [true, false, 'auto', 'True', 'False', 'true', 'false'] } : { type: ['boolean', 'string'] } };
  if (!v.atLeast('2.25')) props.disk_over_commit = { type: ['boolean', 'string'] };
  if (v.atLeast('2.30') && !v.atLeast('2.68')) props.force = { type: ['boolean', 'string'] };
  return obj(props, v.atLeast('2.25') ? ['block_migration', 'host'] : ['block_migration', 'disk_over_commit', 'host']);
});

export const evacuateSchema = perVersion(['2.14', '2.29', '2.68'], (v) => {
  const props: Record<string, unknown> = { host: HOST, adminPass: { type: 'string' } };
  if (!v.atLeast('2.14')) props.onSharedStorage = { type: ['boolean', 'string'] };
  if (v.atLeast('2.29') && !v.atLeast('2.68')) props.force = { type: ['boolean', 'string'] };
  return obj(props, v.atLeast('2.14') ? [] : ['onSharedStorage']);
});

export const RESET_STATE = compile(obj({ state: { enum: ['active', 'error'] } }, ['state']));

/** `unshelve`: no body before 2.77, then a zone, and from 2.91 a host. */
export const unshelveSchema = perVersion(['2.77', '2.91'], (v) => {
  const props: Record<string, unknown> = {};
  if (v.atLeast('2.77')) props.availability_zone = NULLABLE_HOST;
  if (v.atLeast('2.91')) props.host = HOST;
  return v.atLeast('2.77') ? nullableObj(props) : { type: 'null' };
});

export const CREATE_IMAGE = compile(obj({ name: S.name, metadata: S.metadata }, ['name']));

export const CREATE_BACKUP = compile(obj({ name: S.name, backup_type: { type: 'string' }, rotation: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0 }, metadata: S.metadata }, ['name', 'backup_type', 'rotation']));

export const RESCUE = compile(nullableObj({ adminPass: { type: 'string' }, rescue_image_ref: { type: 'string', format: 'uuid' } }));

/** changePassword: Nova's admin_password, any string (never stored or logged). */
export const CHANGE_PASSWORD = compile({ type: 'object', additionalProperties: false, required: ['adminPass'], properties: { adminPass: { type: 'string' } } });

export const LOCK = compile({ type: 'object', additionalProperties: false, properties: { locked_reason: S.nullableString(255) } });
