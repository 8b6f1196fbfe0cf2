// Certificates made with openssl (Node cannot sign X.509): the aggregation layer's front-proxy CA
// and client certificate, and self-signed serving certificates for extension API servers.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(dir: string, ...args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('openssl', args, { cwd: dir, stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('exit', (code) => resolve(code === 0));
  });
}

/**
 * kube-apiserver flags for the aggregation layer (proxying to an extension API server such as
 * KubeVirt's virt-api); none when openssl is missing.
 */
export async function frontProxyArgs(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const ok = (await openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=front-proxy-ca', '-days', '3650', '-keyout', 'ca.key', '-out', 'ca.crt'))
    && (await openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=front-proxy-client', '-keyout', 'client.key', '-out', 'client.csr'))
    && (await openssl(dir, 'x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-out', 'client.crt'));
  if (!ok) return [];
  return [
    `--requestheader-client-ca-file=${join(dir, 'ca.crt')}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${join(dir, 'client.crt')}`,
    `--proxy-client-key-file=${join(dir, 'client.key')}`,
  ];
}

/** A self-signed serving certificate for localhost; undefined when openssl is missing. */
export async function servingCert(dir: string): Promise<{ key: Buffer; cert: Buffer } | undefined> {
  mkdirSync(dir, { recursive: true });
  const ok = await openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '3650', '-keyout', 'tls.key', '-out', 'tls.crt');
  return ok ? { key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(dir, 'tls.crt')) } : undefined;
}
