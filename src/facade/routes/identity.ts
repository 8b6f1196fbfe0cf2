// Keystone v3 (/identity): version documents and tokens, enough for clouds.yaml-based clients (the
// openstack CLI, openstacksdk, gophercloud, Terraform) to log in and find the catalog. Who may log
// in (docs/adr/006, 021): password users Kova knows (the sandbox admin); the token method with a
// Kubernetes bearer token (TokenReview) or a Kova token; application credentials. Tokens are
// Kova's signed tokens; revoking one (DELETE /v3/auth/tokens) holds on every replica.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../identity/auth.ts';
import type { TokenClaims } from '../../identity/tokens.ts';
import { catalogView, keystoneVersion, keystoneVersions, tokenView } from '../../nova/views/identity.ts';
import { BAD_JSON, KeystoneError, authenticated, canSeeProject, forbidden, invalid, keystoneCaller, rolesIn, sendKeystoneError, subjectClaims, unauthorized } from '../keystone.ts';
import { originOf } from '../origin.ts';
import { cacheCatchUp } from './common.ts';
import { identityResourceRoutes } from './identity-resources.ts';

interface UserRef {
  name?: string;
  id?: string;
  domain?: unknown;
}

interface AuthBody {
  auth?: {
    identity?: {
      methods?: string[];
      password?: { user?: UserRef & { password?: string } };
      token?: { id?: string };
      application_credential?: { id?: string; name?: string; secret?: string; user?: UserRef };
    };
    scope?: { project?: { name?: string; id?: string; domain?: unknown } } | 'unscoped';
  };
}

export async function identityRoutes(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((err, req, reply) => sendKeystoneError(err as Error, req, reply));
  // Keystone updates with PATCH (project set): read its JSON body here too (the app reads POST and PUT only).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (!['POST', 'PUT', 'PATCH'].includes(req.method) || text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new KeystoneError(400, BAD_JSON), undefined);
    }
  });
  app.get('/', async (req, reply) => reply.code(300).send(keystoneVersions(originOf(req))));
  app.get('/v3', async (req) => keystoneVersion(originOf(req)));
  app.get('/v3/', async (req) => keystoneVersion(originOf(req)));
  app.post('/v3/auth/tokens', issueToken);
  app.get('/v3/auth/tokens', validateToken);
  app.delete('/v3/auth/tokens', revokeToken);
  app.post('/v3/OS-FEDERATION/identity_providers/:idp/protocols/:protocol/auth', federatedLogin);
  app.get('/v3/OS-FEDERATION/identity_providers/:idp/protocols/:protocol/auth', federatedLogin);
  app.get('/v3/auth/catalog', authenticated((req) => catalogView(originOf(req))));
  await app.register(identityResourceRoutes);
  app.all('/*', async () => {
    throw new KeystoneError(404, `The resource could not be found. (${randomUUID()})`);
  });
}

async function tokenBody(req: FastifyRequest, claims: TokenClaims) {
  const roles = claims.project ? await rolesIn(req, claims, claims.project.namespace) : [];
  return tokenView(originOf(req), claims, claims.methods ?? ['token'], roles);
}

type Who = Omit<Caller, 'project' | 'jti' | 'exp'>;

/** The application_credential method: the credential's owner, project and roles; no scope of one's own. */
async function fromAppCredential(req: FastifyRequest, body: NonNullable<AuthBody['auth']>): Promise<{ who: Who; project: Caller['project']; notAfter: number }> {
  const a = body.identity?.application_credential;
  if (!a) throw invalid('application_credential', 'identity');
  if (typeof a.secret !== 'string') throw invalid('secret', 'application_credential');
  if (a.id === undefined && a.name === undefined) throw invalid('id or name', 'application_credential');
  if (a.id === undefined && !a.user) throw invalid('user', 'application_credential');
  if (body.scope) throw new KeystoneError(401, 'Application credentials cannot request a scope.');
  if (req.server.kova.applicationCredentials === false) throw unauthorized();
  const cred = await req.server.kova.identity.checkAppCredential({ id: a.id, name: a.name, user: a.user?.id ?? a.user?.name }, a.secret);
  if (!cred) throw unauthorized();
  return {
    who: { user: cred.user, groups: cred.groups, roles: cred.roles, appcred: { id: cred.id, name: cred.name, restricted: !cred.unrestricted } },
    project: cred.project,
    notAfter: cred.expires_at ? Date.parse(cred.expires_at) / 1000 : Infinity,
  };
}

