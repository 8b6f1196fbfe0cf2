// What every simulated node-side component is given, as controllers/deps.ts is for Kova's own: the
// clients it writes with, the simulator's informer caches it reads from (one set, shared by all)
// and the step timing; and the few status helpers they share. Components never call each other's
// reconciles; they read each other's objects from the caches.
import type { KubeClient } from '../kube/client.ts';
import type { Informer } from '../kube/informer.ts';
import type { Pod, Secret } from '../kube/types.ts';
import type { GuestPasswords } from './guest-agent.ts';
import type { DataSource, DataVolume, KubeVirtCondition, VirtualMachine, VirtualMachineInstance, VMIPhase } from '../kubevirt/types.ts';

/** The launcher pod label (set by virt-controller) naming its VMI's uid. */
export const CREATED_BY = 'kubevirt.io/created-by';

export interface SimDeps {
  client: KubeClient;
  /**
   * Writes VMIs, as KubeVirt's handler service account: real virt-api's VMI webhook reverts VMI
   * status written by anyone but KubeVirt's own components.
   */
  vmiClient: KubeClient;
  vms: Informer<VirtualMachine>;
  vmis: Informer<VirtualMachineInstance>;
  /** Launcher pods, indexed by their VMI's uid ('vmi'). */
  pods: Informer<Pod>;
  dvs: Informer<DataVolume>;
  dataSources: Informer<DataSource>;
  /** Time between simulated steps (ms). */
  stepMs: number;
  /** Steps a DataVolume import takes. */
  importSteps: number;
  /** Secrets, as the kubelet mounts them into launcher pods (access credentials). */
  secrets: Informer<Secret>;
  /** The simulated guests' own passwords (set through their guest agent). */
  guests: GuestPasswords;
}

export const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
export const isFinal = (phase: VMIPhase | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';

export function withCondition(list: KubeVirtCondition[] | undefined, c: KubeVirtCondition | { type: string; remove: true }): KubeVirtCondition[] {
  const rest = (list ?? []).filter((x) => x.type !== c.type);
  if ('remove' in c) return rest;
  const prev = list?.find((x) => x.type === c.type);
  return [...rest, { ...c, lastProbeTime: null, lastTransitionTime: prev?.status === c.status ? prev.lastTransitionTime ?? now() : now() }];
}
