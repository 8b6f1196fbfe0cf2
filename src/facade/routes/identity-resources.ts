// Keystone v3's resources beside tokens (docs/adr/021): application credentials (kept as hashed
// Secrets in Kova's namespace), projects (namespaces labelled compute.kova.io/project; an admin
// creates and deletes them as themself), users (Kubernetes users: only oneself is shown), the one
// domain, the three roles and role assignments (what RBAC grants, asked of the apiserver).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROJECT_LABEL } from '../../api/labels.ts';
import { roleBinding } from '../../api/rbac.ts';
import type { Caller } from '../../identity/auth.ts';
import type { AppCredential, StaticUser } from '../../identity/store.ts';
import { isAlreadyExists } from '../../kube/client.ts';
import { NAMESPACES, ROLE_BINDING_TYPE, type Namespace } from '../../kube/types.ts';
import { appCredentialView, domainView, listLinks, projectView, roleView, userView } from '../../nova/views/identity.ts';
import { KeystoneError, ROLES, authenticated, canSeeProject, forbidden, invalid, keystoneCaller, notFound, rolesIn } from '../keystone.ts';
import { originOf } from '../origin.ts';
import { cacheCatchUp } from './common.ts';

/** Set on namespaces made by POST /v3/projects: only those are deleted by DELETE. */
const MADE_BY_KEYSTONE = 'identity.kova.io/created-by-keystone';
const DESCRIPTION = 'identity.kova.io/description';

export async function identityResourceRoutes(app: FastifyInstance): Promise<void> {
  const creds = '/v3/users/:user_id/application_credentials';
  app.post(creds, createAppCredential);
  app.get(creds, listAppCredentials);
  app.get(`${creds}/:id`, async (req) => ({ application_credential: appCredentialView(originOf(req), await ownCredential(req, 'identity:get_application_credential')) }));
  app.delete(`${creds}/:id`, deleteAppCredential);

  app.get('/v3/auth/projects', async (req) => projectList(req, await visibleProjects(req, await keystoneCaller(req))));
  app.get('/v3/users/:user_id/projects', async (req) => projectList(req, await visibleProjects(req, await selfOrAdmin(req, 'identity:list_user_projects'))));
  app.get('/v3/projects', listProjects);
  app.get('/v3/projects/:id', showProject);
  app.post('/v3/projects', createProject);
  app.patch('/v3/projects/:id', updateProject);
  app.delete('/v3/projects/:id', deleteProject);

  app.get('/v3/users/:user_id', showUser);
  app.get('/v3/users', listUsers);
  app.post('/v3/users', createUser);
  app.delete('/v3/users/:user_id', deleteUser);
  app.get('/v3/roles', authenticated((req) => ({ roles: ROLES.map((r) => roleView(originOf(req), r)), links: listLinks(`${originOf(req)}/identity/v3/roles`) })));
  app.get('/v3/roles/:id', authenticated((req) => {
    const id = (req.params as { id: string }).id;
    if (!(ROLES as readonly string[]).includes(id)) throw notFound('role', id);
    return { role: roleView(originOf(req), id) };
  }));
  const domains = authenticated((req) => ({ domains: [domainView(originOf(req))], links: listLinks(`${originOf(req)}${req.url}`) }));
  app.get('/v3/auth/domains', domains);
  app.get('/v3/domains', domains);
  app.get('/v3/domains/:id', authenticated((req) => {
    const id = (req.params as { id: string }).id;
    if (id !== 'default') throw notFound('domain', id);
    return { domain: domainView(originOf(req)) };
  }));
  app.get('/v3/role_assignments', roleAssignments);
  const grant = '/v3/projects/:id/users/:user_id/roles/:role_id';
  app.put(grant, grantRole);
  app.get(grant, checkGrant);
  app.delete(grant, revokeGrant);
  app.get('/v3/projects/:id/users/:user_id/roles', async (req) => {
    const { project, user } = await grantTarget(req, 'identity:list_grants');
    return { roles: (await rolesIn(req, user, project.namespace)).map((r) => roleView(originOf(req), r)), links: listLinks(`${originOf(req)}${req.url}`) };
  });
}

