// The simulated CDI: a DataVolume goes Pending → ImportScheduled → ImportInProgress, its progress
// rising one step at a time, → Succeeded (Failed under the data-volume-error injection; held below
// 50% under the provisioning hold); a DataSource becomes Ready once the DataVolume it points at, if
// any, has been imported.
import { isDeepStrictEqual } from 'node:util';
import { controllerOf, splitKey } from '../kube/types.ts';
import { DATA_SOURCES, DATA_VOLUMES, type DataVolume } from '../kubevirt/types.ts';
import { now, type SimDeps } from './deps.ts';
import { held, injected } from './injections.ts';

/** One import step of a DataVolume; requeued until it is Succeeded or Failed. */
export async function reconcileDataVolume(d: SimDeps, key: string): Promise<{ requeueAfterMs?: number } | void> {
  const { namespace, name } = splitKey(key);
  const dv = d.dvs.get(name, namespace);
  if (!dv || dv.metadata.deletionTimestamp) return;
  const phase = dv.status?.phase ?? '';
  if (phase === 'Succeeded' || phase === 'Failed') return;
  const owner = controllerOf(dv);
  const vm = owner ? d.vms.get(owner.name, namespace) : undefined;
  const step = 100 / d.importSteps;
  const progress = Number.parseFloat(dv.status?.progress ?? '0') || 0;
  let status: NonNullable<DataVolume['status']>;
  if (injected(vm) === 'data-volume-error') {
    status = {
      phase: 'Failed',
      progress: dv.status?.progress ?? 'N/A',
      conditions: [{ type: 'Running', status: 'False', reason: 'Error', message: 'Unable to process data: simulated import failure' }, { type: 'Ready', status: 'False', reason: 'Error' }],
    };
  } else if (phase === '') status = { phase: 'Pending', progress: 'N/A' };
  else if (phase === 'Pending') status = { phase: 'ImportScheduled', progress: 'N/A' };
  else if (phase === 'ImportScheduled') status = { phase: 'ImportInProgress', progress: '0.00%', conditions: [{ type: 'Running', status: 'True', reason: 'Pod is running' }] };
  else if (held(vm) === 'provisioning') status = { ...dv.status, progress: `${Math.min(progress + step, 50).toFixed(2)}%` };
  else if (progress + step < 100) status = { phase: 'ImportInProgress', progress: `${(progress + step).toFixed(2)}%`, conditions: [{ type: 'Running', status: 'True', reason: 'Pod is running' }] };
  else status = { phase: 'Succeeded', progress: '100.0%', conditions: [{ type: 'Running', status: 'False', reason: 'Completed' }, { type: 'Ready', status: 'True' }, { type: 'Bound', status: 'True' }] };
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(dv.status ?? {})), status)) await d.client.mergePatch(DATA_VOLUMES, name, namespace, { status }, 'status');
  return status.phase === 'Succeeded' || status.phase === 'Failed' ? undefined : { requeueAfterMs: d.stepMs };
}

/** A DataSource is Ready once the volume it names, if CDI is filling one, is imported. */
export async function reconcileDataSource(d: SimDeps, key: string): Promise<void> {
  const { namespace, name } = splitKey(key);
  const ds = d.dataSources.get(name, namespace);
  if (!ds || ds.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
  // A DataSource on a volume CDI is still filling (an image being made) is ready when it is.
  const src = ds.spec?.source?.pvc;
  const dv = src?.name ? d.dvs.get(src.name, src.namespace ?? namespace) : undefined;
  if (dv && dv.status?.phase !== 'Succeeded') return;
  // The DataSource CRD has no status subresource.
  await d.client.mergePatch(DATA_SOURCES, name, namespace, {
    metadata: { resourceVersion: ds.metadata.resourceVersion },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastHeartbeatTime: now(), lastTransitionTime: now() }] },
  });
}
