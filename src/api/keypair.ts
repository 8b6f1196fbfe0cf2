import { GROUP, VERSION, resourceTypeOf } from './group.ts';
import { cel, conditions, int, obj, oneOf, str, type Infer, type KindDefinition, type CustomResource, READY_AND_AGE } from './schema.ts';

const keyPairSpec = cel(
  obj(
    {
      name: str({ description: 'Nova key pair name.', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9 _.@-]+$' }),
      type: oneOf(['ssh', 'x509'] as const, { description: 'Key type (Nova 2.2).', default: 'ssh' }),
      publicKey: str({ description: 'An OpenSSH public key line, or a PEM X.509 certificate for type x509.', minLength: 1, maxLength: 16384 }),
      userId: str({ description: 'The Nova user that owns the key pair (2.10).', maxLength: 255 }),
    },
    ['name', 'publicKey'],
  ),
  { rule: 'self == oldSelf', message: 'a key pair is immutable: delete it and import a new one' },
  {
    rule: "self.type != 'ssh' || self.publicKey.matches('^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh.com|sk-ecdsa-sha2-nistp256@openssh.com) [A-Za-z0-9+/=]+( .*)?\\\\s*$')",
    message: 'publicKey must be one OpenSSH public key line: "<type> <base64> [comment]"',
    fieldPath: '.publicKey',
  },
  {
    rule: "self.type != 'x509' || self.publicKey.contains('-----BEGIN CERTIFICATE-----')",
    message: 'publicKey of an x509 key pair must be a PEM certificate (-----BEGIN CERTIFICATE-----)',
    fieldPath: '.publicKey',
  },
);

const keyPairStatus = obj({
  observedGeneration: int({ minimum: 0 }),
  fingerprint: str({ description: "Nova's fingerprint: MD5 of the key (ssh) or SHA-1 of the certificate (x509)." }),
  secretName: str({ description: 'The Secret that holds the public key, for KubeVirt accessCredentials.' }),
  conditions: conditions(),
});

export const KeyPairDefinition: KindDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'KeyPair',
  plural: 'keypairs',
  singular: 'keypair',
  shortNames: ['kp'],
  scope: 'Namespaced',
  description: 'A Nova key pair (public key only). Reconciled into a Secret that servers use through KubeVirt accessCredentials.',
  spec: keyPairSpec,
  status: keyPairStatus,
  printerColumns: [
    { name: 'Key', type: 'string', jsonPath: '.spec.name' },
    { name: 'Type', type: 'string', jsonPath: '.spec.type' },
    { name: 'Fingerprint', type: 'string', jsonPath: '.status.fingerprint' },
    ...READY_AND_AGE,
  ],
};

export const KEYPAIRS = resourceTypeOf(KeyPairDefinition);
export type KeyPairSpec = Infer<typeof keyPairSpec>;
export type KeyPairStatus = Infer<typeof keyPairStatus>;
export type KeyPair = CustomResource<KeyPairSpec, KeyPairStatus>;
