// The Keystone v3 bodies the façade serves beside Nova's (/identity): version documents, the
// service catalog (compute, identity, image and network, all served here), tokens and errors. Pure.

const KEYSTONE_VERSION = 'v3.14';
const UPDATED = '2020-04-07T00:00:00Z';
const DOMAIN = { id: 'default', name: 'Default' };
const REGION = 'RegionOne';

/** What a token body shows of the token's claims. */
export interface TokenFacts {
  user: string;
  jti: string;
  /** Issued-at and expiry, seconds since the epoch. */
  iat: number;
  exp: number;
  project?: { namespace: string; id: string };
  appcred?: { id: string; name: string; restricted: boolean };
  federation?: { idp: string; protocol: string };
}

const versionDoc = (origin: string) => ({
  id: KEYSTONE_VERSION,
  status: 'stable',
  updated: UPDATED,
  links: [{ rel: 'self', href: `${origin}/identity/v3/` }],
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
});

/** GET /identity: 300 with the one version. */
export const keystoneVersions = (origin: string) => ({ versions: { values: [versionDoc(origin)] } });

/** GET /identity/v3. */
export const keystoneVersion = (origin: string) => ({ version: versionDoc(origin) });

/** The service catalog: compute, identity, image and network (Neutron, read-only), all served by this façade. */
function catalog(origin: string): unknown[] {
  const service = (type: string, name: string, url: string) => ({
    type,
    name,
    id: type,
    endpoints: ['public', 'internal', 'admin'].map((iface) => ({ id: `${type}-${iface}`, interface: iface, region: REGION, region_id: REGION, url })),
  });
  return [
    service('compute', 'nova', `${origin}/v2.1`), service('identity', 'keystone', `${origin}/identity`), service('image', 'glance', `${origin}/image`),
    service('network', 'neutron', `${origin}/networking`),
  ];
}

export const catalogView = (origin: string) => ({ catalog: catalog(origin) });

/** A token: scoped to a project (with the caller's roles there and the catalog) or unscoped. */
export function tokenView(origin: string, claims: TokenFacts, methods: string[], roles: string[]): Record<string, unknown> {
  const project = claims.project;
  return {
    token: {
      methods,
      user: {
        id: claims.user, name: claims.user, domain: DOMAIN,
        ...(claims.federation
          ? { 'OS-FEDERATION': { groups: [], identity_provider: { id: claims.federation.idp }, protocol: { id: claims.federation.protocol } } }
          : { password_expires_at: null }),
      },
      audit_ids: [claims.jti],
      issued_at: new Date(claims.iat * 1000).toISOString().replace('Z', '000Z'),
      expires_at: new Date(claims.exp * 1000).toISOString().replace('Z', '000Z'),
      ...(project
        ? { project: { id: project.id, name: project.namespace, domain: DOMAIN }, is_domain: false, roles: roles.map((name) => ({ id: name, name })), catalog: catalog(origin) }
        : { roles: [] }),
      ...(claims.appcred ? { application_credential: { id: claims.appcred.id, name: claims.appcred.name, restricted: claims.appcred.restricted } } : {}),
    },
  };
}

/** Keystone's timestamps without zone, microseconds: `2018-02-27T18:30:59.000000`. */
const keystoneTime = (iso: string | null): string | null => (iso ? new Date(iso).toISOString().replace(/\.(\d{3})Z$/, '.$1000') : null);

const ROLE_DESCRIPTIONS: Record<string, string> = {
  admin: 'Nova admin: ClusterRole kova-admin, bound cluster-wide.',
  member: 'Creates and manages servers: ClusterRole kova-member, bound in the project namespace.',
  reader: 'Reads servers: ClusterRole kova-reader, bound in the project namespace.',
};

/** A Keystone role (Kova's are the three of its ClusterRoles; id = name). */
export const roleView = (origin: string, name: string) => ({
  id: name, name, domain_id: null, description: ROLE_DESCRIPTIONS[name] ?? null, options: {}, links: { self: `${origin}/identity/v3/roles/${name}` },
});

/** What an application credential view needs (never its secret). */
export interface AppCredentialFacts {
  id: string;
  name: string;
  description: string | null;
  user: string;
  project: { id: string };
  roles: string[];
  expires_at: string | null;
  unrestricted: boolean;
}

/** An application credential; `secret` only in the create response. */
export function appCredentialView(origin: string, c: AppCredentialFacts, secret?: string): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    user_id: c.user,
    project_id: c.project.id,
    expires_at: keystoneTime(c.expires_at),
    roles: c.roles.map((r) => ({ id: r, name: r, domain_id: null })),
    access_rules: [],
    unrestricted: c.unrestricted,
    system: null,
    ...(secret !== undefined ? { secret } : {}),
    links: { self: `${origin}/identity/v3/users/${encodeURIComponent(c.user)}/application_credentials/${c.id}` },
  };
}

/** A project: a namespace labelled as one. */
export const projectView = (origin: string, p: { namespace: string; id: string; description?: string }) => ({
  id: p.id, name: p.namespace, domain_id: DOMAIN.id, description: p.description ?? '', enabled: true, is_domain: false, parent_id: DOMAIN.id, tags: [], options: {},
  links: { self: `${origin}/identity/v3/projects/${p.id}` },
});

/** The one domain. */
export const domainView = (origin: string) => ({
  id: DOMAIN.id, name: DOMAIN.name, description: 'The only domain: users are Kubernetes users.', enabled: true, tags: [], options: {}, links: { self: `${origin}/identity/v3/domains/${DOMAIN.id}` },
});

/** A user as Keystone shows it: a Kubernetes user name is its id and name. */
export const userView = (origin: string, user: string, name = user) => ({
  id: user, name, domain_id: DOMAIN.id, enabled: true, password_expires_at: null, options: {}, links: { self: `${origin}/identity/v3/users/${encodeURIComponent(user)}` },
});

/** A collection's links (Kova does not page Keystone lists). */
export const listLinks = (self: string) => ({ self, previous: null, next: null });

/** Keystone's error body. */
export const keystoneError = (code: number, title: string, message: string) => ({ error: { code, title, message } });
