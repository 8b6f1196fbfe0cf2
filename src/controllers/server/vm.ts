// Server → the KubeVirt VirtualMachine it runs as. Pure: no I/O.
import { createHash } from 'node:crypto';
import { API_VERSION } from '../../api/group.ts';
import type { Server } from '../../api/server.ts';
import type { VirtualMachine, VirtualMachineInstanceSpec } from '../../kubevirt/types.ts';
import { ownerReference } from '../../kube/types.ts';
import { APPLIED_HASH, HOSTNAME_LABEL, SERVER_GROUP_LABEL, SERVER_GROUP_SLOT_LABEL, SERVER_LABEL, SIM_ANNOTATION_PREFIX, ZONE_LABEL } from '../../api/labels.ts';
import type { ServerGroupPolicy } from '../../api/server-group.ts';
import { hostnameOf } from '../../nova/hostname.ts';
import { portMac } from '../../neutron/model.ts';


export interface VmInputs {
  server: Server;
  instancetype: { kind: string; name: string };
  diskGiB: number;
  ephemeralGiB: number;
  swapMiB: number;
  image: { name: string; namespace: string };
  /** Secret holding the key pair's public key, for accessCredentials. */
  keySecretName?: string;
  /** The root disk's DataVolume (a rebuild makes a new one); default `<server>-root`. */
  rootVolume?: string;
  /** Where the next VMI may run: a migration's target, or anywhere but the host it leaves. */
  placement?: { host?: string; excludeHost?: string };
  /** Rescue mode: boot from this disk, the root disk attached second. */
  rescue?: { volume: string; image: string };
  /** Boot with UEFI (needsUefi) instead of BIOS. */
  uefi?: boolean;
  /** The scheduler hints, as pod (anti-)affinity the kube-scheduler enforces (docs/adr/020). */
  hints?: PodPlacement;
}

/** The scheduler hints a VM's pods carry. */
export interface PodPlacement {
  /** The server group: its uid (the pods' label), its policy, and the member's slot when a host may run several. */
  group?: { uid: string; policy: ServerGroupPolicy; slot?: number };
  /** same_host / different_host: the other Servers' metadata.names. */
  sameHost?: string[];
  differentHost?: string[];
}

type Term = { labelSelector: Record<string, unknown>; topologyKey: string };
const onHost = (labelSelector: Record<string, unknown>): Term => ({ labelSelector, topologyKey: HOSTNAME_LABEL });

/** The labels and the pod (anti-)affinity that carry the hints (empty when there are none). */
function hintAffinity(p: PodPlacement | undefined): { labels: Record<string, string>; podAffinity?: Record<string, unknown>; podAntiAffinity?: Record<string, unknown> } {
  const labels: Record<string, string> = {};
  const affinity: { required: Term[]; preferred: Term[] } = { required: [], preferred: [] };
  const anti: { required: Term[]; preferred: Term[] } = { required: [], preferred: [] };
  const g = p?.group;
  if (g) {
    labels[SERVER_GROUP_LABEL] = g.uid;
    if (g.slot !== undefined) labels[SERVER_GROUP_SLOT_LABEL] = String(g.slot);
    // A member with a slot keeps away from the members sharing it: at most one per slot on a host.
    const term = onHost({ matchLabels: { ...labels } });
    if (g.policy === 'affinity') affinity.required.push(term);
    if (g.policy === 'soft-affinity') affinity.preferred.push(term);
    if (g.policy === 'anti-affinity') anti.required.push(term);
    if (g.policy === 'soft-anti-affinity') anti.preferred.push(term);
  }
  if (p?.sameHost?.length) affinity.required.push(onHost({ matchExpressions: [{ key: SERVER_LABEL, operator: 'In', values: p.sameHost }] }));
  if (p?.differentHost?.length) anti.required.push(onHost({ matchExpressions: [{ key: SERVER_LABEL, operator: 'In', values: p.differentHost }] }));
  const rules = (x: { required: Term[]; preferred: Term[] }) => (x.required.length || x.preferred.length
    ? {
        ...(x.required.length ? { requiredDuringSchedulingIgnoredDuringExecution: x.required } : {}),
        ...(x.preferred.length ? { preferredDuringSchedulingIgnoredDuringExecution: x.preferred.map((podAffinityTerm) => ({ weight: 100, podAffinityTerm })) } : {}),
      }
    : undefined);
  return { labels, podAffinity: rules(affinity), podAntiAffinity: rules(anti) };
}

/**
 * Whether the guest boots with UEFI: the image asks for it (Glance's hw_firmware_type), or the flavor
 * encrypts memory (KubeVirt's SEV needs OVMF; without Secure Boot, which SEV does not support).
 */
export function needsUefi(extraSpecs: Record<string, string> | undefined, imageProperties: Record<string, string> | undefined): boolean {
  return ['true', 'yes', '1', 'on'].includes((extraSpecs?.['hw:mem_encryption'] ?? '').toLowerCase()) || imageProperties?.hw_firmware_type === 'uefi';
}

/** Desired states in which no guest runs. */
export const HALTED_STATES: readonly string[] = ['Shutoff', 'Shelved', 'ShelvedOffloaded', 'SoftDeleted'];

export const rootVolumeName = (server: string): string => `${server}-root`;

/** The Secret the VM reads the guest's admin password from: one per server, its content maintained by the controller (docs/adr/016). */
export const credentialsSecretName = (server: string): string => `${server}-credentials`;

