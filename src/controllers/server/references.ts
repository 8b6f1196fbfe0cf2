// What a Server's VM needs, resolved from the caches: its flavor (as a snapshot the server keeps),
// image and key pair. A missing one is a fault naming it; one its controller has not processed yet
// is waited for. Pure over the look-ups it is given; the rules themselves are compute/'s.
import type { Flavor } from '../../api/flavor.ts';
import type { FlavorSnapshot, Server } from '../../api/server.ts';
import type { Caches } from '../../cache/caches.ts';
import { canUseFlavor, canUseImage, findKeyPair, projectOf } from '../../compute/references.ts';
import { findCondition, isTrue } from '../../kube/conditions.ts';
import { imageIdOf, imageProperties } from '../../nova/images.ts';
import type { NovaState } from '../../nova/status.ts';
import type { VmOverrides } from './operations.ts';
import { needsUefi, type PodPlacement, type VmInputs } from './vm.ts';
import { SERVER_GROUP_SLOT_LABEL } from '../../api/labels.ts';
import { findServerGroup } from '../../compute/server-groups.ts';
import { perHost } from '../../nova/server-groups.ts';
import type { CachedVirtualMachine } from '../../kubevirt/types.ts';

/** The cache look-ups a decision needs (the Caches, or a table in tests). */
export type Lookups = Pick<Caches, 'flavor' | 'image' | 'keyPair' | 'keyPairs' | 'projectIdOf' | 'serverGroup' | 'servers'>;

type Fault = NonNullable<NovaState['fault']>;

export interface Resolved {
  inputs?: Omit<VmInputs, 'server'>;
  /** A reference exists but its controller has not processed it yet: wait, do not fail. */
  waiting?: string;
  flavor?: FlavorSnapshot;
  image?: { name?: string; uid?: string };
  /** The key pair's Nova name (spec.keyName may name the object instead). */
  keyName?: string;
  fault?: Fault;
}

/** The flavor as a server keeps it (Nova embeds the flavor in the instance). */
export function snapshotOf(f: Flavor): FlavorSnapshot | undefined {
  if (!f.status?.instancetype) return undefined;
  return {
    id: f.spec.id ?? f.metadata.name,
    name: f.spec.name,
    vcpus: f.spec.vcpus,
    ramMiB: f.spec.ramMiB,
    diskGiB: f.spec.diskGiB ?? 0,
    ephemeralGiB: f.spec.ephemeralGiB ?? 0,
    swapMiB: f.spec.swapMiB ?? 0,
    extraSpecs: f.spec.extraSpecs ?? {},
    instancetype: f.status.instancetype,
  };
}

/** spec.flavor (a name or an id) names this snapshot's flavor. */
export function flavorMatches(refs: Lookups, ref: string, snap: FlavorSnapshot | undefined): boolean {
  if (!snap) return false;
  if (ref === snap.id) return true;
  const f = refs.flavor(ref);
  return f ? (f.spec.id ?? f.metadata.name) === snap.id : ref === snap.name;
}

