// What every façade plugin reads from the instance it is registered on: the dependencies
// (`app.kova`, decorated once in app.ts) and, per request, the Nova context the compute hook works
// out (`req.nova`). Types only, so routes and helpers name them without importing the app.
import type { KovaConfig } from '../cache/config.ts';
import type { Caches } from '../cache/caches.ts';
import type { Authenticator, Authorizer, Caller, PasswordUsers } from '../identity/auth.ts';
import type { IdentityStore } from '../identity/store.ts';
import type { TokenIssuer } from '../identity/tokens.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Version } from '../nova/microversion.ts';
import type { ClusterNetworkFacts } from '../neutron/model.ts';
import type { ConsoleTokens } from './console-tokens.ts';

export interface FacadeDeps {
  /** The façade's own client: informers and reviews. Writes use `client.as(caller)`. */
  client: KubeClient;
  caches: Caches;
  cfg: KovaConfig;
  authn: Authenticator;
  authz: Authorizer;
  issuer: TokenIssuer;
  passwords: PasswordUsers;
  /** Application credentials and revoked tokens (Secrets in Kova's namespace, docs/adr/021). */
  identity: IdentityStore;
  /**
   * Identity provider names the OS-FEDERATION login accepts (any when undefined): names only, the
   * bearer token itself is checked by the apiserver's authenticators (TokenReview).
   */
  identityProviders?: string[];
  /** Whether application credentials can be made and used (default true). */
  applicationCredentials?: boolean;
  log: Logger;
  /** Largest request body accepted (bytes). */
  bodyLimit?: number;
  metrics?: Metrics;
  /** Proxy /image to this Glance instead of serving the DataSources read-only. */
  glanceUpstream?: string;
  /** Signs the console URLs' tokens (with the Keystone tokens' key, so every replica checks them). */
  consoleTokens: ConsoleTokens;
  /** The noVNC page a console URL opens (Nova's [vnc] novncproxy_base_url); the façade's own by default. */
  novncProxyBaseUrl?: string;
  /** The cluster's pod network as Neutron shows it (/networking). */
  network: ClusterNetworkFacts;
}

/** What the compute hook works out for each request. */
export interface NovaRequestContext {
  version: Version;
  caller: Caller;
  /** The project (namespace) the request acts in. */
  project: { namespace: string; id: string } | undefined;
  /** "/v2.1" or "/v2.1/<project_id>": the prefix the request used, for links. */
  prefix: string;
  /** The URL prefix without version, for bookmark links. */
  bookmarkPrefix: string;
  origin: string;
  isAdmin: () => Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    kova: FacadeDeps;
    /** Every route the app serves (method and URL pattern), as registered: tests walk it. */
    routeTable: readonly { method: string; url: string }[];
  }
  interface FastifyRequest {
    nova: NovaRequestContext;
    requestId: string;
  }
}
