// A minimal Keystone v3 (/identity): version documents and tokens, enough for clouds.yaml-based
// clients (the openstack CLI, openstacksdk, gophercloud, Terraform) to log in and find the catalog.
// Password users are the ones Kova knows (the sandbox admin); the token method accepts a Kubernetes
// bearer token (checked by TokenReview) or a Kova token, and returns a Kova token scoped to a project.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GROUP } from '../../api/group.ts';
import type { Caller } from '../../identity/auth.ts';
import type { TokenClaims } from '../../identity/tokens.ts';
import { catalogView, keystoneError, keystoneVersion, keystoneVersions, tokenView } from '../../nova/views/identity.ts';
import { originOf } from '../origin.ts';

interface AuthBody {
  auth?: {
    identity?: {
      methods?: string[];
      password?: { user?: { name?: string; id?: string; password?: string; domain?: unknown } };
      token?: { id?: string };
    };
    scope?: { project?: { name?: string; id?: string; domain?: unknown } } | 'unscoped';
  };
}

export async function identityRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (req, reply) => reply.code(300).send(keystoneVersions(originOf(req))));
  app.get('/v3', async (req) => keystoneVersion(originOf(req)));
  app.get('/v3/', async (req) => keystoneVersion(originOf(req)));
  app.post('/v3/auth/tokens', issueToken);
  app.get('/v3/auth/tokens', validateToken);
  app.get('/v3/auth/catalog', async (req) => catalogView(originOf(req)));
  app.all('/*', async (_req, reply) => sendError(reply, 404, 'Not Found', `The resource could not be found. (${randomUUID()})`));
}

const sendError = (reply: FastifyReply, code: number, title: string, message: string) => reply.code(code).send(keystoneError(code, title, message));

/** The caller's roles in a project, from RBAC: admin, member (may create servers), reader (may list them). */
async function rolesIn(req: FastifyRequest, caller: Caller, namespace: string): Promise<string[]> {
  const { authz } = req.server.kova;
  const out: string[] = [];
  if (await authz.isAdmin(caller)) out.push('admin');
  if (await authz.can(caller, { verb: 'create', group: GROUP, resource: 'servers', namespace })) out.push('member');
  if (await authz.can(caller, { verb: 'list', group: GROUP, resource: 'servers', namespace })) out.push('reader');
  return out;
}

async function tokenBody(req: FastifyRequest, claims: TokenClaims, methods: string[]) {
  const roles = claims.project ? await rolesIn(req, claims, claims.project.namespace) : [];
  return tokenView(originOf(req), claims, methods, roles);
}

async function issueToken(req: FastifyRequest, reply: FastifyReply) {
  const deps = req.server.kova;
  const auth = (req.body as AuthBody | undefined)?.auth;
  const identity = auth?.identity;
  const methods = identity?.methods ?? [];
  let who: Omit<Caller, 'project'> | undefined;
  let inherited: Caller['project'];
  if (methods.includes('password')) {
    const u = identity?.password?.user;
    who = u?.password !== undefined ? deps.passwords.check(u.name ?? u.id ?? '', u.password) : undefined;
  } else if (methods.includes('token')) {
    const c = identity?.token?.id ? await deps.authn.authenticate(identity.token.id) : undefined;
    if (c) {
      who = { user: c.user, groups: c.groups };
      inherited = c.project;
    }
  } else {
    return sendError(reply, 400, 'Bad Request', 'Expecting to find identity methods password or token.');
  }
  if (!who) return sendError(reply, 401, 'Unauthorized', 'The request you have made requires authentication.');
  let project = inherited;
  const scope = auth?.scope;
  if (scope && scope !== 'unscoped' && scope.project) {
    const ref = scope.project.id ?? scope.project.name ?? '';
    project = deps.caches.projectByIdOrName(ref);
    if (!project) return sendError(reply, 401, 'Unauthorized', `Could not find project: ${ref}.`);
    const allowed = await deps.authz.can({ ...who }, { verb: 'list', group: GROUP, resource: 'servers', namespace: project.namespace });
    if (!allowed) return sendError(reply, 401, 'Unauthorized', `User ${who.user} has no access to project ${ref}.`);
  }
  const { token, claims } = deps.issuer.issue({ user: who.user, groups: who.groups, ...(project ? { project } : {}) });
  reply.header('x-subject-token', token);
  return reply.code(201).send(await tokenBody(req, claims, methods));
}

async function validateToken(req: FastifyRequest, reply: FastifyReply) {
  const deps = req.server.kova;
  const subject = String(req.headers['x-subject-token'] ?? '');
  const caller = await deps.authn.authenticate(String(req.headers['x-auth-token'] ?? ''));
  if (!caller) return sendError(reply, 401, 'Unauthorized', 'The request you have made requires authentication.');
  const claims = deps.issuer.verify(subject);
  if (!claims) return sendError(reply, 404, 'Not Found', `Could not find token: ${subject.slice(0, 8)}….`);
  // Keystone's identity:validate_token: the token's own user, or an admin.
  if (claims.user !== caller.user && !(await deps.authz.isAdmin(caller))) return sendError(reply, 403, 'Forbidden', 'You are not authorized to perform the requested action: identity:validate_token.');
  reply.header('x-subject-token', subject);
  return tokenBody(req, claims, ['token']);
}