/** A static user as Keystone shows it. */
const staticUserView = (req: FastifyRequest, u: StaticUser) => ({ ...userView(originOf(req), u.id, u.name), description: u.description, ...(u.email ? { email: u.email } : {}) });

/** GET /v3/users/{id}: oneself, or for an admin a static user (by id or name) or any Kubernetes user name. */
async function showUser(req: FastifyRequest) {
  const caller = await selfOrAdmin(req, 'identity:get_user');
  const id = (req.params as { user_id: string }).user_id;
  const u = req.server.kova.identity.staticUser(id);
  if (u && (u.id === caller.user || (await req.server.kova.authz.isAdmin(caller)))) return { user: staticUserView(req, u) };
  // Any other Kubernetes user exists wherever RBAC names one: an admin may look them up (role add).
  return { user: userView(originOf(req), id) };
}

/** GET /v3/users (admin): the static users; users of the cluster's IdP are not listed. */
async function listUsers(req: FastifyRequest) {
  await requireAdmin(req, 'identity:list_users');
  const { name } = req.query as { name?: string };
  const users = req.server.kova.identity.staticUsers().filter((u) => name === undefined || u.name === name);
  return { users: users.map((u) => staticUserView(req, u)), links: listLinks(`${originOf(req)}${req.url}`) };
}

/** Static user names: what can follow `kova:` in a Kubernetes user name and read well in a RoleBinding. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/;

async function createUser(req: FastifyRequest, reply: FastifyReply) {
  await requireAdmin(req, 'identity:create_user');
  const b = (req.body as { user?: { name?: unknown; password?: unknown; description?: unknown; email?: unknown; domain_id?: unknown } } | undefined)?.user;
  if (!b || typeof b !== 'object') throw invalid('user', 'request body');
  if (typeof b.name !== 'string' || !b.name) throw invalid('name', 'user');
  if (!USER_NAME.test(b.name)) throw new KeystoneError(400, `Invalid user name ${b.name}: letters, digits, '.', '_', '@' and '-', at most 63, starting with a letter or digit.`);
  if (typeof b.password !== 'string' || !b.password) throw new KeystoneError(400, 'Kova\'s users log in with a password: give user.password (or use the cluster\'s IdP instead).');
  if (b.domain_id !== undefined && b.domain_id !== null && b.domain_id !== 'default') throw notFound('domain', String(b.domain_id));
  const store = req.server.kova.identity;
  const made = await store.createStaticUser(b.name, b.password, { description: typeof b.description === 'string' ? b.description : null, email: typeof b.email === 'string' ? b.email : null });
  if (!made) throw new KeystoneError(409, `Conflict occurred attempting to store user - Duplicate entry found with name ${b.name} at domain ID default.`);
  await cacheCatchUp(store.informer, () => !!store.staticUser(made.name));
  return reply.code(201).send({ user: staticUserView(req, made) });
}

async function deleteUser(req: FastifyRequest, reply: FastifyReply) {
  await requireAdmin(req, 'identity:delete_user');
  const id = (req.params as { user_id: string }).user_id;
  const store = req.server.kova.identity;
  const u = store.staticUser(id);
  if (!u) throw notFound('user', id);
  if (store.isInstallUser(u.name)) throw new KeystoneError(403, `User ${u.name} comes from the install's static users Secret: remove it there.`);
  await store.deleteStaticUser(u);
  await cacheCatchUp(store.informer, () => !store.staticUser(u.name));
  return reply.code(204).send();
}

/** The caller, who must be the path's user or an admin. */
async function selfOrAdmin(req: FastifyRequest, action: string): Promise<Caller> {
  const caller = await keystoneCaller(req);
  if ((req.params as { user_id: string }).user_id !== caller.user && !(await req.server.kova.authz.isAdmin(caller))) throw forbidden(action);
  return caller;
}

/** A token of a restricted application credential may not manage application credentials. */
function notRestricted(caller: Caller): void {
  if (caller.appcred?.restricted) throw new KeystoneError(403, 'Using method application_credential is not allowed for managing additional application credentials.');
}

interface CreateBody {
  application_credential?: { name?: unknown; secret?: unknown; description?: unknown; expires_at?: unknown; roles?: unknown; unrestricted?: unknown; access_rules?: unknown };
}

