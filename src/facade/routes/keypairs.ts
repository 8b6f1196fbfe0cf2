// /os-keypairs: list, show, create (import, or generate before 2.92), delete.
// Nova's key pairs belong to a user; Kova keeps them in the project's namespace with spec.userId.
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KEYPAIRS, type KeyPair } from '../../api/keypair.ts';
import { isAlreadyExists } from '../../kube/client.ts';
import { badRequest, conflict, forbidden, notFound } from '../../nova/faults.ts';
import { fingerprintOf, InvalidKeyError } from '../../nova/keypair.ts';
import { keyPairCreated, keyPairDetail, keyPairListItem } from '../../nova/views/keypairs.ts';
import { nextLink } from '../../nova/views/links.ts';
import type { FacadeDeps } from '../app.ts';
import { validate, type Schema } from '../validate.ts';
import { cacheCatchUp, callerClient, last, page, requireProject, viewContext, checkQuery } from './common.ts';

/** The KeyPair object name for a user's key: DNS-safe, unique per (user, name). */
export function keyPairObjectName(userId: string, name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'key';
  return `${base}-${createHash('sha256').update(`${userId}\0${name}`).digest('hex').slice(0, 10)}`;
}

const createSchema = (v: { atLeast(s: string): boolean }): Schema => ({
  type: 'object',
  required: ['keypair'],
  additionalProperties: false,
  properties: {
    keypair: {
      type: 'object',
      required: v.atLeast('2.92') ? ['name', 'public_key'] : ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: v.atLeast('2.92') ? '^[_\\-@. a-zA-Z0-9]+$' : '^[_\\- a-zA-Z0-9]+$' },
        public_key: { type: 'string' },
        ...(v.atLeast('2.2') ? { type: { type: 'string', enum: ['ssh', 'x509'] } } : {}),
        ...(v.atLeast('2.10') ? { user_id: { type: 'string', minLength: 1, maxLength: 255 } } : {}),
      },
    },
  },
});

/** A new RSA key pair as Nova generated them before 2.92: OpenSSH public line and PEM private key. */
function generateSshKey(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as { e: string; n: string };
  const mpint = (b64: string): Buffer => {
    let b = Buffer.from(b64, 'base64url');
    if ((b[0] ?? 0) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return b;
  };
  const str = (b: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const blob = Buffer.concat([str(Buffer.from('ssh-rsa')), str(mpint(jwk.e)), str(mpint(jwk.n))]);
  return { publicKey: `ssh-rsa ${blob.toString('base64')} Generated-by-Nova`, privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() };
}

export function registerKeyPairRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;
  /** The user whose key pairs a request is about: the caller, or (admin, 2.10+) ?user_id / body user_id. */
  const targetUser = async (req: FastifyRequest, requested: string | undefined): Promise<string> => {
    const me = req.nova.caller.user;
    if (!requested || requested === me) return me;
    if (!req.nova.version.atLeast('2.10')) return me;
    if (!(await req.nova.isAdmin())) throw forbidden(`Policy doesn't allow os_compute_api:os-keypairs:index to be performed.`);
    return requested;
  };
  const mine = (ns: string, user: string): KeyPair[] => c.keyPairs.list(ns).filter((k) => (k.spec.userId ?? '') === user);
  const find = (ns: string, user: string, name: string): KeyPair => {
    const k = mine(ns, user).find((x) => x.spec.name === name);
    if (!k) throw notFound(`Keypair ${name} not found for user ${user}`);
    return k;
  };

  app.get('/os-keypairs', async (req) => {
    checkQuery(req, ['user_id', 'limit', 'marker']);
    const ns = requireProject(req).namespace;
    const q = req.query as Record<string, string | string[] | undefined>;
    const user = await targetUser(req, last(q.user_id));
    const vc = await viewContext(req);
    const all = mine(ns, user).sort((a, b) => a.spec.name.localeCompare(b.spec.name));
    const paged = req.nova.version.atLeast('2.35') ? page(all, (k) => k.spec.name, { limit: last(q.limit), marker: last(q.marker) }) : { items: all, full: false, limit: 0 };
    const body: Record<string, unknown> = { keypairs: paged.items.map((k) => keyPairListItem(vc, withFingerprint(k))) };
    if (paged.full && paged.items.length) body.keypairs_links = nextLink(vc, 'os-keypairs', q, paged.items.at(-1)!.spec.name, paged.limit);
    return body;
  });

  app.get('/os-keypairs/:name', async (req) => {
    const ns = requireProject(req).namespace;
    const user = await targetUser(req, last((req.query as Record<string, string>).user_id));
    return { keypair: keyPairDetail(await viewContext(req), withFingerprint(find(ns, user, (req.params as { name: string }).name))) };
  });

  app.post('/os-keypairs', async (req, reply) => {
    const ns = requireProject(req).namespace;
    const v = req.nova.version;
    const body = validate<{ keypair: { name: string; public_key?: string; type?: 'ssh' | 'x509'; user_id?: string } }>(createSchema(v), req.body).keypair;
    const user = await targetUser(req, body.user_id);
    const type = body.type ?? 'ssh';
    let publicKey = body.public_key;
    let privateKey: string | undefined;
    if (publicKey === undefined) {
      if (type !== 'ssh') throw badRequest('Keypair data is invalid: only ssh keys can be generated');
      ({ publicKey, privateKey } = generateSshKey());
    }
    let fingerprint: string;
    try {
      fingerprint = fingerprintOf(type, publicKey);
    } catch (e) {
      if (e instanceof InvalidKeyError) throw badRequest(`Keypair data is invalid: ${e.message}`);
      throw e;
    }
    if (mine(ns, user).some((k) => k.spec.name === body.name)) throw conflict(`Key pair '${body.name}' already exists.`);
    const kp: KeyPair = { metadata: { name: keyPairObjectName(user, body.name), namespace: ns }, spec: { name: body.name, type, publicKey, userId: user } };
    let created: KeyPair;
    try {
      created = await callerClient(deps, req).create<KeyPair>(KEYPAIRS, kp);
    } catch (e) {
      if (isAlreadyExists(e)) throw conflict(`Key pair '${body.name}' already exists.`);
      throw e;
    }
    await cacheCatchUp(c.keyPairs, () => !!c.keyPairs.get(created.metadata.name ?? '', ns));
    const out = keyPairCreated(await viewContext(req), { ...created, status: { fingerprint } });
    if (privateKey) out.private_key = privateKey;
    return reply.code(v.atLeast('2.2') ? 201 : 200).send({ keypair: out });
  });

  app.delete('/os-keypairs/:name', async (req, reply) => {
    const ns = requireProject(req).namespace;
    const user = await targetUser(req, last((req.query as Record<string, string>).user_id));
    const k = find(ns, user, (req.params as { name: string }).name);
    await callerClient(deps, req).delete(KEYPAIRS, k.metadata.name ?? '', ns);
    await cacheCatchUp(c.keyPairs, () => !c.keyPairs.get(k.metadata.name ?? '', ns));
    return reply.code(req.nova.version.atLeast('2.2') ? 204 : 202).send();
  });
}

/** The fingerprint as Nova computes it, even before the controller has written status. */
function withFingerprint(k: KeyPair): KeyPair {
  if (k.status?.fingerprint) return k;
  try {
    return { ...k, status: { ...k.status, fingerprint: fingerprintOf(k.spec.type ?? 'ssh', k.spec.publicKey) } };
  } catch {
    return k;
  }
}
