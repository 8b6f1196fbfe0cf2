import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintOf, InvalidKeyError, sshFingerprint, x509Fingerprint } from '../../src/nova/keypair.ts';

// ---- OpenSSH wire format, built here independently of the module under test ----------------

/** uint32 length + bytes. */
const sshString = (b: Buffer | string): Buffer => {
  const data = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
};

/** An unsigned big-endian integer as an SSH mpint (a leading 0 when the top bit is set). */
const mpint = (b: Buffer): Buffer => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return sshString((v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
};

const jwk = (k: KeyObject): { x?: string; y?: string; n?: string; e?: string } => k.export({ format: 'jwk' });
const fromB64url = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');

function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  return Buffer.concat([sshString('ssh-ed25519'), sshString(fromB64url(jwk(publicKey).x))]);
}

function rsaBlob(bits = 2048): Buffer {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const j = jwk(publicKey);
  return Buffer.concat([sshString('ssh-rsa'), mpint(fromB64url(j.e)), mpint(fromB64url(j.n))]);
}

function ecdsaBlob(curve: 'P-256' | 'P-384' | 'P-521'): Buffer {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const j = jwk(publicKey);
  const nist = `nistp${curve.slice(2)}`;
  const point = Buffer.concat([Buffer.from([4]), fromB64url(j.x), fromB64url(j.y)]);
  return Buffer.concat([sshString(`ecdsa-sha2-${nist}`), sshString(nist), sshString(point)]);
}

const typeOf = (blob: Buffer): string => blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1');
const line = (blob: Buffer, comment = 'user@host'): string => `${typeOf(blob)} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
const md5Colon = (blob: Buffer): string =>
  createHash('md5')
    .update(blob)
    .digest('hex')
    .match(/../g)!
    .join(':');

const FINGERPRINT_MD5 = /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/;
const FINGERPRINT_SHA1 = /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/;

const throwsInvalid = (fn: () => unknown, message?: RegExp): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidKeyError, `expected InvalidKeyError, got ${String(e)}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'InvalidKeyError');
    if (message) assert.match(e.message, message);
    return true;
  });
};

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kova-keypair-test-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- ssh ----------------------------------------------------------------------------------

describe('sshFingerprint: valid keys', () => {
  const cases: [string, () => Buffer][] = [
    ['ssh-ed25519', ed25519Blob],
    ['ssh-rsa 2048', () => rsaBlob(2048)],
    ['ssh-rsa 1024', () => rsaBlob(1024)],
    ['ecdsa-sha2-nistp256', () => ecdsaBlob('P-256')],
    ['ecdsa-sha2-nistp384', () => ecdsaBlob('P-384')],
    ['ecdsa-sha2-nistp521', () => ecdsaBlob('P-521')],
  ];
  for (const [name, make] of cases) {
    test(`${name}: colon-separated MD5 of the decoded blob`, () => {
      const blob = make();
      const fp = sshFingerprint(line(blob));
      assert.match(fp, FINGERPRINT_MD5);
      assert.equal(fp, md5Colon(blob));
    });
  }

  test('the comment is optional and does not change the fingerprint; whitespace is trimmed', () => {
    const blob = ed25519Blob();
    const expected = md5Colon(blob);
    assert.equal(sshFingerprint(line(blob, '')), expected);
    assert.equal(sshFingerprint(line(blob, 'a comment with spaces')), expected);
    assert.equal(sshFingerprint(`  ${line(blob)}\n`), expected);
    assert.equal(sshFingerprint(`${typeOf(blob)}\t${blob.toString('base64')}`), expected);
  });

  test('different keys have different fingerprints', () => {
    assert.notEqual(sshFingerprint(line(ed25519Blob())), sshFingerprint(line(ed25519Blob())));
  });

  test('fingerprintOf("ssh", …) is sshFingerprint', () => {
    const blob = rsaBlob();
    assert.equal(fingerprintOf('ssh', line(blob)), md5Colon(blob));
  });

  test('ssh-dss with four parameters is accepted', () => {
    const blob = Buffer.concat([sshString('ssh-dss'), mpint(randomBytes(128)), mpint(randomBytes(20)), mpint(randomBytes(128)), mpint(randomBytes(128))]);
    assert.equal(sshFingerprint(line(blob)), md5Colon(blob));
  });

  test('security-key (sk-) types are accepted', () => {
    const blob = Buffer.concat([sshString('sk-ssh-ed25519@openssh.com'), sshString(randomBytes(32)), sshString('ssh:')]);
    assert.equal(sshFingerprint(line(blob)), md5Colon(blob));
  });
});

