// Keystone's state that Kova must keep, as Secrets in Kova's own namespace (docs/adr/021), watched by
// one informer on every API replica: application credentials (one Secret each; the secret only as an
// scrypt hash) and revoked tokens (one Secret per revoked token id, until the token would have expired).
import { createHash, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { isAlreadyExists, type KubeClient } from '../kube/client.ts';
import { Informer } from '../kube/informer.ts';
import { SECRETS, type Secret } from '../kube/types.ts';
import type { Logger } from '../log.ts';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** What kind of identity record a Secret holds (label value). */
export const IDENTITY_KIND_LABEL = 'identity.kova.io/kind';
const APP_CRED = 'application-credential';
const REVOKED = 'revoked-token';
const USER = 'user';

/**
 * The Kubernetes user name prefix of Kova's own password users (`kova:<name>`): RBAC binds them by
 * that name, and no other authenticator should hand it out.
 */
export const STATIC_USER_PREFIX = 'kova:';

/** A password user Kova keeps (for installs without an IdP); its password only as an scrypt hash. */
export interface StaticUser {
  /** The Keystone name; the Kubernetes user (and Keystone id) is `kova:<name>`. */
  name: string;
  id: string;
  description: string | null;
  email: string | null;
}

/** An application credential as Kova keeps it (never with its secret). */
export interface AppCredential {
  id: string;
  name: string;
  description: string | null;
  /** The Kubernetes user who made it, and that user's groups then: the identity its tokens act as. */
  user: string;
  groups: string[];
  project: { namespace: string; id: string };
  /** Keystone role names its tokens are limited to. */
  roles: string[];
  /** ISO-8601, or null for never. */
  expires_at: string | null;
  unrestricted: boolean;
}

/** A secret's stored form: `scrypt$<salt b64>$<hash b64>`. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${(await scryptAsync(secret, salt, 32)).toString('base64')}`;
}

/** Whether `secret` matches a stored hash (constant time). */
export async function secretMatches(secret: string, stored: string): Promise<boolean> {
  const [kind, salt = '', hash = ''] = stored.split('$');
  if (kind !== 'scrypt') return false;
  const want = Buffer.from(hash, 'base64');
  const got = await scryptAsync(secret, Buffer.from(salt, 'base64'), want.length);
  return want.length > 0 && timingSafeEqual(want, got);
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');
const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex');

export class IdentityStore {
  private readonly client: KubeClient;
  readonly namespace: string;
  /** Every identity Secret of Kova's namespace (routes wait on it to read their own writes). */
  readonly informer: Informer<Secret>;
  /** The install's static users Secret (user name → scrypt hash), when one is named. */
  private readonly usersSecret: Informer<Secret> | undefined;
  private readonly log: Logger;

  constructor(client: KubeClient, namespace: string, log: Logger, o: { usersSecret?: string } = {}) {
    this.client = client;
    this.namespace = namespace;
    this.log = log;
    this.usersSecret = o.usersSecret
      ? new Informer<Secret>(client, SECRETS, { namespace, fieldSelector: `metadata.name=${o.usersSecret}`, onError: (err) => log.warn('watch failed; restarting', { resource: 'static users secret', err }) })
      : undefined;
    this.informer = new Informer<Secret>(client, SECRETS, { namespace, labelSelector: IDENTITY_KIND_LABEL, onError: (err) => log.warn('watch failed; restarting', { resource: 'identity secrets', err }) })
      .addIndex('appcred', (s) => (s.metadata.labels?.[IDENTITY_KIND_LABEL] === APP_CRED ? [s.data?.id ? unb64(s.data.id) : ''] : []))
      .addIndex('revoked', (s) => (s.metadata.labels?.[IDENTITY_KIND_LABEL] === REVOKED ? [unb64(s.data?.jti)] : []))
      .addIndex('user', (s) => (s.metadata.labels?.[IDENTITY_KIND_LABEL] === USER ? [unb64(s.data?.name)] : []));
    // Whichever replica sees an expired revocation first removes it: the token it named is dead anyway.
    this.informer.on((type, s) => {
      if (type === 'delete' || s.metadata.labels?.[IDENTITY_KIND_LABEL] !== REVOKED) return;
      if (Number(unb64(s.data?.exp)) < Date.now() / 1000) void this.client.delete(SECRETS, s.metadata.name ?? '', namespace).catch(() => undefined);
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    this.usersSecret?.start();
    await Promise.all([this.informer.synced, this.usersSecret?.synced]);
  }

  stop(): void {
    this.informer.stop();
    this.usersSecret?.stop();
  }

  /** The stored hash of a user of the install's static users Secret. */
  private fileUserHash(name: string): string | undefined {
    const data = this.usersSecret?.list()[0]?.data;
    return data && Object.hasOwn(data, name) ? unb64(data[name]).trim() : undefined;
  }

  /** Whether a static user comes from the install's Secret (changed there, not through Keystone). */
  isInstallUser(name: string): boolean {
    return this.fileUserHash(name) !== undefined;
  }

  private record(s: Secret | undefined): (AppCredential & { hash: string }) | undefined {
    if (!s?.data?.credential) return undefined;
    try {
      return { ...(JSON.parse(unb64(s.data.credential)) as AppCredential), hash: unb64(s.data.hash) };
    } catch {
      return undefined;
    }
  }

  /** The Secret name of `user`'s credential called `name`: creating a second one conflicts. */
  private secretName(user: string, name: string): string {
    return `kova-appcred-${digest(user, name).slice(0, 40)}`;
  }

  /** Stores a new credential; undefined when `user` already has one by that name. */
  async createAppCredential(c: Omit<AppCredential, 'id'>, secret: string): Promise<AppCredential | undefined> {
    const cred: AppCredential = { ...c, id: randomUUID().replaceAll('-', '') };
    const obj: Secret = {
      metadata: { name: this.secretName(c.user, c.name), namespace: this.namespace, labels: { [IDENTITY_KIND_LABEL]: APP_CRED, 'identity.kova.io/owner': digest(c.user).slice(0, 40) } },
      type: 'kova.io/application-credential',
      data: { id: b64(cred.id), credential: b64(JSON.stringify(cred)), hash: b64(await hashSecret(secret)) },
    };
    try {
      await this.client.create(SECRETS, obj);
    } catch (e) {
      if (isAlreadyExists(e)) return undefined;
      throw e;
    }
    return cred;
  }

  /** `user`'s credential by id (undefined if it is another user's or gone). */
  appCredential(id: string, user?: string): AppCredential | undefined {
    const r = this.record(this.informer.byIndex('appcred', id)[0]);
    if (!r || (user !== undefined && r.user !== user)) return undefined;
    const { hash: _, ...cred } = r;
    return cred;
  }

  appCredentials(user: string): AppCredential[] {
    const owner = digest(user).slice(0, 40);
    return this.informer.list()
      .filter((s) => s.metadata.labels?.['identity.kova.io/owner'] === owner)
      .map((s) => this.record(s))
      .filter((r): r is AppCredential & { hash: string } => !!r && r.user === user)
      .map(({ hash: _, ...c }) => c);
  }

  async deleteAppCredential(c: AppCredential): Promise<void> {
    await this.client.delete(SECRETS, this.secretName(c.user, c.name), this.namespace);
  }

  /**
   * The credential `secret` opens, by id or by name within a user; undefined when unknown, expired
   * or the secret is wrong.
   */
  async checkAppCredential(ref: { id?: string; name?: string; user?: string }, secret: string): Promise<AppCredential | undefined> {
    const s = ref.id !== undefined ? this.informer.byIndex('appcred', ref.id)[0]
      : ref.name !== undefined && ref.user !== undefined ? this.informer.get(this.secretName(ref.user, ref.name), this.namespace) : undefined;
    const r = this.record(s);
    if (!r || (r.expires_at && Date.parse(r.expires_at) <= Date.now())) return undefined;
    if (!(await secretMatches(secret, r.hash))) return undefined;
    const { hash: _, ...cred } = r;
    return cred;
  }

  /** Revokes a token (by its id) until `exp` (seconds since the epoch), on every replica. */
  async revoke(jti: string, exp: number): Promise<void> {
    const obj: Secret = {
      metadata: { name: `kova-revoked-${digest(jti).slice(0, 40)}`, namespace: this.namespace, labels: { [IDENTITY_KIND_LABEL]: REVOKED } },
      type: 'kova.io/revoked-token',
      data: { jti: b64(jti), exp: b64(String(exp)) },
    };
    try {
      await this.client.create(SECRETS, obj);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    this.log.info('token revoked', { audit_id: jti });
  }

  /** A static user by Keystone name or id (`kova:<name>`). */
  staticUser(ref: string): StaticUser | undefined {
    const name = ref.startsWith(STATIC_USER_PREFIX) ? ref.slice(STATIC_USER_PREFIX.length) : ref;
    const s = this.informer.byIndex('user', name)[0];
    if (s) return userOf(s);
    return this.fileUserHash(name) !== undefined ? { name, id: `${STATIC_USER_PREFIX}${name}`, description: null, email: null } : undefined;
  }

  staticUsers(): StaticUser[] {
    const kept = this.informer.list().filter((s) => s.metadata.labels?.[IDENTITY_KIND_LABEL] === USER).map(userOf);
    const install = Object.keys(this.usersSecret?.list()[0]?.data ?? {}).filter((n) => !kept.some((u) => u.name === n)).map((n) => this.staticUser(n)!);
    return [...kept, ...install].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The Secret that holds static user `name` made through Keystone. */
  private static userSecret(namespace: string, name: string, hash: string, o: { description?: string | null; email?: string | null } = {}): Secret {
    return {
      metadata: { name: `kova-user-${digest(name).slice(0, 40)}`, namespace, labels: { [IDENTITY_KIND_LABEL]: USER } },
      type: 'kova.io/user',
      data: { name: b64(name), hash: b64(hash), ...(o.description ? { description: b64(o.description) } : {}), ...(o.email ? { email: b64(o.email) } : {}) },
    };
  }

  /** Stores a new static user; undefined when the name is taken. */
  async createStaticUser(name: string, password: string, o: { description?: string | null; email?: string | null } = {}): Promise<StaticUser | undefined> {
    if (this.isInstallUser(name)) return undefined;
    try {
      await this.client.create(SECRETS, IdentityStore.userSecret(this.namespace, name, await hashSecret(password), o));
    } catch (e) {
      if (isAlreadyExists(e)) return undefined;
      throw e;
    }
    return { name, id: `${STATIC_USER_PREFIX}${name}`, description: o.description ?? null, email: o.email ?? null };
  }

  /** Deletes a static user and, as Keystone does, the application credentials they made. */
  async deleteStaticUser(u: StaticUser): Promise<void> {
    for (const c of this.appCredentials(u.id)) await this.deleteAppCredential(c);
    const s = this.informer.byIndex('user', u.name)[0];
    if (s?.metadata.name) await this.client.delete(SECRETS, s.metadata.name, this.namespace);
  }

  /** The static user a name (or id) and password open. */
  async checkStaticUser(ref: string, password: string): Promise<StaticUser | undefined> {
    const u = this.staticUser(ref);
    const s = u && this.informer.byIndex('user', u.name)[0];
    const hash = s ? unb64(s.data?.hash) : u && this.fileUserHash(u.name);
    return hash && (await secretMatches(password, hash)) ? u : undefined;
  }

  isRevoked(jti: string): boolean {
    return this.informer.byIndex('revoked', jti).length > 0;
  }
}

function userOf(s: Secret): StaticUser {
  const name = unb64(s.data?.name);
  return { name, id: `${STATIC_USER_PREFIX}${name}`, description: s.data?.description ? unb64(s.data.description) : null, email: s.data?.email ? unb64(s.data.email) : null };
}
