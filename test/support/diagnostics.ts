// What a test prints when a VM does not reach the state it waits for: the VMI's migration state, its
// migrations and launcher pods, and virt-controller's last log lines about it — so that a failure in
// CI, where the control plane's directory is gone once the run ends, can be read from the output.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeClient } from '../../src/kube/client.ts';
import { PODS, type KubeObject, type Pod } from '../../src/kube/types.ts';
import { VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, VIRTUAL_MACHINE_INSTANCES, type VirtualMachineInstance } from '../../src/kubevirt/types.ts';

type Migration = KubeObject & { spec?: { vmiName?: string }; status?: { phase?: string } };

/** A compact account of a VM's KubeVirt objects, for an assertion's message. */
export async function vmDiagnostics(client: KubeClient, namespace: string, name: string): Promise<string> {
  const parts: string[] = [];
  try {
    const vmi = await client.get<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, name, namespace).catch(() => undefined);
    const ms = vmi?.status?.migrationState;
    parts.push(`vmi ${vmi?.status?.phase ?? 'absent'} on ${vmi?.status?.nodeName ?? '-'}; migrationState ${JSON.stringify(ms ? { uid: ms.migrationUid, source: ms.sourceNode, target: ms.targetNode, sourcePod: ms.sourcePod, targetPod: ms.targetPod, start: ms.startTimestamp, completed: ms.completed, failed: ms.failed, abort: ms.abortStatus, end: ms.endTimestamp } : null)}`);
    const migrations = (await client.list<Migration>(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, { namespace })).items.filter((m) => m.spec?.vmiName === name);
    parts.push(`migrations ${migrations.map((m) => `${m.metadata.name}[${m.metadata.uid?.slice(0, 8)} ${m.metadata.creationTimestamp?.slice(11, 19)}]:${m.status?.phase ?? '-'}${m.metadata.deletionTimestamp ? '(deleting)' : ''}`).join(' ')}`);
    const uid = vmi?.metadata.uid;
    const pods = (await client.list<Pod>(PODS, { namespace })).items.filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === uid));
    parts.push(`pods ${pods.map((p) => `${p.metadata.name}@${p.spec.nodeName ?? '-'}[${p.metadata.creationTimestamp?.slice(11, 19)} job ${p.metadata.labels?.['kubevirt.io/migrationJobUID']?.slice(0, 8) ?? '-'}]:${p.status?.phase ?? '-'}${p.metadata.deletionTimestamp ? '(deleting)' : ''}`).join(' ')}`);
  } catch (e) {
    parts.push(`(diagnostics failed: ${(e as Error).message})`);
  }
  const log = process.env.KOVA_TEST_DIR ? join(process.env.KOVA_TEST_DIR, 'virt-controller.log') : '';
  if (log && existsSync(log)) {
    const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes(name) && /"level":"(error|warning)"|Waiting|backoff|limit/.test(l));
    parts.push(`virt-controller: ${lines.slice(-6).map((l) => l.slice(0, 400)).join('\n  ')}`);
  }
  return parts.join('\n');
}
