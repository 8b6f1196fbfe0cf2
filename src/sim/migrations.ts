// The simulator's migration controller (virt-controller's, with the target virt-handler's part): a
// VirtualMachineInstanceMigration gets a target launcher pod that the real kube-scheduler places on
// another Node; once it runs, the VMI's migrationState starts, and after a step the VMI is on the
// target Node and the source pod is gone. Deleting a running migration aborts it.
import type { KubeClient } from '../kube/client.ts';
import type { Informer } from '../kube/informer.ts';
import { ownerReference, PODS, splitKey, type Pod } from '../kube/types.ts';
import { writeStatus } from '../kube/status.ts';
import { VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, VIRTUAL_MACHINE_INSTANCES, type VirtualMachineInstanceMigration, type VirtualMachine, type VirtualMachineInstance } from '../kubevirt/types.ts';
import { HOSTNAME_LABEL } from '../api/labels.ts';

export const MIGRATION_JOB_LABEL = 'kubevirt.io/migrationJobUID';
const MIGRATION_NAME_LABEL = 'kubevirt.io/migrationJobName';
const CREATED_BY = 'kubevirt.io/created-by';
const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export interface MigrationDeps {
  client: KubeClient;
  /**
   * Writes VMIs. With real virt-api it acts as KubeVirt's controller service account: its VMI
   * mutating webhook reverts VMI status written by anyone else.
   */
  vmiClient: KubeClient;
  vms: Informer<VirtualMachine>;
  vmis: Informer<VirtualMachineInstance>;
  pods: Informer<Pod>;
  migrations: Informer<VirtualMachineInstanceMigration>;
  stepMs: number;
  /** The VM's sim.kova.io/hold value. */
  hold: (vm: VirtualMachine | undefined) => string | undefined;
}

export const migrationKeyOfPod = (p: Pod): string | undefined => {
  const n = p.metadata.labels?.[MIGRATION_NAME_LABEL];
  return n ? `${p.metadata.namespace}/${n}` : undefined;
};

export async function reconcileMigration(d: MigrationDeps, key: string): Promise<{ requeueAfterMs?: number } | void> {
  const { namespace, name } = splitKey(key);
  const m = d.migrations.get(name, namespace);
  if (!m) return;
  if (m.metadata.deletionTimestamp) {
    // virt-api puts KubeVirt's finalizer on every migration: once the VMI shows the abort (or is
    // gone), virt-controller lets the object go.
    if (!m.metadata.finalizers?.length) return;
    const ms = d.vmis.get(m.spec.vmiName, namespace)?.status?.migrationState;
    if (ms && ms.migrationUid === m.metadata.uid && !ms.endTimestamp) return { requeueAfterMs: d.stepMs };
    await d.client.mergePatch(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, name, namespace, { metadata: { finalizers: null, resourceVersion: m.metadata.resourceVersion } });
    return;
  }
  const phase = m.status?.phase ?? '';
  if (phase === 'Succeeded' || phase === 'Failed') return;
  const vmi = d.vmis.get(m.spec.vmiName, namespace);
  const setStatus = (status: VirtualMachineInstanceMigration['status']) => writeStatus(d.client, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, m, { ...m.status, ...status });
  const target = d.pods.list().find((p) => p.metadata.labels?.[MIGRATION_JOB_LABEL] === m.metadata.uid && p.metadata.namespace === namespace);
  if (!vmi || vmi.status?.phase !== 'Running' || vmi.metadata.deletionTimestamp) {
    await setStatus({ phase: 'Failed', migrationState: { failed: true, failureReason: 'the VMI is not running' } });
    return;
  }
  const source = vmi.status.nodeName ?? '';
  if (phase === '' || phase === 'Pending') {
    await createTargetPod(d, m, vmi, source);
    await setStatus({ phase: 'Scheduling' });
    return;
  }
  if (!target) return;
  const sched = target.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False' && sched.reason === 'Unschedulable') {
    await d.client.delete(PODS, target.metadata.name ?? '', namespace, { gracePeriodSeconds: 0 }).catch(() => undefined);
    await setStatus({ phase: 'Failed', migrationState: { sourceNode: source, failed: true, failureReason: `no node for the target pod: ${sched.message ?? 'unschedulable'}` } });
    return;
  }
  if (phase === 'Scheduling') {
    if (target.status?.phase !== 'Running') return;
    const state = { migrationUid: m.metadata.uid, sourceNode: source, targetNode: target.spec.nodeName, targetPod: target.metadata.name, startTimestamp: now(), mode: 'PreCopy' };
    await d.vmiClient.replace(VIRTUAL_MACHINE_INSTANCES, { ...vmi, metadata: { ...vmi.metadata, labels: { ...vmi.metadata.labels, 'kubevirt.io/migrationTargetNodeName': target.spec.nodeName ?? '' } }, status: { ...vmi.status, migrationState: state } });
    await setStatus({ phase: 'Running', migrationState: state });
    return { requeueAfterMs: d.stepMs };
  }
  if (phase === 'Running') {
    if (d.hold(d.vms.get(m.spec.vmiName, namespace)) === 'migrating') return { requeueAfterMs: d.stepMs };
    const node = target.spec.nodeName ?? '';
    // The target virt-handler takes the VMI over (first, so the VMI never looks podless), then the
    // source pod goes. Each step is safe to repeat.
    const state = { ...vmi.status.migrationState, endTimestamp: vmi.status.migrationState?.endTimestamp ?? now(), completed: true };
    if (!vmi.status.migrationState?.completed) {
      const labels: Record<string, string> = { ...vmi.metadata.labels, 'kubevirt.io/nodeName': node };
      delete labels['kubevirt.io/migrationTargetNodeName'];
      await d.vmiClient.replace(VIRTUAL_MACHINE_INSTANCES, {
        ...vmi,
        metadata: { ...vmi.metadata, labels },
        status: { ...vmi.status, nodeName: node, activePods: { [target.metadata.uid ?? '']: node }, migrationState: state },
      });
    }
    if (target.metadata.labels?.[CREATED_BY] !== vmi.metadata.uid) {
      await d.client.mergePatch(PODS, target.metadata.name ?? '', namespace, {
        metadata: { labels: { [CREATED_BY]: vmi.metadata.uid ?? '' }, ownerReferences: [ownerReference(vmi, 'kubevirt.io/v1', 'VirtualMachineInstance')] },
      });
    }
    const old = d.pods.byIndex('vmi', vmi.metadata.uid ?? '').filter((p) => p.metadata.namespace === namespace && p.metadata.uid !== target.metadata.uid);
    for (const p of old) await d.client.delete(PODS, p.metadata.name ?? '', namespace, { gracePeriodSeconds: 0 });
    await setStatus({ phase: 'Succeeded', migrationState: state });
  }
}

