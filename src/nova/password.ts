// Nova's admin passwords (enable_instance_password): the generated password, the guest user it is
// set for, and the encrypted copy os-server-password shows. Pure but for randomness; never logged.
// docs/adr/016-admin-password.md.
import { constants, publicEncrypt, randomInt } from 'node:crypto';
import type { Server } from '../api/server.ts';
import { findCondition } from '../kube/conditions.ts';
import { rsaPublicKeyOf } from './keypair.ts';

/** Nova's password symbols (nova/utils.py): no 0, 1, I, O or l, which read alike. */
const SYMBOL_GROUPS = ['23456789', 'ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz'] as const;
/** Nova's password_length option, default 12. */
export const PASSWORD_LENGTH = 12;

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** utils.generate_password: one symbol of each group at least, the rest from all, shuffled. */
export function generatePassword(length = PASSWORD_LENGTH): string {
  const all = SYMBOL_GROUPS.join('');
  const out = shuffle(SYMBOL_GROUPS.map((g) => g[randomInt(g.length)]!)).slice(0, length);
  while (out.length < length) out.push(all[randomInt(all.length)]!);
  return shuffle(out).join('');
}

/**
 * The guest user a password is for, as Nova's libvirt driver picks it: the image property
 * `os_admin_user`, else `Administrator` for `os_type` windows, else `root`.
 */
export function guestAdminUser(imageProperties: Record<string, string> | undefined): string {
  const user = imageProperties?.os_admin_user?.trim();
  if (user) return user;
  return imageProperties?.os_type === 'windows' ? 'Administrator' : 'root';
}

/**
 * What os-server-password shows for a password: base64 of its RSA PKCS#1 v1.5 encryption with the
 * server's key pair when that is an `ssh-rsa` key (Nova's crypto.ssh_encrypt_text, what
 * `nova get-password <server> <private key>` decrypts); undefined for any other key or none.
 */
export function encryptedPassword(password: string, publicKey: string | undefined): string | undefined {
  const key = publicKey ? rsaPublicKeyOf(publicKey) : undefined;
  if (!key) return undefined;
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(password, 'utf8')).toString('base64');
}

/** The Secret key of a password request (a Secret the caller makes, one per request). */
export const PASSWORD_KEY = 'password';

/** The Server condition that mirrors KubeVirt's AccessCredentialsSynchronized (the controller writes it). */
export const PASSWORD_CONDITION = 'PasswordSynchronized';
/** KubeVirt's message when the guest agent does not answer (virt-launcher's access-credentials manager). */
export const AGENT_OFFLINE = 'Guest agent is offline';

/**
 * The guest agent of the running guest does not answer: Nova's libvirt driver raises
 * NotImplementedError for an unresponsive agent, which changePassword answers with 501.
 */
export const guestAgentOffline = (s: Server): boolean => findCondition(s.status?.conditions, PASSWORD_CONDITION)?.reason === 'GuestAgentOffline';
