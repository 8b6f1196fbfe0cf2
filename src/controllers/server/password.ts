// The admin password of a Server (docs/adr/016), decided: which request Secret's password the
// guest should have now (spec.adminPassword, or spec.rescue.adminPassword while rescued), whether
// the controller still has to copy it into the stable Secret <server>-credentials that the VM's
// accessCredentials name (KubeVirt's guest agent sets it, live), whether os-server-password gets
// its encrypted copy, and which request Secrets are superseded. Pure: no password is read here.
import type { Server } from '../../api/server.ts';
import type { ConditionInput } from '../../kube/conditions.ts';
import type { CachedVirtualMachineInstance } from '../../kubevirt/types.ts';
import { imageProperties } from '../../nova/images.ts';
import { AGENT_OFFLINE, guestAdminUser, PASSWORD_CONDITION } from '../../nova/password.ts';
import { findKeyPair } from '../../compute/references.ts';
import type { Lookups } from './references.ts';

/** handledRequests keys: the request whose password the credentials Secret holds, and the last spec.adminPassword acted on. */
export const COPIED = 'adminPassword:copied';
export const PUBLISHED = 'adminPassword';

export interface PasswordStep {
  /** The request Secret whose password goes into the credentials Secret now. */
  from: string;
  /** The guest user it is set for. */
  user: string;
  /**
   * The encrypted copy for os-server-password: encrypt with this public key; null removes a stale
   * one (the key is not RSA, or there is none); undefined leaves it (a rescue's password, or the
   * server's own restored after an unrescue).
   */
  publishWith?: string | null;
  /** Request Secrets no longer referenced, deleted once this step is recorded. */
  superseded: string[];
  /** What handledRequests records once it is done. */
  handled: Record<string, string>;
}

/**
 * Whose password the guest should have: the server's own, the rescue guest's, or — while a rescue
 * still runs the server's own guest — no change yet (Nova sets a rescue password on the rescue guest
 * only). An unrescue switches back at once, before the rescue guest is stopped: the credentials the
 * restored guest boots with must not be the rescue guest's (the agent would make that user on the
 * server's own disk); the rescue guest, about to go, may get the server's own.
 */
export type GuestKind = 'own' | 'rescue' | 'wait';

export function guestKind(server: Server, op: { kind: string; fromVMI?: string } | undefined, vmiUid: string | undefined, rescueVolume: string | undefined): GuestKind {
  if (op?.kind === 'rescue' && op.fromVMI && op.fromVMI === vmiUid) return 'wait';
  return server.spec.rescue && rescueVolume ? 'rescue' : 'own';
}

export function planPassword(refs: Lookups, server: Server, guest: GuestKind): PasswordStep | undefined {
  if (guest === 'wait') return undefined;
  const rescued = guest === 'rescue';
  const spec = server.spec;
  const handled = server.status?.handledRequests ?? {};
  const own = spec.adminPassword?.secretName;
  const rescue = rescued ? spec.rescue?.adminPassword?.secretName : undefined;
  const want = rescue ?? own;
  if (!want || handled[COPIED] === want) return undefined;
  const image = rescued && spec.rescue?.image ? spec.rescue.image : server.status?.image?.name ?? spec.image;
  const user = guestAdminUser(imageProperties(refs.image(image)?.metadata.annotations));
  const publish = !rescue && handled[PUBLISHED] !== own;
  const kp = publish && spec.keyName ? findKeyPair(refs, server.metadata.namespace ?? '', spec.keyName) : undefined;
  const previous = handled[COPIED];
  return {
    from: want,
    user,
    ...(publish ? { publishWith: kp?.spec.type === 'x509' ? null : kp?.spec.publicKey ?? null } : {}),
    superseded: previous && previous !== own && previous !== spec.rescue?.adminPassword?.secretName ? [previous] : [],
    handled: { [COPIED]: want, ...(publish && own ? { [PUBLISHED]: own } : {}) },
  };
}

/** KubeVirt's AccessCredentialsSynchronized (set by virt-handler from virt-launcher's report), as a Server condition. */
export function passwordCondition(vmi: CachedVirtualMachineInstance | undefined, gen: number | undefined): ConditionInput {
  const c = vmi?.status?.conditions?.find((x) => x.type === 'AccessCredentialsSynchronized');
  if (!vmi || vmi.metadata.deletionTimestamp) return { type: PASSWORD_CONDITION, status: 'Unknown', reason: 'NoGuest', message: 'no guest is running', observedGeneration: gen };
  if (!c) return { type: PASSWORD_CONDITION, status: 'Unknown', reason: 'Pending', message: 'waiting for the guest agent', observedGeneration: gen };
  if (c.status === 'True') return { type: PASSWORD_CONDITION, status: 'True', reason: 'Synchronized', message: 'the guest agent set the credentials', observedGeneration: gen };
  return { type: PASSWORD_CONDITION, status: 'False', reason: c.message === AGENT_OFFLINE ? 'GuestAgentOffline' : 'SyncFailed', message: c.message || 'the guest agent could not set the credentials', observedGeneration: gen };
}