/** A migration deleted while it ran is aborted: the VMI stays where it was. */
export async function abortOrphanedMigration(d: MigrationDeps, vmi: VirtualMachineInstance): Promise<VirtualMachineInstance | undefined> {
  const ms = vmi.status?.migrationState;
  if (!ms?.migrationUid || ms.endTimestamp) return undefined;
  if (d.migrations.list().some((m) => m.metadata.uid === ms.migrationUid && !m.metadata.deletionTimestamp)) return undefined;
  for (const p of d.pods.list()) {
    if (p.metadata.labels?.[MIGRATION_JOB_LABEL] === ms.migrationUid) await d.client.delete(PODS, p.metadata.name ?? '', p.metadata.namespace, { gracePeriodSeconds: 0 }).catch(() => undefined);
  }
  return { ...vmi, status: { ...vmi.status, migrationState: { ...ms, endTimestamp: now(), failed: true, abortStatus: 'Succeeded' } } };
}

async function createTargetPod(d: MigrationDeps, m: VirtualMachineInstanceMigration, vmi: VirtualMachineInstance, source: string): Promise<void> {
  const src = d.pods.byIndex('vmi', vmi.metadata.uid ?? '')[0];
  if (!src) return;
  const terms = [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'NotIn', values: [source] }] }];
  await d.client.create(PODS, {
    metadata: {
      generateName: `virt-launcher-${vmi.metadata.name}-`,
      namespace: vmi.metadata.namespace,
      labels: { 'kubevirt.io': 'virt-launcher', 'vm.kubevirt.io/name': vmi.metadata.name ?? '', [MIGRATION_JOB_LABEL]: m.metadata.uid ?? '', [MIGRATION_NAME_LABEL]: m.metadata.name ?? '' },
      ownerReferences: [ownerReference(m, 'kubevirt.io/v1', 'VirtualMachineInstanceMigration')],
    },
    spec: {
      ...src.spec,
      nodeName: undefined,
      nodeSelector: { ...src.spec.nodeSelector, ...m.spec.addedNodeSelector },
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
    },
  } as Pod);
}
