// What tests create: unique names, a valid public key, Server objects, flavors, and a project
// namespace with the sample image and simulated Nodes in a zone of its own.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { FLAVORS, type Flavor } from '../../src/api/flavor.ts';
import { QUOTASETS, type QuotaSet } from '../../src/api/quotaset.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { PROJECT_QUOTA_NAME } from '../../src/nova/quotas.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { ensureImage, ensureProject } from '../../src/sim/seed.ts';
import { ensureNode, waitSchedulable, type NodeSpec } from '../../src/sim/nodes.ts';

/** A valid ssh-ed25519 public key (also in config/samples); its Nova fingerprint is 27:4b:35:…:5e. */
export const TEST_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7YPSVrFLzimUTJXD8p1zJKThvDAKdD6l/JreXodUH6 demo@kova';

/** A new RSA key pair: its public key as an OpenSSH line (what a Nova key pair holds) and its private key. */
export function rsaKeyPair(): { line: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const mpint = (b64url: string): Buffer => {
    const b = Buffer.from(b64url, 'base64url');
    return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
  };
  const field = (b: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const blob = Buffer.concat([field(Buffer.from('ssh-rsa')), field(mpint(jwk.e ?? '')), field(mpint(jwk.n ?? ''))]);
  return { line: `ssh-rsa ${blob.toString('base64')} test@kova`, privateKey };
}

/** A short random suffix for names that must not collide between test files. */
export const uniq = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

export function serverObject(namespace: string, name: string, spec: Partial<Server['spec']>, annotations?: Record<string, string>): Server {
  return { metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, spec: { name, flavor: 'm1.tiny', image: 'cirros', ...spec } as Server['spec'] };
}

export async function createServer(c: KubeClient, namespace: string, name: string, spec: Partial<Server['spec']> = {}, annotations?: Record<string, string>): Promise<Server> {
  return c.create<Server>(SERVERS, serverObject(namespace, name, spec, annotations));
}

export async function ensureFlavor(c: KubeClient, spec: Flavor['spec'], name = spec.name): Promise<void> {
  await c.apply(FLAVORS, { metadata: { name }, spec });
}

/**
 * A project namespace with the sample image and Nodes in a zone of its own. Its servers, cores, RAM,
 * key pairs and server groups are unlimited (a QuotaSet), so tests of other things are not bound by Nova's
 * default quotas; `quotas: 'defaults'` leaves Nova's defaults (test/integration/quotas.test.ts).
 */
export async function project(c: KubeClient, o: { nodes?: NodeSpec[]; quotas?: 'unlimited' | 'defaults' } = {}): Promise<{ namespace: string; zone: string }> {
  const namespace = uniq('proj');
  const zone = uniq('zone');
  await ensureProject(c, namespace);
  if ((o.quotas ?? 'unlimited') === 'unlimited') {
    await c.create<QuotaSet>(QUOTASETS, { metadata: { name: PROJECT_QUOTA_NAME, namespace }, spec: { instances: -1, cores: -1, ramMiB: -1, keyPairs: -1, serverGroups: -1 } });
  }
  await ensureImage(c, 'kova-images', 'cirros');
  const nodes = o.nodes ?? [{ name: uniq('node'), zone }];
  for (const n of nodes) await ensureNode(c, { zone, ...n });
  await waitSchedulable(c, nodes.map((n) => n.name));
  return { namespace, zone };
}

/**
 * A memory quantity in MiB. Quantities are compared by value: the apiserver (through KubeVirt's
 * webhooks) may write 2048Mi back as 2Gi.
 */
export function mebibytes(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$/.exec(q ?? '');
  if (!m) return Number.NaN;
  const scale: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 };
  return Number(m[1]) * (m[2] ? scale[m[2]]! : 1 / (1024 * 1024));
}
