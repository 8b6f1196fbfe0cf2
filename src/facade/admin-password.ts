// Admin passwords at the Compute API (docs/adr/016): the password a request sets — the one it gives
// (adminPass) or, with enable_instance_password, a generated one — written as the caller into a new
// Secret owned by the Server (members may create Secrets, not read or rewrite them), which the
// Server's spec then names. The controller copies it into the Secret the VM reads. Never logged.
import type { FastifyRequest } from 'fastify';
import { API_VERSION } from '../api/group.ts';
import { SERVER_LABEL } from '../api/labels.ts';
import type { Server } from '../api/server.ts';
import { ownerReference, SECRETS } from '../kube/types.ts';
import { generatePassword, PASSWORD_KEY } from '../nova/password.ts';
import { callerClient } from './routes/common.ts';

/** The password a request sets: the one it gives, else a generated one when Nova would make one; else none. */
export function requestedPassword(req: FastifyRequest, given: unknown): string | undefined {
  if (typeof given === 'string') return given;
  return req.server.kova.cfg.enableInstancePassword === false ? undefined : generatePassword();
}

/** What a response shows of the password: Nova's adminPass, only with enable_instance_password. */
export function shownPassword(req: FastifyRequest, password: string | undefined): { adminPass?: string } {
  return req.server.kova.cfg.enableInstancePassword === false || password === undefined ? {} : { adminPass: password };
}

/** The name of the Secret a request's password travels in: one per server and request. */
export const passwordSecretName = (req: FastifyRequest, server: string): string => `${server}-password-${req.requestId.slice(-12).toLowerCase()}`;

/** Writes the password's Secret as the caller, owned by the Server (it goes with it). */
export async function writePasswordSecret(req: FastifyRequest, s: Server, password: string, name = passwordSecretName(req, s.metadata.name ?? '')): Promise<string> {
  await callerClient(req).create(SECRETS, {
    apiVersion: 'v1', kind: 'Secret',
    metadata: { name, namespace: s.metadata.namespace, labels: { [SERVER_LABEL]: s.metadata.name ?? '' }, ownerReferences: [ownerReference(s, API_VERSION, 'Server')] },
    type: 'Opaque',
    data: { [PASSWORD_KEY]: Buffer.from(password, 'utf8').toString('base64') },
  });
  return name;
}
