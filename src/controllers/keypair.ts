// KeyPair → validated public key, Nova fingerprint, and a Secret holding the key for KubeVirt
// accessCredentials (KubeVirt reads every value of that Secret as an authorized key).
import { API_VERSION } from '../api/group.ts';
import { KEYPAIRS, type KeyPair } from '../api/keypair.ts';
import { setCondition } from '../kube/conditions.ts';
import { ownerReference, SECRETS, splitKey, type Secret } from '../kube/types.ts';
import { fingerprintOf, InvalidKeyError } from '../nova/keypair.ts';
import { type ControllerDeps } from './deps.ts';
import { KEYPAIR_LABEL, MANAGED_BY } from '../api/labels.ts';
import { writeStatus } from '../kube/status.ts';

export const keyPairSecretName = (keyPair: KeyPair): string => `kova-keypair-${keyPair.metadata.name}`;

export async function reconcileKeyPair(ctx: ControllerDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const kp = ctx.caches.keyPairs.get(name, namespace);
  if (!kp) return; // the Secret is owned by it: garbage collection removes it
  const gen = kp.metadata.generation;
  let fingerprint: string;
  try {
    fingerprint = fingerprintOf(kp.spec.type ?? 'ssh', kp.spec.publicKey);
  } catch (e) {
    if (!(e instanceof InvalidKeyError)) throw e;
    const conditions = setCondition(kp.status?.conditions, { type: 'Ready', status: 'False', reason: 'InvalidPublicKey', message: `publicKey: ${e.message}`, observedGeneration: gen });
    await ctx.events.record(kp, 'Warning', 'InvalidPublicKey', 'Validate', e.message);
    await writeStatus(ctx.client, KEYPAIRS, kp, { observedGeneration: gen, conditions });
    return;
  }
  const secretName = keyPairSecretName(kp);
  const secret: Secret = {
    metadata: { name: secretName, namespace, labels: { ...MANAGED_BY, [KEYPAIR_LABEL]: name }, ownerReferences: [ownerReference(kp, API_VERSION, 'KeyPair')] },
    type: 'Opaque',
    data: { key: Buffer.from(kp.spec.publicKey.trim() + '\n').toString('base64') },
  };
  await ctx.client.apply(SECRETS, secret);
  const conditions = setCondition(kp.status?.conditions, { type: 'Ready', status: 'True', reason: 'KeyStored', message: `public key stored in Secret ${secretName}`, observedGeneration: gen });
  await writeStatus(ctx.client, KEYPAIRS, kp, { observedGeneration: gen, fingerprint, secretName, conditions });
}