export function desiredVirtualMachine(i: VmInputs): VirtualMachine {
  const s = i.server;
  const name = s.metadata.name ?? '';
  const labels = { [SERVER_LABEL]: name };
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.metadata.annotations ?? {})) if (k.startsWith(SIM_ANNOTATION_PREFIX)) annotations[k] = v;

  const rootVolume = i.rootVolume ?? rootVolumeName(name);
  const disks: NonNullable<VirtualMachineInstanceSpec['domain']['devices']['disks']> = [{ name: 'root', disk: { bus: 'virtio' }, bootOrder: i.rescue ? 2 : 1 }];
  const volumes: NonNullable<VirtualMachineInstanceSpec['volumes']> = [{ name: 'root', dataVolume: { name: rootVolume } }];
  if (i.rescue) {
    disks.unshift({ name: 'rescue', disk: { bus: 'virtio' }, bootOrder: 1 });
    volumes.unshift({ name: 'rescue', dataVolume: { name: i.rescue.volume } });
  }
  if (i.ephemeralGiB > 0) {
    disks.push({ name: 'ephemeral', disk: { bus: 'virtio' } });
    volumes.push({ name: 'ephemeral', emptyDisk: { capacity: `${i.ephemeralGiB}Gi` } });
  }
  if (i.swapMiB > 0) {
    disks.push({ name: 'swap', disk: { bus: 'virtio' } });
    volumes.push({ name: 'swap', emptyDisk: { capacity: `${i.swapMiB}Mi` } });
  }
  // Nova's config drive: cloud-init reads user data and the key from it.
  disks.push({ name: 'config-drive', disk: { bus: 'virtio' } });
  volumes.push({
    name: 'config-drive',
    cloudInitConfigDrive: s.spec.userData ? { secretRef: { name: s.spec.userData.secretName } } : { userData: '#cloud-config\n' },
  });

  const nodeSelector: Record<string, string> = {};
  if (s.spec.availabilityZone) nodeSelector[ZONE_LABEL] = s.spec.availabilityZone;
  const host = i.placement?.host ?? s.spec.host;
  if (host) nodeSelector[HOSTNAME_LABEL] = host;
  const hints = hintAffinity(i.hints);
  const affinity = {
    ...(i.placement?.excludeHost && !host
      ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'NotIn', values: [i.placement.excludeHost] }] }] } } }
      : {}),
    ...(hints.podAffinity ? { podAffinity: hints.podAffinity } : {}),
    ...(hints.podAntiAffinity ? { podAntiAffinity: hints.podAntiAffinity } : {}),
  };

  const templateSpec: VirtualMachineInstanceSpec = {
    domain: {
      ...(i.uefi ? { firmware: { bootloader: { efi: { secureBoot: false } } } } : {}),
      devices: {
        disks,
        ...(s.spec.networks === 'none' ? { autoattachPodInterface: false, interfaces: [] } : { interfaces: [{ name: 'default', masquerade: {}, macAddress: portMac(s.metadata.uid ?? '') }] }),
        // Nova's os-getConsoleOutput reads this log (the launcher pod's guest-console-log container).
        logSerialConsole: true,
      },
    },
    hostname: hostnameOf(s),
    ...(s.spec.networks === 'none' ? { networks: [] } : { networks: [{ name: 'default', pod: {} }] }),
    volumes,
    ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
    ...(Object.keys(affinity).length ? { affinity } : {}),
    accessCredentials: [
      ...(i.keySecretName ? [{ sshPublicKey: { source: { secret: { secretName: i.keySecretName } }, propagationMethod: { configDrive: {} } } }] : []),
      // The admin password (docs/adr/016): always named, so a password set later reaches the
      // running guest through its agent (KubeVirt applies a change of the Secret's content live,
      // but a change of the VM's accessCredentials only at the next start).
      { userPassword: { source: { secret: { secretName: credentialsSecretName(name) } }, propagationMethod: { qemuGuestAgent: {} } } },
    ],
  };

  const vm: VirtualMachine = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: {
      name,
      namespace: s.metadata.namespace,
      labels,
      annotations,
      ownerReferences: [ownerReference(s, API_VERSION, 'Server')],
    },
    spec: {
      runStrategy: HALTED_STATES.includes(s.spec.powerState ?? 'Running') ? 'Halted' : 'Always', // Paused runs: pausing is a subresource call
      instancetype: { kind: i.instancetype.kind, name: i.instancetype.name },
      dataVolumeTemplates: [
        ...(i.rescue ? [{ metadata: { name: i.rescue.volume, labels }, spec: { sourceRef: { kind: 'DataSource' as const, name: i.rescue.image, namespace: i.image.namespace }, storage: {} } }] : []),
        {
          metadata: { name: rootVolume, labels },
          spec: {
            sourceRef: { kind: 'DataSource', name: i.image.name, namespace: i.image.namespace },
            // Flavor disk 0 means "the size of the image": CDI then sizes the volume from its source.
            storage: i.diskGiB > 0 ? { resources: { requests: { storage: `${i.diskGiB}Gi` } } } : {},
          },
        },
      ],
      template: { metadata: { labels: { ...labels, ...hints.labels } }, spec: templateSpec },
    },
  };
  vm.metadata.annotations = { ...annotations, [APPLIED_HASH]: hashOf(vm) };
  return vm;
}

/** A stable hash of what Kova applies, so an unchanged VM is not applied again. */
export const hashOf = (o: unknown): string => createHash('sha256').update(JSON.stringify(o)).digest('hex').slice(0, 16);

/** The DataVolume (and DataSource) of an image made from a server. */
export const imageVolumeName = (imageId: string): string => `image-${imageId}`;

/** A backup type as a label value (createBackup's rotation selects on it). */
export const backupTypeLabel = (backupType: string): string => backupType.toLowerCase().replace(/[^a-z0-9.-]/g, '-').slice(0, 63);