/** The roles asked for, each with the roles it implies, all of which the creating token must have. */
function credentialRoles(asked: unknown, tokenRoles: string[]): string[] {
  if (asked === undefined || asked === null || (Array.isArray(asked) && asked.length === 0)) return tokenRoles;
  if (!Array.isArray(asked)) throw new KeystoneError(400, 'Invalid input for field roles: expected a list of {"id"} or {"name"}.');
  const out = new Set<string>();
  for (const r of asked as { id?: unknown; name?: unknown }[]) {
    const ref = String(r?.id ?? r?.name ?? '');
    const i = (ROLES as readonly string[]).indexOf(ref);
    if (i < 0) throw notFound('role', ref);
    for (const implied of ROLES.slice(i)) out.add(implied);
  }
  if ([...out].some((r) => !tokenRoles.includes(r))) throw new KeystoneError(400, 'Invalid application credential: Cannot create an application credential with unassigned role');
  return ROLES.filter((r) => out.has(r));
}

async function createAppCredential(req: FastifyRequest, reply: FastifyReply) {
  const caller = await keystoneCaller(req);
  if (req.server.kova.applicationCredentials === false) throw new KeystoneError(403, 'Application credentials are turned off on this cloud (Helm value identity.applicationCredentials).');
  const userId = (req.params as { user_id: string }).user_id;
  if (userId !== caller.user) throw new KeystoneError(403, 'Cannot create an application credential for another user.');
  notRestricted(caller);
  const project = caller.project;
  if (!project) throw new KeystoneError(403, 'An application credential is made with a project-scoped token: it is bound to that project.');
  const b = (req.body as CreateBody | undefined)?.application_credential;
  if (!b || typeof b !== 'object') throw invalid('application_credential', 'request body');
  if (typeof b.name !== 'string' || !b.name || b.name.length > 255) throw invalid('name', 'application_credential');
  if (b.description !== undefined && b.description !== null && typeof b.description !== 'string') throw new KeystoneError(400, 'Invalid input for field description: expected a string.');
  if (b.secret !== undefined && b.secret !== null && (typeof b.secret !== 'string' || !b.secret)) throw new KeystoneError(400, 'Invalid input for field secret: expected a non-empty string.');
  if (b.unrestricted !== undefined && b.unrestricted !== null && typeof b.unrestricted !== 'boolean') throw new KeystoneError(400, 'Invalid input for field unrestricted: expected a boolean.');
  if (Array.isArray(b.access_rules) ? b.access_rules.length > 0 : b.access_rules !== undefined && b.access_rules !== null) {
    throw new KeystoneError(400, 'Access rules are not supported by Kova: limit a credential with its roles instead.');
  }
  let expires: string | null = null;
  if (b.expires_at !== undefined && b.expires_at !== null) {
    // Zone-less times (what the CLI sends) are UTC, as Keystone reads them.
    const text = String(b.expires_at);
    const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
    if (Number.isNaN(t)) throw new KeystoneError(400, `Invalid input for field expires_at: '${text}' is not an ISO 8601 date-time.`);
    if (t <= Date.now()) throw new KeystoneError(400, 'Invalid application credential: expires_at is in the past.');
    expires = new Date(t).toISOString();
  }
  const roles = credentialRoles(b.roles, await rolesIn(req, caller, project.namespace));
  const secret = typeof b.secret === 'string' ? b.secret : randomBytes(64).toString('base64url');
  const store = req.server.kova.identity;
  const made = await store.createAppCredential({
    name: b.name, description: typeof b.description === 'string' ? b.description : null, user: caller.user, groups: caller.groups, project, roles, expires_at: expires, unrestricted: b.unrestricted === true,
  }, secret);
  if (!made) throw new KeystoneError(409, `Conflict occurred attempting to store application_credential - Duplicate entry: ${caller.user} already has an application credential named ${b.name}.`);
  await cacheCatchUp(store.informer, () => !!store.appCredential(made.id));
  return reply.code(201).send({ application_credential: appCredentialView(originOf(req), made, secret) });
}

