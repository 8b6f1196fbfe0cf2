// Who is calling, and what may they do. Authentication resolves X-Auth-Token to a Kubernetes user
// (a Kova-issued token, or a Kubernetes bearer token checked with a TokenReview); authorization asks
// the apiserver (SubjectAccessReview), so Kubernetes RBAC is the one policy engine.
import { createHash, timingSafeEqual, scryptSync, randomBytes } from 'node:crypto';
import type { KubeClient } from '../kube/client.ts';
import type { ResourceType } from '../kube/types.ts';
import type { TokenClaims, TokenIssuer } from './tokens.ts';
import { GROUP } from '../api/group.ts';
import { STATIC_USER_PREFIX } from './store.ts';

export interface Caller {
  user: string;
  groups: string[];
  /** The project the token is scoped to, if any. */
  project?: { namespace: string; id: string };
  /** Keystone roles the token is limited to (an application credential's): no more than RBAC grants, maybe less. */
  roles?: string[];
  /** The application credential behind the token. */
  appcred?: { id: string; name: string; restricted: boolean };
  /** The token's own id and expiry (Kova tokens only), for revocation. */
  jti?: string;
  exp?: number;
  methods?: string[];
  federation?: { idp: string; protocol: string };
}

export interface Authenticator {
  authenticate(token: string): Promise<Caller | undefined>;
}

/** What a Kova token's validity depends on besides its signature and expiry. */
export interface TokenState {
  isRevoked(jti: string): boolean;
  appCredential(id: string, user?: string): unknown;
  staticUser(ref: string): unknown;
}

/**
 * The claims of a Kova token that is valid now: signed, unexpired, not revoked, and (for an
 * application credential's token) its credential still there — on every replica.
 */
export function liveClaims(issuer: TokenIssuer, state: TokenState | undefined, token: string): TokenClaims | undefined {
  const c = issuer.verify(token);
  if (!c || state?.isRevoked(c.jti)) return undefined;
  if (c.appcred && !state?.appCredential(c.appcred.id, c.user)) return undefined;
  // A deleted static user's tokens die with them (their names are `kova:<name>`, docs/adr/021).
  if (c.user.startsWith(STATIC_USER_PREFIX) && !state?.staticUser(c.user)) return undefined;
  return c;
}

export class KovaTokenAuthenticator implements Authenticator {
  private readonly issuer: TokenIssuer;
  private readonly state: TokenState | undefined;
  constructor(issuer: TokenIssuer, state?: TokenState) {
    this.issuer = issuer;
    this.state = state;
  }
  async authenticate(token: string): Promise<Caller | undefined> {
    const c = liveClaims(this.issuer, this.state, token);
    if (!c) return undefined;
    return { user: c.user, groups: c.groups, project: c.project, roles: c.roles, appcred: c.appcred, jti: c.jti, exp: c.exp, methods: c.methods, federation: c.federation };
  }
}

const TOKEN_REVIEWS: ResourceType = { group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', kind: 'TokenReview', namespaced: false };
const ACCESS_REVIEWS: ResourceType = { group: 'authorization.k8s.io', version: 'v1', plural: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false };

/** Small TTL cache keyed by string. */
class TtlCache<V> {
  private readonly m = new Map<string, { v: V; until: number }>();
  private readonly ttlMs: number;
  constructor(ttlMs: number) {
    this.ttlMs = ttlMs;
  }
  get(k: string): V | undefined {
    const e = this.m.get(k);
    if (!e) return undefined;
    if (e.until < Date.now()) {
      this.m.delete(k);
      return undefined;
    }
    return e.v;
  }
  set(k: string, v: V, ttlMs = this.ttlMs): void {
    if (this.m.size > 10_000) this.m.clear();
    this.m.set(k, { v, until: Date.now() + ttlMs });
  }
}

/** Kubernetes bearer tokens (service accounts, OIDC …), checked by the apiserver. */
export class TokenReviewAuthenticator implements Authenticator {
  private readonly client: KubeClient;
  private readonly cache = new TtlCache<Caller | null>(30_000);
  constructor(client: KubeClient) {
    this.client = client;
  }
  async authenticate(token: string): Promise<Caller | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const review = await this.client.create<{ metadata: object; status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] } } }>(
      TOKEN_REVIEWS, { metadata: {}, spec: { token } } as never,
    );
    const u = review.status?.authenticated ? review.status.user : undefined;
    const caller = u?.username ? { user: u.username, groups: u.groups ?? [] } : null;
    this.cache.set(key, caller);
    return caller ?? undefined;
  }
}

export class ChainAuthenticator implements Authenticator {
  private readonly chain: Authenticator[];
  constructor(...chain: Authenticator[]) {
    this.chain = chain;
  }
  async authenticate(token: string): Promise<Caller | undefined> {
    if (!token) return undefined;
    for (const a of this.chain) {
      const c = await a.authenticate(token);
      if (c) return c;
    }
    return undefined;
  }
}

/** Keystone password users that Kova itself knows (the sandbox's admin): name → Kubernetes identity. */
export class PasswordUsers {
  private readonly users = new Map<string, { salt: Buffer; hash: Buffer; user: string; groups: string[] }>();

  add(name: string, password: string, user = name, groups: string[] = []): void {
    const salt = randomBytes(16);
    this.users.set(name, { salt, hash: scryptSync(password, salt, 32), user, groups });
  }

  check(name: string, password: string): Omit<Caller, 'project'> | undefined {
    const u = this.users.get(name);
    if (!u) return undefined;
    const got = scryptSync(password, u.salt, 32);
    return timingSafeEqual(got, u.hash) ? { user: u.user, groups: u.groups } : undefined;
  }
}

export interface Access {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  subresource?: string;
  name?: string;
}

/** The virtual resource whose `use` verb makes a caller a Nova admin (granted by ClusterRole kova-admin). */
export const NOVA_ADMIN: Access = { verb: 'use', group: GROUP, resource: 'nova-admin' };

const READ_VERBS = ['get', 'list', 'watch'];

/**
 * Whether a token limited to `roles` (an application credential's) may make the access at all:
 * Nova's admin needs `admin`, anything but reading needs `member`. RBAC still decides the rest.
 */
export function withinRoles(roles: string[] | undefined, a: Pick<Access, 'verb' | 'resource'>): boolean {
  if (!roles) return true;
  if (a.resource === NOVA_ADMIN.resource) return roles.includes('admin');
  return READ_VERBS.includes(a.verb) || roles.includes('member') || roles.includes('admin');
}

export class Authorizer {
  private readonly client: KubeClient;
  private readonly cache = new TtlCache<boolean>(10_000);
  constructor(client: KubeClient) {
    this.client = client;
  }

  async can(caller: Caller, a: Access): Promise<boolean> {
    if (!withinRoles(caller.roles, a)) return false;
    const key = JSON.stringify([caller.user, caller.groups, a]);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const review = await this.client.create<{ metadata: object; status?: { allowed?: boolean } }>(ACCESS_REVIEWS, {
      metadata: {},
      spec: {
        user: caller.user,
        groups: caller.groups,
        resourceAttributes: { verb: a.verb, group: a.group, resource: a.resource, namespace: a.namespace, subresource: a.subresource, name: a.name },
      },
    } as never);
    const allowed = review.status?.allowed === true;
    // A denial is kept briefly, so a new RoleBinding takes effect within seconds.
    this.cache.set(key, allowed, allowed ? 10_000 : 2_000);
    return allowed;
  }

  isAdmin(caller: Caller): Promise<boolean> {
    return this.can(caller, NOVA_ADMIN);
  }
}