async function issueToken(req: FastifyRequest, reply: FastifyReply) {
  const deps = req.server.kova;
  const auth = (req.body as AuthBody | undefined)?.auth;
  const identity = auth?.identity;
  if (!auth || !identity) throw invalid('identity', 'auth');
  const methods = identity.methods ?? [];
  let who: Who | undefined;
  let project: Caller['project'];
  let notAfter = Infinity;
  if (methods.includes('application_credential')) {
    ({ who, project, notAfter } = await fromAppCredential(req, auth));
  } else if (methods.includes('password')) {
    const u = identity.password?.user;
    const ref = u?.name ?? u?.id ?? '';
    if (u?.password !== undefined) {
      // Users Kova is started with (the sandbox's admin), then the static users it keeps.
      who = deps.passwords.check(ref, u.password);
      const stat = who ? undefined : await deps.identity.checkStaticUser(ref, u.password);
      if (stat) who = { user: stat.id, groups: [] };
    }
  } else if (methods.includes('token')) {
    const c = identity.token?.id ? await deps.authn.authenticate(identity.token.id) : undefined;
    if (c) {
      const { project: inherited, jti: _, exp, ...rest } = c;
      who = { ...rest, methods: [...new Set(['token', ...(c.methods ?? [])])] };
      project = inherited;
      // A token never makes one that outlives it.
      notAfter = exp ?? Infinity;
    }
  } else {
    throw new KeystoneError(400, 'Expecting to find identity methods password, token or application_credential.');
  }
  if (!who) throw unauthorized();
  const scope = auth.scope;
  if (scope && scope !== 'unscoped' && scope.project) {
    const ref = scope.project.id ?? scope.project.name ?? '';
    const wanted = deps.caches.projectByIdOrName(ref);
    if (!wanted) throw new KeystoneError(401, `Could not find project: ${ref}.`);
    // An application credential's token stays in the credential's project.
    if (who.appcred && wanted.id !== project?.id) throw new KeystoneError(401, 'Application credentials cannot request a scope.');
    project = wanted;
    if (!(await canSeeProject(req, { ...who }, project.namespace))) throw new KeystoneError(401, `User ${who.user} has no access to project ${ref}.`);
  } else if (scope === 'unscoped') {
    project = undefined;
  }
  const { token, claims } = deps.issuer.issue({ ...who, methods: who.methods ?? methods, ...(project ? { project } : {}) }, Date.now(), notAfter);
  reply.header('x-subject-token', token);
  return reply.code(201).send(await tokenBody(req, claims));
}

/**
 * keystoneauth's v3oidcaccesstoken (and other OIDC plugins') first step: the bearer access token is
 * checked by the apiserver (TokenReview, so its JWT authenticators, i.e. the cluster's IdP, decide
 * who it is) and an unscoped Kova token is returned, which the client then scopes with the token method.
 */
async function federatedLogin(req: FastifyRequest, reply: FastifyReply) {
  const deps = req.server.kova;
  const { idp, protocol } = req.params as { idp: string; protocol: string };
  if (deps.identityProviders && !deps.identityProviders.includes(idp)) throw new KeystoneError(404, `Could not find Identity Provider: ${idp}.`);
  const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
  const c = bearer ? await deps.authn.authenticate(bearer) : undefined;
  // A Kova token is not an IdP's: only what the apiserver authenticates logs in here.
  if (!c || c.jti) throw unauthorized();
  const { token, claims } = deps.issuer.issue({ user: c.user, groups: c.groups, methods: [protocol], federation: { idp, protocol } });
  reply.header('x-subject-token', token);
  return reply.code(201).send(await tokenBody(req, claims));
}

/** Keystone's policy for checking or revoking a token: its own user, or an admin. */
async function mayHandle(req: FastifyRequest, caller: Caller, claims: TokenClaims, action: string): Promise<void> {
  if (claims.user !== caller.user && !(await req.server.kova.authz.isAdmin(caller))) throw forbidden(action);
}

async function validateToken(req: FastifyRequest, reply: FastifyReply) {
  const caller = await keystoneCaller(req);
  const claims = subjectClaims(req);
  await mayHandle(req, caller, claims, 'identity:validate_token');
  reply.header('x-subject-token', String(req.headers['x-subject-token']));
  return tokenBody(req, claims);
}

async function revokeToken(req: FastifyRequest, reply: FastifyReply) {
  const caller = await keystoneCaller(req);
  const claims = subjectClaims(req);
  await mayHandle(req, caller, claims, 'identity:revoke_token');
  const store = req.server.kova.identity;
  await store.revoke(claims.jti, claims.exp);
  await cacheCatchUp(store.informer, () => store.isRevoked(claims.jti));
  return reply.code(204).send();
}
