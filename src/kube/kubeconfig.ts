// Loading a kubeconfig (a file, $KUBECONFIG, ~/.kube/config, or the in-cluster service account) into
// what KubeClient sends: the server's URL and the TLS options and headers of its user. The common
// cases are read here; a user authenticated by an exec plugin or an auth provider is handed to
// client-node's KubeConfig, imported only then — its generated API models cost each process about
// 25 MB of heap and 70 MB of resident memory (docs/benchmarks.md).
import { existsSync, readFileSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** Where a client sends its requests, and how. */
export interface Connection {
  server: URL;
  /** TLS options and headers (authorization) for every request. */
  options: https.RequestOptions;
}

interface Named<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }
interface ClusterEntry { server?: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string; 'insecure-skip-tls-verify'?: boolean; 'tls-server-name'?: string }
interface UserEntry { token?: string; tokenFile?: string; 'client-certificate'?: string; 'client-certificate-data'?: string; 'client-key'?: string; 'client-key-data'?: string; username?: string; password?: string; exec?: unknown; 'auth-provider'?: unknown }
interface ContextEntry { cluster?: string; user?: string }
interface Kubeconfig { 'current-context'?: string; clusters?: Named<ClusterEntry>[]; users?: Named<UserEntry>[]; contexts?: Named<ContextEntry>[] }

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Loads `path`, or $KUBECONFIG (its first file) / ~/.kube/config / the in-cluster service account. */
export async function loadConnection(path?: string): Promise<Connection> {
  const file = path ?? process.env.KUBECONFIG?.split(':').find((p) => p) ?? (existsSync(join(homedir(), '.kube', 'config')) ? join(homedir(), '.kube', 'config') : undefined);
  if (!file) return inCluster();
  const text = readFileSync(file, 'utf8');
  const kc = (parse(text) ?? {}) as Kubeconfig;
  const ctxName = kc['current-context'];
  const ctx = kc.contexts?.find((c) => c.name === ctxName)?.context ?? kc.contexts?.[0]?.context;
  const cluster = kc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster ?? (ctx ? undefined : kc.clusters?.[0]?.cluster);
  const user = kc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`${file}: kubeconfig has no current cluster`);
  if (user.exec || user['auth-provider']) return viaClientNode(file);
  const base = dirname(file);
  const read = (p: string): Buffer => readFileSync(isAbsolute(p) ? p : join(base, p));
  const data = (inline: string | undefined, ref: string | undefined): Buffer | undefined => (inline ? Buffer.from(inline, 'base64') : ref ? read(ref) : undefined);
  const options: https.RequestOptions = { headers: {} };
  const ca = data(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca) options.ca = ca;
  if (cluster['insecure-skip-tls-verify']) options.rejectUnauthorized = false;
  if (cluster['tls-server-name']) options.servername = cluster['tls-server-name'];
  const cert = data(user['client-certificate-data'], user['client-certificate']);
  const key = data(user['client-key-data'], user['client-key']);
  if (cert) options.cert = cert;
  if (key) options.key = key;
  const token = user.token ?? (user.tokenFile ? read(user.tokenFile).toString('utf8').trim() : undefined);
  const headers = options.headers as Record<string, string>;
  if (token) headers.authorization = `Bearer ${token}`;
  else if (user.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  return { server: new URL(cluster.server), options };
}

function inCluster(): Connection {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host || !existsSync(join(SA_DIR, 'token'))) throw new Error('no kubeconfig: none given, $KUBECONFIG unset, no ~/.kube/config, and not in a cluster');
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    options: { ca: readFileSync(join(SA_DIR, 'ca.crt')), headers: { authorization: `Bearer ${readFileSync(join(SA_DIR, 'token'), 'utf8').trim()}` } },
  };
}

/** A user client-node knows how to authenticate (exec plugins, auth providers). */
async function viaClientNode(file: string): Promise<Connection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${file}: kubeconfig has no current cluster`);
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return { server: new URL(cluster.server), options };
}
