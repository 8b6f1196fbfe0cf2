// A minimal Keystone v3 (/identity): version documents and tokens, enough for clouds.yaml-based
// clients (the openstack CLI, openstacksdk, gophercloud, Terraform) to log in and find the catalog.
// Password users are the ones Kova knows (the sandbox admin); the token method accepts a Kubernetes
// bearer token (checked by TokenReview) or a Kova token, and returns a Kova token scoped to a project.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GROUP } from '../../api/group.ts';
import type { Caller } from '../../identity/auth.ts';
import type { TokenClaims } from '../../identity/tokens.ts';
import type { FacadeDeps } from '../app.ts';
import { originOf } from './versions.ts';

const KEYSTONE_VERSION = 'v3.14';
const UPDATED = '2020-04-07T00:00:00Z';
const DOMAIN = { id: 'default', name: 'Default' };
const REGION = 'RegionOne';

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

const keystoneError = (reply: FastifyReply, code: number, title: string, message: string) =>
  reply.code(code).send({ error: { code, title, message } });

const versionDoc = (origin: string) => ({
  id: KEYSTONE_VERSION,
  status: 'stable',
  updated: UPDATED,
  links: [{ rel: 'self', href: `${origin}/identity/v3/` }],
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
});

/** The service catalog: compute, identity and image, all served by this façade. */
export function catalog(origin: string): unknown[] {
  const service = (type: string, name: string, url: string) => ({
    type,
    name,
    id: type,
    endpoints: ['public', 'internal', 'admin'].map((iface) => ({ id: `${type}-${iface}`, interface: iface, region: REGION, region_id: REGION, url })),
  });
  return [service('compute', 'nova', `${origin}/v2.1`), service('identity', 'keystone', `${origin}/identity`), service('image', 'glance', `${origin}/image`)];
}

export function registerIdentityRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  app.get('/', async (req, reply) => reply.code(300).send({ versions: { values: [versionDoc(originOf(req))] } }));
  app.get('/v3', async (req) => ({ version: versionDoc(originOf(req)) }));
  app.get('/v3/', async (req) => ({ version: versionDoc(originOf(req)) }));

  const roles = async (caller: Caller, namespace: string | undefined): Promise<{ id: string; name: string }[]> => {
    const out: string[] = [];
    if (await deps.authz.isAdmin(caller)) out.push('admin');
    if (namespace && (await deps.authz.can(caller, { verb: 'create', group: GROUP, resource: 'servers', namespace }))) out.push('member');
    if (namespace && (await deps.authz.can(caller, { verb: 'list', group: GROUP, resource: 'servers', namespace }))) out.push('reader');
    return out.map((name) => ({ id: name, name }));
  };

  const tokenBody = async (req: FastifyRequest, claims: TokenClaims, methods: string[]) => {
    const origin = originOf(req);
    const project = claims.project;
    return {
      token: {
        methods,
        user: { id: claims.user, name: claims.user, domain: DOMAIN, password_expires_at: null },
        audit_ids: [claims.jti],
        issued_at: new Date(claims.iat * 1000).toISOString().replace('Z', '000Z'),
        expires_at: new Date(claims.exp * 1000).toISOString().replace('Z', '000Z'),
        ...(project
          ? { project: { id: project.id, name: project.namespace, domain: DOMAIN }, is_domain: false, roles: await roles(claims, project.namespace), catalog: catalog(origin) }
          : { roles: [] }),
      },
    };
  };

  app.post('/v3/auth/tokens', async (req, reply) => {
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
      return keystoneError(reply, 400, 'Bad Request', 'Expecting to find identity methods password or token.');
    }
    if (!who) return keystoneError(reply, 401, 'Unauthorized', 'The request you have made requires authentication.');
    let project = inherited;
    const scope = auth?.scope;
    if (scope && scope !== 'unscoped' && scope.project) {
      const ref = scope.project.id ?? scope.project.name ?? '';
      project = deps.caches.projectByIdOrName(ref);
      if (!project) return keystoneError(reply, 401, 'Unauthorized', `Could not find project: ${ref}.`);
      const allowed = await deps.authz.can({ ...who }, { verb: 'list', group: GROUP, resource: 'servers', namespace: project.namespace });
      if (!allowed) return keystoneError(reply, 401, 'Unauthorized', `User ${who.user} has no access to project ${ref}.`);
    }
    const { token, claims } = deps.issuer.issue({ user: who.user, groups: who.groups, ...(project ? { project } : {}) });
    reply.header('x-subject-token', token);
    return reply.code(201).send(await tokenBody(req, claims, methods));
  });

  app.get('/v3/auth/tokens', async (req, reply) => {
    const subject = String(req.headers['x-subject-token'] ?? '');
    const caller = await deps.authn.authenticate(String(req.headers['x-auth-token'] ?? ''));
    if (!caller) return keystoneError(reply, 401, 'Unauthorized', 'The request you have made requires authentication.');
    const claims = deps.issuer.verify(subject);
    if (!claims) return keystoneError(reply, 404, 'Not Found', `Could not find token: ${subject.slice(0, 8)}….`);
    reply.header('x-subject-token', subject);
    return tokenBody(req, claims, ['token']);
  });

  app.get('/v3/auth/catalog', async (req) => ({ catalog: catalog(originOf(req)) }));
  app.all('/*', async (_req, reply) => keystoneError(reply, 404, 'Not Found', `The resource could not be found. (${randomUUID()})`));
}
