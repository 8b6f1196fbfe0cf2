// What every simulated KubeVirt component is given, as controllers/deps.ts is for Kova's own: the
// client it writes with, the simulator's informer caches it reads from (one set, shared by all)
// and the step timing; and the few status helpers they share. Components never call each other's
// reconciles; they read each other's objects from the caches.
import type { Informer } from '../kube/informer.ts';
import type { Secret } from '../kube/types.ts';
import type { GuestPasswords } from './guest-agent.ts';
import type { DataSource, DataVolume, Instancetype, KubeVirtCondition, VMIPhase } from '../kubevirt/types.ts';
import type { MigrationDeps } from './migrations.ts';

export interface SimDeps extends MigrationDeps {
  dvs: Informer<DataVolume>;
  dataSources: Informer<DataSource>;
  clusterInstancetypes: Informer<Instancetype>;
  instancetypes: Informer<Instancetype>;
  /** Steps a DataVolume import takes. */
  importSteps: number;
  /**
   * Real virt-controller runs (docs/adr/015-real-kubevirt.md): the simulator then plays only the
   * node side — virt-handler, the kubelet, CDI's importer and the storage it fills.
   */
  realController: boolean;
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
