// A tiny OIDC issuer for tests: discovery document and JWKS over HTTPS on loopback (a test CA's
// certificate), and access tokens (JWTs) signed RS256 or ES256 with node:crypto. The real
// kube-apiserver is pointed at it through a JWT authenticator (AuthenticationConfiguration).
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateAuthority, signedCert } from '../../src/controlplane/certs.ts';

type Alg = 'RS256' | 'ES256';

export class TestIssuer {
  url = '';
  /** The CA the issuer's serving certificate is signed by (PEM), for the apiserver to trust. */
  caPem = '';
  private server: Server | undefined;
  private readonly keys: Record<Alg, { kid: string; privateKey: KeyObject; publicKey: KeyObject }> = {
    RS256: { kid: `rsa-${randomBytes(4).toString('hex')}`, ...generateKeyPairSync('rsa', { modulusLength: 2048 }) },
    ES256: { kid: `ec-${randomBytes(4).toString('hex')}`, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
  };

  async start(): Promise<this> {
    const dir = mkdtempSync(join(tmpdir(), 'kova-oidc-'));
    if (!(await certificateAuthority(dir, 'kova-test-oidc-ca')) || !(await signedCert(dir, 'issuer', '127.0.0.1', { server: true, ips: ['127.0.0.1'], dns: ['localhost'] }))) {
      throw new Error('openssl is needed for the test OIDC issuer');
    }
    this.caPem = readFileSync(join(dir, 'ca.crt'), 'utf8');
    this.server = createServer({ key: readFileSync(join(dir, 'issuer.key')), cert: readFileSync(join(dir, 'issuer.crt')) }, (req, res) => {
      const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/.well-known/openid-configuration') {
        return json({ issuer: this.url, jwks_uri: `${this.url}/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'], response_types_supported: ['id_token'], subject_types_supported: ['public'] });
      }
      if (req.url === '/jwks') {
        return json({ keys: (Object.keys(this.keys) as Alg[]).map((alg) => ({ ...this.keys[alg].publicKey.export({ format: 'jwk' }), kid: this.keys[alg].kid, alg, use: 'sig' })) });
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const address = this.server.address();
    this.url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this;
  }

  /** A signed access token (JWT) for `sub`; `claims` override the defaults (aud, exp, groups …). */
  token(sub: string, o: { alg?: Alg; audience?: string; claims?: Record<string, unknown>; badSignature?: boolean } = {}): string {
    const alg = o.alg ?? 'RS256';
    const key = this.keys[alg];
    const now = Math.floor(Date.now() / 1000);
    const enc = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
    const input = `${enc({ alg, typ: 'JWT', kid: key.kid })}.${enc({ iss: this.url, aud: o.audience ?? 'kova', sub, iat: now, nbf: now - 5, exp: now + 600, jti: randomBytes(8).toString('hex'), ...o.claims })}`;
    const signature = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
    if (o.badSignature) signature[0]! ^= 0xff;
    return `${input}.${signature.toString('base64url')}`;
  }

  /** The apiserver's JWT authenticator for this issuer: users `oidc:<sub>`, groups `oidc:<group>`. */
  jwtAuthenticator(audience = 'kova'): unknown {
    return {
      issuer: { url: this.url, audiences: [audience], certificateAuthority: this.caPem },
      claimMappings: { username: { claim: 'sub', prefix: 'oidc:' }, groups: { claim: 'groups', prefix: 'oidc:' } },
    };
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
