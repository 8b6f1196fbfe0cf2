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
      user: { id: claims.user, name: claims.user, domain: DOMAIN, password_expires_at: null },
      audit_ids: [claims.jti],
      issued_at: new Date(claims.iat * 1000).toISOString().replace('Z', '000Z'),
      expires_at: new Date(claims.exp * 1000).toISOString().replace('Z', '000Z'),
      ...(project
        ? { project: { id: project.id, name: project.namespace, domain: DOMAIN }, is_domain: false, roles: roles.map((name) => ({ id: name, name })), catalog: catalog(origin) }
        : { roles: [] }),
    },
  };
}

/** Keystone's error body. */
export const keystoneError = (code: number, title: string, message: string) => ({ error: { code, title, message } });