async function listAppCredentials(req: FastifyRequest) {
  await selfOrAdmin(req, 'identity:list_application_credentials');
  const userId = (req.params as { user_id: string }).user_id;
  const name = (req.query as { name?: string }).name;
  const list = req.server.kova.identity.appCredentials(userId).filter((c) => name === undefined || c.name === name).sort((a, b) => a.name.localeCompare(b.name));
  return { application_credentials: list.map((c) => appCredentialView(originOf(req), c)), links: listLinks(`${originOf(req)}${req.url}`) };
}

/** The path's credential, which must be the path user's, seen by that user or an admin. */
async function ownCredential(req: FastifyRequest, action: string): Promise<AppCredential> {
  await selfOrAdmin(req, action);
  const { user_id: userId, id } = req.params as { user_id: string; id: string };
  const cred = req.server.kova.identity.appCredential(id, userId);
  if (!cred) throw notFound('application credential', id);
  return cred;
}

async function deleteAppCredential(req: FastifyRequest, reply: FastifyReply) {
  notRestricted(await keystoneCaller(req));
  const cred = await ownCredential(req, 'identity:delete_application_credential');
  const store = req.server.kova.identity;
  await store.deleteAppCredential(cred);
  await cacheCatchUp(store.informer, () => !store.appCredential(cred.id));
  return reply.code(204).send();
}

/** Every project, as Kova sees them: namespaces labelled compute.kova.io/project. */
function allProjects(req: FastifyRequest): { namespace: string; id: string; description?: string }[] {
  const { caches } = req.server.kova;
  return caches.namespaces.list().map((ns) => ({
    namespace: ns.metadata.name ?? '', id: caches.projectIdOf(ns.metadata.name ?? '') ?? '', description: ns.metadata.annotations?.[DESCRIPTION],
  })).sort((a, b) => a.namespace.localeCompare(b.namespace));
}

/** The projects a caller has a role in; a token scoped to a project sees only that one if limited to it (an application credential's). */
async function visibleProjects(req: FastifyRequest, caller: Caller) {
  const all = allProjects(req).filter((p) => !caller.appcred || p.id === caller.project?.id);
  const seen = await Promise.all(all.map((p) => canSeeProject(req, caller, p.namespace)));
  return all.filter((_, i) => seen[i]);
}

const projectList = (req: FastifyRequest, projects: ReturnType<typeof allProjects>) =>
  ({ projects: projects.map((p) => projectView(originOf(req), p)), links: listLinks(`${originOf(req)}${req.url}`) });

async function listProjects(req: FastifyRequest) {
  const caller = await keystoneCaller(req);
  if (!(await req.server.kova.authz.isAdmin(caller))) throw forbidden('identity:list_projects');
  const { name } = req.query as { name?: string };
  return projectList(req, allProjects(req).filter((p) => name === undefined || p.namespace === name));
}

/** The path's project (by id, or by name as the CLI tries first), visible to the caller. */
async function findProject(req: FastifyRequest, caller: Caller, action: string) {
  const id = (req.params as { id: string }).id;
  const p = allProjects(req).find((x) => x.id === id || x.namespace === id);
  if (!p) throw notFound('project', id);
  if (!(await canSeeProject(req, caller, p.namespace)) || (caller.appcred && caller.project?.id !== p.id)) throw forbidden(action);
  return p;
}

async function showProject(req: FastifyRequest) {
  return { project: projectView(originOf(req), await findProject(req, await keystoneCaller(req), 'identity:get_project')) };
}

