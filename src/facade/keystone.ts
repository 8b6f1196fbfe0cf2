// What the Keystone routes share: Keystone's errors (thrown as KeystoneError, rendered as Keystone's
// body by the /identity error handler), the caller of a request (X-Auth-Token), and the caller's
// Keystone roles in a project, read from Kubernetes RBAC.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GROUP } from '../api/group.ts';
import { liveClaims, type Caller } from '../identity/auth.ts';
import type { TokenClaims } from '../identity/tokens.ts';
import { KubeError } from '../kube/client.ts';
import { NovaError } from '../nova/faults.ts';
import { keystoneError } from '../nova/views/identity.ts';
import { originOf } from './origin.ts';

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Request Entity Too Large',
  415: 'Unsupported Media Type', 500: 'Internal Server Error', 501: 'Not Implemented',
};
/** What Keystone says of a body that is not a JSON object. */
export const BAD_JSON = 'The request body must be a JSON object.';
const NOT_JSON = 'Expecting to find application/json in Content-Type header - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.';

/** A Keystone error, rendered as `{"error": {code, title, message}}` by the /identity error handler. */
export class KeystoneError extends NovaError {
  override readonly name = 'KeystoneError';
}

export const unauthorized = (): KeystoneError => new KeystoneError(401, 'The request you have made requires authentication.');
export const forbidden = (action: string): KeystoneError => new KeystoneError(403, `You are not authorized to perform the requested action: ${action}.`);
export const notFound = (target: string, id: string): KeystoneError => new KeystoneError(404, `Could not find ${target}: ${id}.`);
export const invalid = (attr: string, target: string): KeystoneError =>
  new KeystoneError(400, `Expecting to find ${attr} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);

/**
 * The /identity error handler: Keystone's body for every error, including what fails before a
 * handler runs (content type, JSON, size); a 401 says where to authenticate.
 */
export function sendKeystoneError(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  let code = 500;
  let message = 'An unexpected error prevented the server from fulfilling your request.';
  const e = err as { statusCode?: number; code?: number | string; message?: string };
  const status = typeof e.code === 'number' ? e.code : e.statusCode;
  if (err instanceof KeystoneError) [code, message] = [err.code, err.message];
  // The app's own body parsers speak Nova; here they get Keystone's words.
  else if (err instanceof NovaError) [code, message] = [err.code, err.code === 400 ? BAD_JSON : err.message];
  else if (err instanceof KubeError && [403, 404, 409, 422].includes(err.code)) [code, message] = [err.code === 422 ? 400 : err.code, err.status?.message ?? err.message];
  else if (status !== undefined && status >= 400 && status < 500) [code, message] = [status, status === 400 ? BAD_JSON : e.message ?? 'Bad request'];
  else req.server.kova.log.error('identity request failed', { requestId: req.requestId, url: req.url, err });
  if (code === 415 || (code === 400 && /content.type/i.test(e.message ?? ''))) [code, message] = [400, NOT_JSON];
  if (code === 401) reply.header('www-authenticate', `Keystone uri="${originOf(req)}/identity"`);
  return reply.code(code).send(keystoneError(code, TITLES[code] ?? 'Error', message));
}

/** The caller of a Keystone request (X-Auth-Token), or Keystone's 401. */
export async function keystoneCaller(req: FastifyRequest): Promise<Caller> {
  const token = String(req.headers['x-auth-token'] ?? '');
  const caller = token ? await req.server.kova.authn.authenticate(token) : undefined;
  if (!caller) throw unauthorized();
  return caller;
}

/** A read any authenticated caller may make: the handler runs once X-Auth-Token checks out. */
export const authenticated = <T>(handler: (req: FastifyRequest) => T) => async (req: FastifyRequest): Promise<Awaited<T>> => {
  await keystoneCaller(req);
  return await handler(req);
};

/** The claims of a live Kova token named by X-Subject-Token, or Keystone's 404. */
export function subjectClaims(req: FastifyRequest): TokenClaims {
  const subject = String(req.headers['x-subject-token'] ?? '');
  const deps = req.server.kova;
  const claims = liveClaims(deps.issuer, deps.identity, subject);
  if (!claims) throw new KeystoneError(404, 'Failed to validate token');
  return claims;
}

/** Keystone's roles, highest first; each implies the ones after it. */
export const ROLES = ['admin', 'member', 'reader'] as const;

/** The caller's roles in a project, from RBAC: admin, member (may create servers), reader (may list them). */
export async function rolesIn(req: FastifyRequest, caller: Caller, namespace: string): Promise<string[]> {
  const { authz } = req.server.kova;
  const [admin, member, reader] = await Promise.all([
    authz.isAdmin(caller),
    authz.can(caller, { verb: 'create', group: GROUP, resource: 'servers', namespace }),
    authz.can(caller, { verb: 'list', group: GROUP, resource: 'servers', namespace }),
  ]);
  return ROLES.filter((_, i) => [admin, member, reader][i]);
}

/** Whether the caller may see the project at all (has a role there, or is an admin). */
export const canSeeProject = (req: FastifyRequest, caller: Caller, namespace: string): Promise<boolean> =>
  req.server.kova.authz.can(caller, { verb: 'list', group: GROUP, resource: 'servers', namespace });