/** Finds what the VM needs. Once the VM exists, the snapshot in status stands in for a flavor that is gone. */
export function resolveReferences(refs: Lookups, imagesNamespace: string, server: Server, vmExists: boolean, ov: VmOverrides = {}): Resolved {
  const ns = server.metadata.namespace ?? '';
  const spec = server.spec;
  const snapshot = server.status?.flavor;
  let flavor: FlavorSnapshot | undefined;
  const f = refs.flavor(spec.flavor);
  if (f && isTrue(f.status?.conditions, 'Ready') && f.status?.instancetype) {
    const project = projectOf(refs, ns);
    if (!canUseFlavor(f, project) && !vmExists) {
      return { fault: { code: 404, message: `Flavor ${spec.flavor} could not be found.`, details: `flavor ${spec.flavor} is private and project ${project.id ?? ns} has no access to it` } };
    }
    flavor = snapshotOf(f);
  }
  if (vmExists && snapshot) flavor = snapshot; // Nova keeps the flavor a server was built with (until a resize)
  if (vmExists && ov.flavor) flavor = ov.flavor;
  if (!flavor) {
    if (!f) return { fault: { code: 404, message: `Flavor ${spec.flavor} could not be found.` } };
    const ready = findCondition(f.status?.conditions, 'Ready');
    if (!ready || ready.observedGeneration !== f.metadata.generation) return { waiting: `flavor ${spec.flavor}` };
    return { fault: { code: 500, message: `Flavor ${spec.flavor} cannot be used.`, details: ready?.message ?? 'the flavor is not ready yet' } };
  }

  // Once built, the server runs the image it was built (or rebuilt) from; spec.image changing is a rebuild.
  const imgRef = vmExists && ov.image ? ov.image : spec.image;
  const found = refs.image(imgRef);
  // Another project's snapshot is not found here, but for the one the server was built from.
  const img = found && (canUseImage(found, projectOf(refs, ns)) || server.status?.image?.uid === imageIdOf(found)) ? found : undefined;
  const image = img ? { name: img.metadata.name ?? '', uid: imageIdOf(img) } : vmExists ? server.status?.image : undefined;
  if (!image?.name) return { flavor, fault: { code: 404, message: `Image ${spec.image} could not be found.`, details: `no DataSource ${spec.image} in namespace ${imagesNamespace}` } };

  let keySecretName: string | undefined;
  let keyName: string | undefined;
  if (spec.keyName) {
    const kp = findKeyPair(refs, ns, spec.keyName);
    if (!kp) return { flavor, image, fault: { code: 400, message: 'Invalid key_name provided.', details: `key pair ${spec.keyName} not found in project ${ns}` } };
    const ready = findCondition(kp.status?.conditions, 'Ready');
    if (!ready || ready.observedGeneration !== kp.metadata.generation) return { flavor, image, waiting: `key pair ${spec.keyName}` };
    if (ready.status !== 'True' || !kp.status?.secretName) {
      return { flavor, image, fault: { code: 400, message: 'Invalid key_name provided.', details: ready.message } };
    }
    if ((kp.spec.type ?? 'ssh') === 'ssh') keySecretName = kp.status.secretName;
    keyName = kp.spec.name;
  }
  const it = flavor.instancetype ?? { kind: 'VirtualMachineClusterInstancetype', name: flavor.id ?? '' };
  return {
    flavor,
    image,
    keyName,
    inputs: {
      instancetype: { kind: it.kind ?? 'VirtualMachineClusterInstancetype', name: it.name ?? '' },
      diskGiB: spec.rootDiskGiB ?? flavor.diskGiB ?? 0,
      ephemeralGiB: flavor.ephemeralGiB ?? 0,
      swapMiB: flavor.swapMiB ?? 0,
      image: { name: image.name, namespace: imagesNamespace },
      keySecretName,
      uefi: needsUefi(flavor.extraSpecs, imageProperties(img?.metadata.annotations)) || undefined,
    },
  };
}

/**
 * The scheduler hints as the VM's pods carry them (docs/adr/020): the group's policy, and other
 * servers named by metadata.name or Nova id (one that does not exist stays named, so same_host
 * finds no host — Nova's NoValidHost — and different_host excludes none). A member of an
 * anti-affinity group allowing several servers per host needs its slot, recorded in the group's
 * status (`claimSlot`: claim one first); its VM's slot stands in when the record is gone. A group
 * that is gone is a fault before the VM exists; after, its members are free of it (as in Nova).
 */
export function resolveHints(refs: Lookups, server: Server, vm: CachedVirtualMachine | undefined): { hints?: PodPlacement; fault?: Fault; claimSlot?: string } {
  const spec = server.spec;
  if (!spec.serverGroup && !spec.sameHost?.length && !spec.differentHost?.length) return {};
  const ns = server.metadata.namespace ?? '';
  const hints: PodPlacement = {};
  if (spec.serverGroup) {
    const g = findServerGroup(refs, ns, spec.serverGroup);
    if (!g && !vm) return { fault: { code: 400, message: `Instance group ${spec.serverGroup} could not be found.`, details: `no ServerGroup ${spec.serverGroup} in namespace ${ns}` } };
    if (g) {
      const max = perHost({ policy: g.spec.policy, maxServerPerHost: g.spec.rules?.maxServerPerHost });
      let slot: number | undefined;
      if (max > 1 && Number.isFinite(max)) {
        const recorded = g.status?.slots?.[server.metadata.name ?? ''] ?? vm?.spec.template.metadata?.labels?.[SERVER_GROUP_SLOT_LABEL];
        if (recorded === undefined || !(Number(recorded) < max)) return { claimSlot: g.metadata.name };
        slot = Number(recorded);
      }
      hints.group = { uid: g.metadata.uid ?? '', policy: g.spec.policy, ...(slot !== undefined ? { slot } : {}) };
    }
  }
  const names = (refsOf: string[] | undefined) => refsOf?.map((r) => (refs.servers.get(r, ns) ?? refs.servers.byIndex('uid', r).find((s) => s.metadata.namespace === ns))?.metadata.name ?? r);
  if (spec.sameHost?.length) hints.sameHost = names(spec.sameHost);
  if (spec.differentHost?.length) hints.differentHost = names(spec.differentHost);
  return { hints };
}