describe('sshFingerprint: agrees with ssh-keygen -l -E md5', () => {
  for (const [name, make] of [
    ['ssh-ed25519', ed25519Blob],
    ['ssh-rsa', () => rsaBlob(2048)],
    ['ecdsa-sha2-nistp256', () => ecdsaBlob('P-256')],
  ] as const) {
    test(name, () => {
      const blob = make();
      const l = line(blob, 'kova@test');
      const file = join(dir, `${name}.pub`);
      writeFileSync(file, `${l}\n`);
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', file], { encoding: 'utf8' });
      const m = /MD5:([0-9a-f:]+)/.exec(out);
      assert.ok(m?.[1], `unexpected ssh-keygen output: ${out}`);
      assert.equal(sshFingerprint(l), m[1]);
    });
  }
});

describe('sshFingerprint: invalid keys', () => {
  test('missing data', () => {
    throwsInvalid(() => sshFingerprint(''));
    throwsInvalid(() => sshFingerprint('   '));
    throwsInvalid(() => sshFingerprint('ssh-rsa'));
    throwsInvalid(() => sshFingerprint('ssh-ed25519 '));
  });

  test('data that is not base64', () => {
    throwsInvalid(() => sshFingerprint('ssh-ed25519 not*base64!'), /base64/);
    throwsInvalid(() => sshFingerprint('ssh-ed25519 AAAA===='), /base64/);
    throwsInvalid(() => sshFingerprint('ssh-ed25519 AAAA-_AA'), /base64/);
  });

  test('the type prefix does not match the type inside the blob', () => {
    const blob = ed25519Blob();
    throwsInvalid(() => sshFingerprint(`ssh-rsa ${blob.toString('base64')}`), /ssh-ed25519/);
    const rsa = rsaBlob(1024);
    throwsInvalid(() => sshFingerprint(`ssh-ed25519 ${rsa.toString('base64')}`));
    throwsInvalid(() => sshFingerprint(`ecdsa-sha2-nistp256 ${rsa.toString('base64')}`));
  });

  test('a truncated blob', () => {
    for (const blob of [ed25519Blob(), rsaBlob(1024), ecdsaBlob('P-256')]) {
      const type = typeOf(blob);
      throwsInvalid(() => sshFingerprint(`${type} ${blob.subarray(0, blob.length - 5).toString('base64')}`), /truncated/);
      throwsInvalid(() => sshFingerprint(`${type} ${blob.subarray(0, 2).toString('base64')}`), /truncated/);
      throwsInvalid(() => sshFingerprint(`${type} ${blob.subarray(0, 10).toString('base64')}`), /truncated/);
    }
  });

  test('a blob with only the type field', () => {
    for (const type of ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ssh-dss']) {
      throwsInvalid(() => sshFingerprint(`${type} ${sshString(type).toString('base64')}`));
    }
  });

  test('an Ed25519 key of the wrong length', () => {
    for (const n of [31, 33, 0]) {
      const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(randomBytes(n))]);
      throwsInvalid(() => sshFingerprint(line(blob)), /32 bytes/);
    }
  });

  test('an RSA key without a modulus', () => {
    const blob = Buffer.concat([sshString('ssh-rsa'), mpint(Buffer.from([1, 0, 1]))]);
    throwsInvalid(() => sshFingerprint(line(blob)));
  });

  test('malformed ECDSA points', () => {
    const good = ecdsaBlob('P-256');
    // compressed point (0x02 prefix), wrong length, point of the wrong curve size
    const compressed = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(Buffer.concat([Buffer.from([2]), randomBytes(32)]))]);
    const short = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(Buffer.concat([Buffer.from([4]), randomBytes(63)]))]);
    const p384point = ecdsaBlob('P-384');
    const mixed = Buffer.concat([sshString('ecdsa-sha2-nistp256'), p384point.subarray(4 + 'ecdsa-sha2-nistp384'.length)]);
    for (const blob of [compressed, short, mixed]) throwsInvalid(() => sshFingerprint(line(blob)), /ECDSA|malformed|curve/);
    // right size but not on the curve
    const offCurve = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0x01)]))]);
    throwsInvalid(() => sshFingerprint(line(offCurve)));
    assert.equal(sshFingerprint(line(good)), md5Colon(good));
  });

  test('an unknown ECDSA curve', () => {
    const blob = Buffer.concat([sshString('ecdsa-sha2-nistp192'), sshString('nistp192'), sshString(Buffer.concat([Buffer.from([4]), randomBytes(48)]))]);
    throwsInvalid(() => sshFingerprint(line(blob)));
  });

  test('ssh-dss without four parameters', () => {
    const blob = Buffer.concat([sshString('ssh-dss'), mpint(randomBytes(128)), mpint(randomBytes(20)), mpint(randomBytes(128))]);
    throwsInvalid(() => sshFingerprint(line(blob)), /DSA|dss/);
  });

  test('an unsupported key type', () => {
    const blob = Buffer.concat([sshString('ssh-foo'), sshString(randomBytes(32))]);
    throwsInvalid(() => sshFingerprint(line(blob)), /ssh-foo/);
  });

  test('an x509 certificate is not an ssh key', () => {
    throwsInvalid(() => sshFingerprint(CERT_PLACEHOLDER));
  });

  test('an ECDSA key whose curve name does not match its type', () => {
    const p256 = ecdsaBlob('P-256');
    const point = p256.subarray(4 + 'ecdsa-sha2-nistp256'.length + 4 + 'nistp256'.length);
    const blob = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp384'), point]);
    throwsInvalid(() => sshFingerprint(line(blob)));
  });

  test('extra data after the key fields', () => {
    const blob = Buffer.concat([ed25519Blob(), sshString('trailing')]);
    throwsInvalid(() => sshFingerprint(line(blob)));
  });

  test('an RSA key with an empty exponent and modulus', () => {
    const blob = Buffer.concat([sshString('ssh-rsa'), sshString(Buffer.alloc(0)), sshString(Buffer.alloc(0))]);
    throwsInvalid(() => sshFingerprint(line(blob)));
  });
});

