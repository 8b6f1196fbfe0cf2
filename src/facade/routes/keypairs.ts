// /os-keypairs: list, show, create (import, or generate before 2.92), delete.
// Nova's key pairs belong to a user; Kova keeps them in the project's namespace with spec.userId.
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KEYPAIRS, type KeyPair } from '../../api/keypair.ts';
import { isAlreadyExists } from '../../kube/client.ts';
import { badRequest, conflict, forbidden, notFound } from '../../nova/faults.ts';
import { fingerprintOf, InvalidKeyError } from '../../nova/keypair.ts';
import { keyPairCreated, keyPairList, keyPairShown } from '../../nova/views/keypairs.ts';
import { last, type Query } from '../query.ts';
import { createKeyPairSchema } from '../schemas/keypairs.ts';
import { validate } from '../validate.ts';
import { cacheCatchUp, callerClient, checkQuery, page, requireProject, viewContext } from './common.ts';
import { dnsLabel } from '../../nova/hostname.ts';
import { ownsKeyPair } from '../../compute/references.ts';
import { freshHoldings, limitsFor, withQuotaLock } from '../../compute/quotas.ts';
import { checkDeltas, KEY_PAIRS_EXCEEDED, usageOf } from '../../nova/quotas.ts';

/** The KeyPair object name for a user's key: DNS-safe, unique per (user, name). */
function keyPairObjectName(userId: string, name: string): string {
  const base = dnsLabel(name, 40) || 'key';
  return `${base}-${createHash('sha256').update(`${userId}\0${name}`).digest('hex').slice(0, 10)}`;
}

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

export async function keyPairRoutes(app: FastifyInstance): Promise<void> {
  app.get('/os-keypairs', listKeyPairs);
  app.get('/os-keypairs/:name', showKeyPair);
  app.post('/os-keypairs', createKeyPair);
  app.delete('/os-keypairs/:name', deleteKeyPair);
}

const nameParam = (req: FastifyRequest): string => (req.params as { name: string }).name;

/** The user whose key pairs a request is about: the caller, or (admin, 2.10+) ?user_id / body user_id. */
async function targetUser(req: FastifyRequest, requested: string | undefined): Promise<string> {
  const me = req.nova.caller.user;
  if (!requested || requested === me) return me;
  if (!req.nova.version.atLeast('2.10')) return me;
  if (!(await req.nova.isAdmin())) throw forbidden(`Policy doesn't allow os_compute_api:os-keypairs:index to be performed.`);
  return requested;
}

const mine = (req: FastifyRequest, ns: string, user: string): KeyPair[] => req.server.kova.caches.keyPairs.list(ns).filter((k) => ownsKeyPair(k, user));

function find(req: FastifyRequest, ns: string, user: string, name: string): KeyPair {
  const k = mine(req, ns, user).find((x) => x.spec.name === name);
  if (!k) throw notFound(`Keypair ${name} not found for user ${user}`);
  return k;
}

async function listKeyPairs(req: FastifyRequest) {
  checkQuery(req, ['user_id', 'limit', 'marker']);
  const ns = requireProject(req).namespace;
  const q = req.query as Query;
  const user = await targetUser(req, last(q.user_id));
  const vc = await viewContext(req);
  const all = mine(req, ns, user).sort((a, b) => a.spec.name.localeCompare(b.spec.name)).map(withFingerprint);
  const paged = req.nova.version.atLeast('2.35') ? page(all, (k) => k.spec.name, { limit: last(q.limit), marker: last(q.marker) }) : { items: all, full: false, limit: 0 };
  return keyPairList(vc, paged, q);
}

async function showKeyPair(req: FastifyRequest) {
  const ns = requireProject(req).namespace;
  const user = await targetUser(req, last((req.query as Query).user_id));
  return keyPairShown(await viewContext(req), withFingerprint(find(req, ns, user, nameParam(req))));
}

async function createKeyPair(req: FastifyRequest, reply: FastifyReply) {
  const c = req.server.kova.caches;
  const ns = requireProject(req).namespace;
  const v = req.nova.version;
  const body = validate<{ keypair: { name: string; public_key?: string; type?: 'ssh' | 'x509'; user_id?: string } }>(createKeyPairSchema(v), req.body).keypair;
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
  if (mine(req, ns, user).some((k) => k.spec.name === body.name)) throw conflict(`Key pair '${body.name}' already exists.`);
  const kp: KeyPair = { metadata: { name: keyPairObjectName(user, body.name), namespace: ns }, spec: { name: body.name, type, publicKey, userId: user } };
  // The user's key pairs are counted and the new one created under the project's quota lock (docs/adr/019).
  const { client, cfg } = req.server.kova;
  const created = await withQuotaLock(client, ns, async () => {
    const holdings = await freshHoldings(client, c, ns, 'keyPairs');
    if (checkDeltas([{ limits: limitsFor(c, cfg, ns, user), usage: usageOf(holdings, user) }], { key_pairs: 1 })) throw forbidden(KEY_PAIRS_EXCEEDED);
    try {
      return await callerClient(req).create<KeyPair>(KEYPAIRS, kp);
    } catch (e) {
      if (isAlreadyExists(e)) throw conflict(`Key pair '${body.name}' already exists.`);
      throw e;
    }
  });
  await cacheCatchUp(c.keyPairs, () => !!c.keyPairs.get(created.metadata.name ?? '', ns));
  return reply.code(v.atLeast('2.2') ? 201 : 200).send(keyPairCreated(await viewContext(req), { ...created, status: { fingerprint } }, privateKey));
}

async function deleteKeyPair(req: FastifyRequest, reply: FastifyReply) {
  const c = req.server.kova.caches;
  const ns = requireProject(req).namespace;
  const user = await targetUser(req, last((req.query as Query).user_id));
  const k = find(req, ns, user, nameParam(req));
  await callerClient(req).delete(KEYPAIRS, k.metadata.name ?? '', ns);
  await cacheCatchUp(c.keyPairs, () => !c.keyPairs.get(k.metadata.name ?? '', ns));
  return reply.code(req.nova.version.atLeast('2.2') ? 204 : 202).send();
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