/** Kubernetes namespace names are DNS labels; so are Kova's project names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

async function requireAdmin(req: FastifyRequest, action: string): Promise<Caller> {
  const caller = await keystoneCaller(req);
  if (!(await req.server.kova.authz.isAdmin(caller))) throw forbidden(action);
  return caller;
}

async function createProject(req: FastifyRequest, reply: FastifyReply) {
  const caller = await requireAdmin(req, 'identity:create_project');
  const b = (req.body as { project?: { name?: unknown; description?: unknown; domain_id?: unknown; is_domain?: unknown } } | undefined)?.project;
  if (!b || typeof b !== 'object') throw invalid('project', 'request body');
  if (typeof b.name !== 'string' || !b.name) throw invalid('name', 'project');
  if (!DNS_LABEL.test(b.name)) throw new KeystoneError(400, `Invalid project name ${b.name}: a project is a Kubernetes namespace, so its name is lower-case letters, digits and '-' (at most 63, starting and ending with a letter or digit).`);
  if (b.domain_id !== undefined && b.domain_id !== null && b.domain_id !== 'default') throw notFound('domain', String(b.domain_id));
  if (b.is_domain === true) throw new KeystoneError(400, 'Kova has one domain (default); a project cannot be a domain.');
  const id = randomUUID().replaceAll('-', '');
  const description = typeof b.description === 'string' ? b.description : '';
  const ns: Namespace = { metadata: { name: b.name, labels: { [PROJECT_LABEL]: id }, annotations: { [MADE_BY_KEYSTONE]: 'true', ...(description ? { [DESCRIPTION]: description } : {}) } } };
  const deps = req.server.kova;
  try {
    await deps.client.as(caller.user, caller.groups).create(NAMESPACES, ns);
  } catch (e) {
    if (isAlreadyExists(e)) throw new KeystoneError(409, `Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : ${b.name}.`);
    throw e;
  }
  await cacheCatchUp(deps.caches.namespaces, () => deps.caches.projectIdOf(b.name as string) === id);
  return reply.code(201).send({ project: projectView(originOf(req), { namespace: b.name, id, description }) });
}

/** PATCH /v3/projects/{id} (admin): the description; a project's name is its namespace's, fixed. */
async function updateProject(req: FastifyRequest) {
  const caller = await requireAdmin(req, 'identity:update_project');
  const p = await findProject(req, caller, 'identity:update_project');
  const b = (req.body as { project?: { name?: unknown; description?: unknown; enabled?: unknown } } | undefined)?.project;
  if (!b || typeof b !== 'object') throw invalid('project', 'request body');
  if (b.name !== undefined && b.name !== p.namespace) throw new KeystoneError(400, `A project's name is its namespace's (${p.namespace}) and cannot change.`);
  if (b.enabled === false) throw new KeystoneError(400, 'Kova projects cannot be disabled: remove the users\' RoleBindings instead.');
  if (b.description !== undefined && b.description !== null && typeof b.description !== 'string') throw new KeystoneError(400, 'Invalid input for field description: expected a string.');
  const deps = req.server.kova;
  let description = p.description ?? '';
  if (typeof b.description === 'string' || b.description === null) {
    description = b.description ?? '';
    await deps.client.as(caller.user, caller.groups).mergePatch(NAMESPACES, p.namespace, undefined, { metadata: { annotations: { [DESCRIPTION]: description || null } } });
    await cacheCatchUp(deps.caches.namespaces, () => (deps.caches.namespaces.get(p.namespace)?.metadata.annotations?.[DESCRIPTION] ?? '') === description);
  }
  return { project: projectView(originOf(req), { ...p, description }) };
}

async function deleteProject(req: FastifyRequest, reply: FastifyReply) {
  const caller = await requireAdmin(req, 'identity:delete_project');
  const p = await findProject(req, caller, 'identity:delete_project');
  const deps = req.server.kova;
  if (deps.caches.namespaces.get(p.namespace)?.metadata.annotations?.[MADE_BY_KEYSTONE] !== 'true') {
    throw new KeystoneError(403, `Project ${p.namespace} was not made through Keystone: its namespace is deleted with kubectl, or it stops being a project when its ${PROJECT_LABEL} label is removed.`);
  }
  await deps.client.as(caller.user, caller.groups).delete(NAMESPACES, p.namespace);
  return reply.code(204).send();
}

/**
 * GET /v3/role_assignments: a user's roles per project as RBAC grants them (effective roles; the
 * RoleBindings of kova-reader / kova-member and kova-admin's ClusterRoleBinding, as the apiserver
 * answers for them). Others' assignments need the admin role and are computed without their groups.
 */