const CERT_PLACEHOLDER = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

// ---- x509 ---------------------------------------------------------------------------------

describe('x509Fingerprint', () => {
  let pem = '';
  let opensslFingerprint = '';
  before(() => {
    const key = join(dir, 'k');
    const cert = join(dir, 'c');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=test', '-keyout', key, '-out', cert, '-days', '1'], { stdio: 'pipe' });
    pem = readFileSync(cert, 'utf8');
    const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha1', '-in', cert], { encoding: 'utf8' });
    // "SHA1 Fingerprint=AB:CD:…" (spelling of the prefix varies between OpenSSL versions)
    opensslFingerprint = out.trim().split('=').pop()?.toLowerCase() ?? '';
  });

  test('equals openssl x509 -fingerprint -sha1, lowercase and colon separated', () => {
    assert.match(opensslFingerprint, FINGERPRINT_SHA1);
    const fp = x509Fingerprint(pem);
    assert.match(fp, FINGERPRINT_SHA1);
    assert.equal(fp, opensslFingerprint);
  });

  test('is the SHA-1 of the DER certificate', () => {
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    assert.equal(x509Fingerprint(pem), createHash('sha1').update(der).digest('hex').match(/../g)!.join(':'));
  });

  test('fingerprintOf("x509", …) is x509Fingerprint', () => {
    assert.equal(fingerprintOf('x509', pem), opensslFingerprint);
  });

  test('a garbage certificate → InvalidKeyError', () => {
    throwsInvalid(() => x509Fingerprint('garbage'), /certificate/);
    throwsInvalid(() => x509Fingerprint(''));
    throwsInvalid(() => x509Fingerprint(CERT_PLACEHOLDER));
    throwsInvalid(() => x509Fingerprint(`${pem.slice(0, 200)}\n-----END CERTIFICATE-----\n`), /certificate/);
    throwsInvalid(() => fingerprintOf('x509', 'garbage'));
  });

  test('an ssh key is not a certificate', () => {
    throwsInvalid(() => x509Fingerprint(line(ed25519Blob())));
    throwsInvalid(() => fingerprintOf('x509', line(ed25519Blob())));
  });

  test('a certificate is not accepted as an ssh key', () => {
    throwsInvalid(() => fingerprintOf('ssh', pem));
  });
});
