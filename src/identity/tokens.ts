// Kova-issued tokens: stateless and signed (HMAC-SHA256 with a key every façade replica shares), so
// any replica can check a token another one issued. A token names a Kubernetes user and groups and
// the project (namespace) it is scoped to. It carries no secret and no Kubernetes credential.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What every signed token carries besides its own claims. */
export interface Stamp {
  /** Issued-at and expiry, seconds since the epoch. */
  iat: number;
  exp: number;
  /** Unique id, so two tokens for the same claims differ. */
  jti: string;
}

export interface TokenClaims extends Stamp {
  user: string;
  groups: string[];
  /** Project scope: the namespace and its Nova project id. */
  project?: { namespace: string; id: string };
  /** Keystone roles the token is limited to (an application credential's); absent = whatever RBAC grants. */
  roles?: string[];
  /** The application credential the token came from; its tokens die with it. */
  appcred?: { id: string; name: string; restricted: boolean };
  /** Keystone auth methods that made the token. */
  methods?: string[];
  /** A federated login's identity provider and protocol (OS-FEDERATION). */
  federation?: { idp: string; protocol: string };
}

/** Claims signed under a prefix that names their kind: `<prefix>.<payload>.<signature>`. */
export class SignedTokens<C extends object> {
  private readonly key: Buffer;
  private readonly prefix: string;
  readonly ttlSeconds: number;

  constructor(key: Buffer, prefix: string, ttlSeconds: number) {
    if (key.length < 32) throw new Error('token signing key must be at least 32 bytes');
    this.key = key;
    this.prefix = prefix;
    this.ttlSeconds = ttlSeconds;
  }

  /** A new token; `notAfter` (seconds since the epoch) cuts its lifetime short. */
  issue(c: C, now = Date.now(), notAfter = Infinity): { token: string; claims: C & Stamp } {
    const iat = Math.floor(now / 1000);
    const claims = { ...c, iat, exp: Math.min(iat + this.ttlSeconds, Math.floor(notAfter)), jti: randomBytes(8).toString('hex') };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${this.prefix}.${payload}.${this.sign(payload)}`, claims };
  }

  /** The claims of a valid, unexpired token; undefined otherwise. */
  verify(token: string, now = Date.now()): (C & Stamp) | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== this.prefix) return undefined;
    const [, payload = '', sig = ''] = parts;
    const want = Buffer.from(this.sign(payload));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    let claims: C & Stamp;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as C & Stamp;
    } catch {
      return undefined;
    }
    return claims.exp > now / 1000 ? claims : undefined;
  }

  /**
   * Another kind of token, under its own prefix and lifetime, signed with a key derived from this
   * one: every replica can check it, and a token of one kind never passes for another.
   */
  kind<K extends object>(prefix: string, ttlSeconds: number): SignedTokens<K> {
    if (prefix === this.prefix) throw new Error(`token prefix ${prefix} is taken`);
    return new SignedTokens<K>(createHmac('sha256', this.key).update(`kova-token-kind:${prefix}`).digest(), prefix, ttlSeconds);
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/** The façade's Keystone tokens. */
export class TokenIssuer extends SignedTokens<Omit<TokenClaims, keyof Stamp>> {
  constructor(key: Buffer, ttlSeconds = 3600) {
    super(key, 'kova1', ttlSeconds);
  }
}
