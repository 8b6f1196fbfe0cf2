// Starts the façade's HTTP server (`kova api`): caches, authentication, the Fastify app listening
// on its port, and a clean shutdown.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type KovaConfig } from '../cache/config.ts';
import { Caches, observeCaches } from '../cache/caches.ts';
import { clusterNetworkFacts } from '../compute/network.ts';
import { Authorizer, ChainAuthenticator, KovaTokenAuthenticator, PasswordUsers, TokenReviewAuthenticator } from '../identity/auth.ts';
import { IdentityStore } from '../identity/store.ts';
import { TokenIssuer } from '../identity/tokens.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { buildFacade } from './app.ts';
import { CONSOLE_TOKEN_TTL_SECONDS, type ConsoleClaims } from './console-tokens.ts';

export interface FacadeOptions {
  host?: string;
  port?: number;
  /** Shared token signing key (every replica must have the same); random when not given. */
  tokenKey?: Buffer;
  passwords?: PasswordUsers;
  metrics?: Metrics;
  glanceUpstream?: string;
  /** How long a console URL may be opened (Nova's [consoleauth] token_ttl). */
  consoleTokenTtlSeconds?: number;
  novncProxyBaseUrl?: string;
  /** Where application credentials and revoked tokens are kept (Kova's namespace; KOVA_NAMESPACE). */
  identityNamespace?: string;
  /** Identity provider names accepted by the OS-FEDERATION login (any when not given). */
  identityProviders?: string[];
  /** Whether application credentials can be made and used (default true). */
  applicationCredentials?: boolean;
  /** A Secret in the identity namespace of static password users (name → scrypt hash, `kova hash-password`). */
  staticUsersSecret?: string;
}

export class Facade {
  readonly app: FastifyInstance;
  readonly caches: Caches;
  readonly issuer: TokenIssuer;
  readonly url: string;
  readonly identity: IdentityStore;
  private constructor(app: FastifyInstance, caches: Caches, issuer: TokenIssuer, identity: IdentityStore, url: string) {
    this.app = app;
    this.identity = identity;
    this.caches = caches;
    this.issuer = issuer;
    this.url = url;
  }

  static async start(client: KubeClient, cfg: KovaConfig, log: Logger, o: FacadeOptions = {}): Promise<Facade> {
    const caches = new Caches(client, cfg, log, 'api');
    caches.start();
    await caches.synced();
    const issuer = new TokenIssuer(o.tokenKey ?? randomBytes(32));
    const identity = new IdentityStore(client, o.identityNamespace ?? (process.env.KOVA_NAMESPACE || 'kova-system'), log, { usersSecret: o.staticUsersSecret });
    await identity.start();
    const app = await buildFacade({
      client,
      caches,
      cfg,
      authn: new ChainAuthenticator(new KovaTokenAuthenticator(issuer, identity), new TokenReviewAuthenticator(client)),
      authz: new Authorizer(client),
      issuer,
      passwords: o.passwords ?? new PasswordUsers(),
      identity,
      identityProviders: o.identityProviders,
      applicationCredentials: o.applicationCredentials,
      log,
      metrics: o.metrics,
      glanceUpstream: o.glanceUpstream ?? (process.env.KOVA_GLANCE_UPSTREAM || undefined),
      consoleTokens: issuer.kind<ConsoleClaims>('kovavnc1', o.consoleTokenTtlSeconds ?? CONSOLE_TOKEN_TTL_SECONDS),
      novncProxyBaseUrl: o.novncProxyBaseUrl,
      network: await clusterNetworkFacts(client, cfg, log),
    });
    if (o.metrics) observeCaches(o.metrics, caches);
    const address = await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 8774 });
    log.info('compute API listening', { address });
    return new Facade(app, caches, issuer, identity, address);
  }

  async stop(): Promise<void> {
    await this.app.close();
    this.caches.stop();
    this.identity.stop();
  }
}
