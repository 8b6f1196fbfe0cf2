// Key pair checks and Nova's fingerprints. Pure: no I/O.
// ssh: MD5 of the decoded key blob, as colon-separated hex; x509: SHA-1 of the DER certificate.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';

export class InvalidKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidKeyError';
  }
}

const colonHex = (buf: Buffer): string => buf.toString('hex').replace(/(..)(?!$)/g, '$1:');

/** Reads the SSH wire-format strings (uint32 length + bytes) of a public key blob. */
function sshFields(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < blob.length) {
    if (off + 4 > blob.length) throw new InvalidKeyError('the key data is truncated');
    const len = blob.readUInt32BE(off);
    off += 4;
    if (off + len > blob.length) throw new InvalidKeyError('the key data is truncated');
    out.push(blob.subarray(off, off + len));
    off += len;
  }
  return out;
}

const b64url = (b: Buffer): string => {
  const trimmed = b[0] === 0 && b.length > 1 ? b.subarray(1) : b; // mpint sign byte
  return trimmed.toString('base64url');
};

/** Validates an OpenSSH public key line and returns Nova's fingerprint of it. */
export function sshFingerprint(line: string): string {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 2) throw new InvalidKeyError('expected "<type> <base64 key> [comment]"');
  const [type = '', data = ''] = parts;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw new InvalidKeyError('the key data is not base64');
  const blob = Buffer.from(data, 'base64');
  const fields = sshFields(blob);
  const inner = fields[0]?.toString('latin1');
  if (inner !== type) throw new InvalidKeyError(`the key data is of type ${inner ?? 'unknown'}, not ${type}`);
  // The number of wire fields (type name included) each key type has; anything more is malformed.
  const expected: Record<string, number> = { 'ssh-rsa': 3, 'ssh-ed25519': 2, 'ssh-dss': 5, 'ecdsa-sha2-nistp256': 3, 'ecdsa-sha2-nistp384': 3, 'ecdsa-sha2-nistp521': 3 };
  const want = expected[type];
  if (want !== undefined && fields.length !== want) throw new InvalidKeyError(`a ${type} key has ${want - 1} field(s), this one has ${fields.length - 1}`);
  try {
    if (type === 'ssh-rsa') {
      const [, e, n] = fields;
      if (!e?.length || !n?.length) throw new InvalidKeyError('an RSA key needs an exponent and a modulus');
      const modulusBits = (n[0] === 0 ? n.length - 1 : n.length) * 8;
      if (modulusBits < 1024) throw new InvalidKeyError(`an RSA key of ${modulusBits} bits is too short (at least 1024)`);
      createPublicKey({ key: { kty: 'RSA', e: b64url(e), n: b64url(n) }, format: 'jwk' });
    } else if (type === 'ssh-ed25519') {
      const x = fields[1];
      if (!x || x.length !== 32) throw new InvalidKeyError('an Ed25519 key is 32 bytes');
      createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') }, format: 'jwk' });
    } else if (type.startsWith('ecdsa-sha2-nistp')) {
      const bits = type.slice('ecdsa-sha2-nistp'.length);
      const point = fields[2];
      const size = { '256': 32, '384': 48, '521': 66 }[bits];
      if (fields[1]?.toString('latin1') !== `nistp${bits}`) throw new InvalidKeyError(`the curve of the key is not nistp${bits}`);
      if (!size || !point || point[0] !== 4 || point.length !== 1 + 2 * size) throw new InvalidKeyError('the ECDSA point is malformed');
      createPublicKey({ key: { kty: 'EC', crv: `P-${bits}`, x: point.subarray(1, 1 + size).toString('base64url'), y: point.subarray(1 + size).toString('base64url') }, format: 'jwk' });
    } else if (type === 'ssh-dss') {
      if (fields.length !== 5) throw new InvalidKeyError('a DSA key has four parameters');
    } else if (!type.startsWith('sk-')) {
      throw new InvalidKeyError(`key type ${type} is not supported`);
    }
  } catch (e) {
    if (e instanceof InvalidKeyError) throw e;
    throw new InvalidKeyError(`the key is not a valid ${type} key (${(e as Error).message})`);
  }
  return colonHex(createHash('md5').update(blob).digest());
}

/** Validates a PEM X.509 certificate and returns Nova's fingerprint of it. */
export function x509Fingerprint(pem: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    throw new InvalidKeyError(`the certificate cannot be read (${(e as Error).message})`);
  }
  return colonHex(createHash('sha1').update(cert.raw).digest());
}

/** The RSA public key of an `ssh-rsa` line, or undefined for any other key (or a malformed one). */
export function rsaPublicKeyOf(line: string): KeyObject | undefined {
  const [type, data] = line.trim().split(/\s+/);
  if (type !== 'ssh-rsa' || !data) return undefined;
  try {
    const [, e, n] = sshFields(Buffer.from(data, 'base64'));
    if (!e?.length || !n?.length) return undefined;
    return createPublicKey({ key: { kty: 'RSA', e: b64url(e), n: b64url(n) }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

export const fingerprintOf = (type: 'ssh' | 'x509', publicKey: string): string => (type === 'x509' ? x509Fingerprint(publicKey) : sshFingerprint(publicKey));
