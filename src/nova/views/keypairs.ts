// Nova's key pair view per microversion. Pure.
import type { KeyPair } from '../../api/keypair.ts';
import { naiveTime, pageBody, type Page, type ViewContext } from './links.ts';

export function keyPairListItem(c: ViewContext, k: KeyPair): Record<string, unknown> {
  const out: Record<string, unknown> = { fingerprint: k.status?.fingerprint ?? '', name: k.spec.name, public_key: k.spec.publicKey };
  if (c.version.atLeast('2.2')) out.type = k.spec.type ?? 'ssh';
  return { keypair: out };
}

export function keyPairDetail(c: ViewContext, k: KeyPair): Record<string, unknown> {
  const out: Record<string, unknown> = {
    public_key: k.spec.publicKey,
    name: k.spec.name,
    fingerprint: k.status?.fingerprint ?? '',
    user_id: k.spec.userId ?? '',
    deleted: false,
    created_at: naiveTime(k.metadata.creationTimestamp),
    updated_at: null,
    deleted_at: null,
    id: idOf(k),
  };
  if (c.version.atLeast('2.2')) out.type = k.spec.type ?? 'ssh';
  return out;
}

/** POST /os-keypairs: the key pair, with the private key when Nova generated it (before 2.92). */
export function keyPairCreated(c: ViewContext, k: KeyPair, privateKey?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { fingerprint: k.status?.fingerprint ?? '', name: k.spec.name, public_key: k.spec.publicKey, user_id: k.spec.userId ?? '' };
  if (c.version.atLeast('2.2')) out.type = k.spec.type ?? 'ssh';
  if (privateKey) out.private_key = privateKey;
  return { keypair: out };
}

/** GET /os-keypairs, by name, with `keypairs_links` when the page is full (2.35). */
export const keyPairList = (c: ViewContext, p: Page<KeyPair>, query: Record<string, unknown>): Record<string, unknown> =>
  pageBody(c, 'keypairs', p, (k) => keyPairListItem(c, k), { path: 'os-keypairs', query, idOf: (k) => k.spec.name });

export const keyPairShown = (c: ViewContext, k: KeyPair) => ({ keypair: keyPairDetail(c, k) });

/** Nova's key pairs have an integer id; a stable one from the uid. */
const idOf = (k: KeyPair): number => Number.parseInt((k.metadata.uid ?? '0').replace(/-/g, '').slice(0, 7), 16);
