// Kova-issued tokens: stateless and signed (HMAC-SHA256 with a key every façade replica shares), so
// any replica can check a token another one issued. A token names a Kubernetes user and groups and
// the project (namespace) it is scoped to. It carries no secret and no Kubernetes credential.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  user: string;
  groups: string[];
  /** Project scope: the namespace and its Nova project id. */
  project?: { namespace: string; id: string };
  /** Issued-at and expiry, seconds since the epoch. */
  iat: number;
  exp: number;
  /** Unique id, so two tokens for the same claims differ. */
  jti: string;
}

export class TokenIssuer {
  private readonly key: Buffer;
  readonly ttlSeconds: number;

  constructor(key: Buffer, ttlSeconds = 3600) {
    if (key.length < 32) throw new Error('token signing key must be at least 32 bytes');
    this.key = key;
    this.ttlSeconds = ttlSeconds;
  }

  issue(c: Omit<TokenClaims, 'iat' | 'exp' | 'jti'>, now = Date.now()): { token: string; claims: TokenClaims } {
    const iat = Math.floor(now / 1000);
    const claims: TokenClaims = { ...c, iat, exp: iat + this.ttlSeconds, jti: randomBytes(8).toString('hex') };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `kova1.${payload}.${this.sign(payload)}`, claims };
  }

  /** The claims of a valid, unexpired token; undefined otherwise. */
  verify(token: string, now = Date.now()): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'kova1') return undefined;
    const [, payload = '', sig = ''] = parts;
    const want = Buffer.from(this.sign(payload));
    const got = Buffer.from(sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return undefined;
    }
    return claims.exp > now / 1000 ? claims : undefined;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
