// Certificates made with openssl (Node cannot sign X.509): the aggregation layer's front-proxy CA
// and client certificate, the apiserver's kubelet client certificate, and self-signed serving
// certificates for extension API servers and the simulated kubelet.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(dir: string, ...args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('openssl', args, { cwd: dir, stdio: 'ignore' });
    p.on('error', () => resolve(false));
    p.on('exit', (code) => resolve(code === 0));
  });
}

/** A CA (ca.crt, ca.key) and a client certificate it signed (client.crt, client.key) for `cn`. */
async function caAndClient(dir: string, caName: string, cn: string): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  return (await openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${caName}`, '-days', '3650', '-keyout', 'ca.key', '-out', 'ca.crt'))
    && (await openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', 'client.key', '-out', 'client.csr'))
    && (await openssl(dir, 'x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-out', 'client.crt'));
}

/**
 * kube-apiserver flags for the aggregation layer (proxying to an extension API server such as
 * KubeVirt's virt-api); none when openssl is missing.
 */
export async function frontProxyArgs(dir: string): Promise<string[]> {
  if (!(await caAndClient(dir, 'front-proxy-ca', 'front-proxy-client'))) return [];
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

/**
 * kube-apiserver flags for reaching kubelets (pod logs): the client certificate it presents to
 * them, and its CA as the cluster's client CA, as in kubeadm clusters. The apiserver publishes that
 * CA in kube-system/extension-apiserver-authentication, where the simulated kubelet finds it to
 * check the apiserver's certificate. No --kubelet-certificate-authority: the apiserver then does not
 * verify the kubelet's serving certificate (the simulator makes a self-signed one when it starts),
 * as in a kubeadm cluster by default. None when openssl is missing.
 */
export async function kubeletClientArgs(dir: string): Promise<string[]> {
  if (!(await caAndClient(dir, 'kova-cluster-ca', 'kube-apiserver-kubelet-client'))) return [];
  return [
    `--client-ca-file=${join(dir, 'ca.crt')}`,
    `--kubelet-client-certificate=${join(dir, 'client.crt')}`,
    `--kubelet-client-key=${join(dir, 'client.key')}`,
  ];
}

/** A self-signed serving certificate for localhost; undefined when openssl is missing. */
export async function servingCert(dir: string): Promise<{ key: Buffer; cert: Buffer } | undefined> {
  mkdirSync(dir, { recursive: true });
  const ok = await openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '3650', '-keyout', 'tls.key', '-out', 'tls.crt');
  return ok ? { key: readFileSync(join(dir, 'tls.key')), cert: readFileSync(join(dir, 'tls.crt')) } : undefined;
}

/** A self-signed CA (ca.crt, ca.key) in `dir`; false when openssl is missing. */
export async function certificateAuthority(dir: string, cn: string): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  return openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-days', '3650', '-keyout', 'ca.key', '-out', 'ca.crt');
}

/**
 * A certificate `name`.crt / `name`.key signed by the CA in `dir`, for `cn`, usable as a server
 * (with IP and DNS names) and/or a client; false when openssl failed.
 */
export async function signedCert(dir: string, name: string, cn: string, o: { server?: boolean; client?: boolean; ips?: string[]; dns?: string[] }): Promise<boolean> {
  const usage = [...(o.server ? ['serverAuth'] : []), ...(o.client ? ['clientAuth'] : [])].join(',');
  const san = [...(o.dns ?? []).map((d) => `DNS:${d}`), ...(o.ips ?? []).map((i) => `IP:${i}`)].join(',');
  const ext = [`extendedKeyUsage=${usage}`, 'keyUsage=digitalSignature,keyEncipherment', ...(san ? [`subjectAltName=${san}`] : [])].join('\n');
  writeFileSync(join(dir, `${name}.ext`), ext + '\n');
  return (await openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`))
    && (await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-extfile', `${name}.ext`, '-out', `${name}.crt`));
}
