// What the simulator's HTTPS endpoints share: the kubelet's (kubelet-server.ts), called by the
// kube-apiserver alone, listens on a loopback port with a self-signed certificate and accepts only
// clients whose certificate the apiserver's client CA has signed; virt-handler's
// (virt-handler-server.ts), called by real virt-api, answers with the same replies.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '../kube/client.ts';
import { CONFIG_MAPS } from '../kube/types.ts';
import { servingCert } from '../controlplane/certs.ts';


export interface Reply {
  status: number;
  contentType: string;
  body: string;
}

/** A Kubernetes Status object, the body of an error answer. */
export const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

export const json = (status: number, body: unknown): Reply => ({ status, contentType: 'application/json', body: JSON.stringify(body) });
export const failure = (code: number, reason: string, message: string): Reply => json(code, status(code, reason, message));

/** A CA from kube-system/extension-apiserver-authentication, where the apiserver publishes its client CAs. */
export async function publishedCa(client: KubeClient, key: 'client-ca-file'): Promise<string | undefined> {
  const cm = await client.find<{ metadata: object; data?: Record<string, string> }>(CONFIG_MAPS, 'extension-apiserver-authentication', 'kube-system');
  return cm?.data?.[key];
}

/** Serves `handle` on 127.0.0.1 (a free port) to clients with a certificate from `ca`; undefined without openssl. */
export async function serveMutualTls(name: string, ca: string, handle: (req: IncomingMessage) => Promise<Reply>): Promise<{ server: https.Server; port: number } | undefined> {
  const tls = await servingCert(mkdtempSync(join(tmpdir(), `kova-${name}-`)));
  if (!tls) return undefined;
  const server = https.createServer({ ...tls, ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    void handle(req).then(
      (r) => res.writeHead(r.status, { 'content-type': r.contentType }).end(r.body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(status(500, 'InternalError', String(err)))),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

/** Closes the server and the apiserver's kept-alive connections to it. */
export async function closeServer(server: https.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}
