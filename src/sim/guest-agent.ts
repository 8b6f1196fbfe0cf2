// The guest side of KubeVirt's access credentials, simulated: what virt-launcher's
// access-credentials manager does with a userPassword credential propagated by the guest agent
// (pkg/virt-launcher/virtwrap/access-credentials), and the VMI condition virt-handler sets from its
// report. The kubelet mounts the credential's Secret into the launcher pod (each key a file named
// after the guest user, its value the password, trimmed); virt-launcher pings the agent, reads the
// files and sets each user's password with guest-set-user-password, and reports success or the
// first failure; virt-handler turns that into AccessCredentialsSynchronized (no reason; the message
// is empty on success). A changed Secret is applied to the running guest, with no restart.
//
// The simulated guest's passwords live here, in memory, per boot disk (a password is part of the
// guest's disk: a rebuild's new disk or a rescue disk has its own). They are never written to any
// object; tests read them through KubeVirtSimulator.guestPassword.
import type { Secret } from '../kube/types.ts';
import type { KubeVirtCondition, VirtualMachineInstance } from '../kubevirt/types.ts';

/** KubeVirt's condition type, and virt-launcher's message when the agent does not answer. */
export const ACCESS_CREDENTIALS_SYNCHRONIZED = 'AccessCredentialsSynchronized';
export const AGENT_OFFLINE = 'Guest agent is offline';
/** Where the launcher pod mounts an access credential's Secret (config.SecretSourceDir + <name>-access-cred). */
const secretDir = (name: string): string => `/var/run/kubevirt-private/secret/${name}-access-cred`;

/** The simulated guests' local passwords: boot disk ("namespace/volume") → user → password. */
export class GuestPasswords {
  private readonly disks = new Map<string, Map<string, string>>();

  get(disk: string, user: string): string | undefined {
    return this.disks.get(disk)?.get(user);
  }

  set(disk: string, user: string, password: string): void {
    let users = this.disks.get(disk);
    if (!users) this.disks.set(disk, (users = new Map()));
    users.set(user, password);
  }
}

/** The disk the guest booted from (its first boot order), as "namespace/volume". */
export function bootDisk(vmi: VirtualMachineInstance): string {
  const disks = vmi.spec.domain.devices.disks ?? [];
  const boot = [...disks].sort((a, b) => (a.bootOrder ?? Infinity) - (b.bootOrder ?? Infinity))[0];
  const volume = vmi.spec.volumes?.find((v) => v.name === boot?.name);
  return `${vmi.metadata.namespace}/${volume?.dataVolume?.name ?? boot?.name ?? ''}`;
}

/** The Secrets the VMI's userPassword credentials propagated by the guest agent name. */
export const passwordSecrets = (vmi: VirtualMachineInstance): string[] =>
  (vmi.spec.accessCredentials ?? []).flatMap((c) => (c.userPassword?.propagationMethod.qemuGuestAgent ? [c.userPassword.source.secret.secretName] : []));

/**
 * One reload of the access credentials, as virt-launcher does it on a Secret change (and every
 * 15 s while it fails): the guest's passwords set, and the condition virt-handler reports. None
 * when the VMI has no credential for the agent (virt-launcher then starts no watcher).
 */
export function syncPasswords(vmi: VirtualMachineInstance, o: { agentConnected: boolean; secret: (name: string) => Secret | undefined; guests: GuestPasswords }): KubeVirtCondition | undefined {
  const names = passwordSecrets(vmi);
  if (!names.length) return undefined;
  const result = (ok: boolean, message: string): KubeVirtCondition => ({ type: ACCESS_CREDENTIALS_SYNCHRONIZED, status: ok ? 'True' : 'False', message });
  if (!o.agentConnected) return result(false, AGENT_OFFLINE);
  const passwords = new Map<string, string>();
  let failure: string | undefined;
  for (const name of names) {
    const s = o.secret(name);
    if (!s) {
      failure ??= `error occurred while reading the list of secrets files from the base directory ${secretDir(name)}: open ${secretDir(name)}: no such file or directory`;
      continue;
    }
    for (const [user, value] of Object.entries(s.data ?? {})) {
      const password = Buffer.from(value, 'base64').toString('utf8').trim();
      if (password) passwords.set(user, password);
    }
  }
  const disk = bootDisk(vmi);
  for (const [user, password] of passwords) o.guests.set(disk, user, password);
  return failure ? result(false, failure) : result(true, '');
}