async function roleAssignments(req: FastifyRequest) {
  const caller = await keystoneCaller(req);
  const q = req.query as Record<string, string | undefined>;
  const userId = q['user.id'] ?? caller.user;
  const admin = await req.server.kova.authz.isAdmin(caller);
  if (userId !== caller.user && !admin) throw forbidden('identity:list_role_assignments');
  if (q['group.id'] !== undefined) return { role_assignments: [], links: listLinks(`${originOf(req)}${req.url}`) };
  const subject: Caller = userId === caller.user ? caller : { user: userId, groups: [] };
  const projects = allProjects(req).filter((p) => !q['scope.project.id'] || p.id === q['scope.project.id'] || p.namespace === q['scope.project.id']);
  const names = q.include_names !== undefined && q.include_names !== '0';
  const origin = originOf(req);
  const out: unknown[] = [];
  for (const p of projects) {
    for (const role of await rolesIn(req, subject, p.namespace)) {
      if (q['role.id'] && q['role.id'] !== role) continue;
      out.push({
        role: names ? { id: role, name: role } : { id: role },
        scope: { project: names ? { id: p.id, name: p.namespace, domain: { id: 'default', name: 'Default' } } : { id: p.id } },
        user: names ? { id: userId, name: userId, domain: { id: 'default', name: 'Default' } } : { id: userId },
        links: { assignment: `${origin}/identity/v3/projects/${p.id}/users/${encodeURIComponent(userId)}/roles/${role}` },
      });
    }
  }
  return { role_assignments: out, links: listLinks(`${origin}${req.url}`) };
}

/** The project, user and role of a grant path; admins only (roles are RoleBindings). */
async function grantTarget(req: FastifyRequest, action: string) {
  const caller = await requireAdmin(req, action);
  const project = await findProject(req, caller, action);
  const { user_id: userId, role_id: role } = req.params as { user_id: string; role_id?: string };
  if (role !== undefined && !(ROLES as readonly string[]).includes(role)) throw notFound('role', role);
  return { caller, project, user: { user: req.server.kova.identity.staticUser(userId)?.id ?? userId, groups: [] } as Caller, role };
}

/** The RoleBinding Keystone makes for a grant: kova-reader or kova-member to one user in the project's namespace. */
const grantBinding = (namespace: string, user: string, role: string) =>
  roleBinding(namespace, `kova-keystone-${role}-${createHash('sha256').update(user).digest('hex').slice(0, 16)}`, `kova-${role}`, { kind: 'User', name: user });

/** PUT /v3/projects/{p}/users/{u}/roles/{r}: a RoleBinding, made as the admin (RBAC checks they may bind). */
async function grantRole(req: FastifyRequest, reply: FastifyReply) {
  const { caller, project, user, role } = await grantTarget(req, 'identity:create_grant');
  if (role === 'admin') throw new KeystoneError(400, 'admin is cluster-wide in Kova: bind ClusterRole kova-admin with a ClusterRoleBinding.');
  await req.server.kova.client.as(caller.user, caller.groups).apply(ROLE_BINDING_TYPE, grantBinding(project.namespace, user.user, role!), { fieldManager: 'kova-keystone' });
  return reply.code(204).send();
}

/** HEAD/GET: 204 when RBAC gives the user the role there (however it was granted), else 404. */
async function checkGrant(req: FastifyRequest, reply: FastifyReply) {
  const { project, user, role } = await grantTarget(req, 'identity:check_grant');
  if (!(await rolesIn(req, user, project.namespace)).includes(role!)) throw notFound('role assignment', `${role} for ${user.user} on ${project.id}`);
  return reply.code(204).send();
}

/** DELETE: removes the RoleBinding Keystone made; roles granted otherwise are kubectl's to remove. */
async function revokeGrant(req: FastifyRequest, reply: FastifyReply) {
  const { caller, project, user, role } = await grantTarget(req, 'identity:revoke_grant');
  const b = grantBinding(project.namespace, user.user, role!);
  const gone = await req.server.kova.client.as(caller.user, caller.groups).delete(ROLE_BINDING_TYPE, b.metadata.name ?? '', project.namespace);
  if (!gone) throw notFound('role assignment', `${role} for ${user.user} on ${project.id} (only roles granted through Keystone are removed here; others are RoleBindings to delete with kubectl)`);
  return reply.code(204).send();
}
