// The simulated CDI importer and the storage under it (cdi-controller is not run: docs/adr/015 says
// why): a DataVolume gets its PVC and a PersistentVolume bound to it, as a provisioner would make
// them, and goes Pending → ImportScheduled → ImportInProgress, its progress rising one step at a
// time, → Succeeded (Failed under the data-volume-error injection; held below 50% under the
// provisioning hold; WaitForFirstConsumer, unbound, under the volume-binding hold); a DataSource
// becomes Ready once the DataVolume it points at, if any, has been imported.
import { isDeepStrictEqual } from 'node:util';
import { isAlreadyExists } from '../kube/client.ts';
import { controllerOf, ownerReference, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, splitKey, type KubeObject } from '../kube/types.ts';
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
  const waitBinding = held(vm) === 'volume-binding';
  if ((phase === '' || phase === 'Pending') && injected(vm) !== 'pvc-not-found') await provisionVolume(d, dv, !waitBinding);
  if (injected(vm) === 'data-volume-error') {
    status = {
      phase: 'Failed',
      progress: dv.status?.progress ?? 'N/A',
      conditions: [{ type: 'Running', status: 'False', reason: 'Error', message: 'Unable to process data: simulated import failure' }, { type: 'Ready', status: 'False', reason: 'Error' }],
    };
  } else if (waitBinding && (phase === '' || phase === 'WaitForFirstConsumer')) {
    // Held: the volume waits for its first consumer, and the provisioner does not bind it yet.
    status = { phase: 'WaitForFirstConsumer', progress: 'N/A', conditions: [{ type: 'Bound', status: 'False', reason: 'Pending', message: 'PVC waiting for first consumer' }] };
  } else if (phase === 'WaitForFirstConsumer') {
    await bindVolume(d, dv);
    status = { phase: 'ImportScheduled', progress: 'N/A' };
  } else if (phase === '') status = { phase: 'Pending', progress: 'N/A' };
  else if (phase === 'Pending') status = { phase: 'ImportScheduled', progress: 'N/A' };
  else if (phase === 'ImportScheduled') status = { phase: 'ImportInProgress', progress: '0.00%', conditions: [{ type: 'Running', status: 'True', reason: 'Pod is running' }] };
  else if (held(vm) === 'provisioning') status = { ...dv.status, progress: `${Math.min(progress + step, 50).toFixed(2)}%` };
  else if (progress + step < 100) status = { phase: 'ImportInProgress', progress: `${(progress + step).toFixed(2)}%`, conditions: [{ type: 'Running', status: 'True', reason: 'Pod is running' }] };
  else {
    const t = now();
    status = { phase: 'Succeeded', progress: '100.0%', conditions: [{ type: 'Running', status: 'False', reason: 'Completed', lastTransitionTime: t }, { type: 'Ready', status: 'True', lastTransitionTime: t }, { type: 'Bound', status: 'True', lastTransitionTime: t }] };
  }
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(dv.status ?? {})), status)) await d.client.mergePatch(DATA_VOLUMES, name, namespace, { status }, 'status');
  return status.phase === 'Succeeded' || status.phase === 'Failed' ? undefined : { requeueAfterMs: d.stepMs };
}

/** The StorageClass of volumes that wait for their first consumer (the volume-binding hold). */
export const WAIT_FOR_CONSUMER_CLASS: KubeObject = {
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
  metadata: { name: 'kova-sim-wait-for-consumer' },
  provisioner: 'sim.kova.io/hostpath', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Retain',
} as KubeObject;

/**
 * The volume CDI fills, as a storage provisioner would make it: the DataVolume's PVC (controlled by
 * it, as CDI's are) and, unless it is to wait for its first consumer, a PersistentVolume bound to it
 * (hostPath on the simulated Nodes, kept when released: the simulator has no disks to free).
 * kube-controller-manager's binder marks both Bound.
 */
async function provisionVolume(d: SimDeps, dv: DataVolume, bindNow: boolean): Promise<void> {
  const { name, namespace } = dv.metadata;
  const size = dv.spec.storage?.resources?.requests?.storage ?? dv.spec.pvc?.resources?.requests?.storage ?? '1Gi';
  const accessModes = dv.spec.storage?.accessModes ?? dv.spec.pvc?.accessModes ?? ['ReadWriteOnce'];
  let pvc: KubeObject;
  try {
    pvc = await d.client.create(PERSISTENT_VOLUME_CLAIMS, {
      metadata: { name, namespace, labels: { 'app': 'containerized-data-importer' }, ownerReferences: [ownerReference(dv, 'cdi.kubevirt.io/v1beta1', 'DataVolume')] },
      spec: { accessModes, resources: { requests: { storage: size } }, storageClassName: bindNow ? '' : WAIT_FOR_CONSUMER_CLASS.metadata.name, volumeMode: 'Filesystem' },
    } as KubeObject);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    return;
  }
  if (bindNow) await createBoundVolume(d, pvc as KubeObject & { spec: { storageClassName: string } }, size, accessModes);
}

/** The provisioner's part for a volume that waited for its first consumer. */
async function bindVolume(d: SimDeps, dv: DataVolume): Promise<void> {
  const pvc = await d.client.find<KubeObject & { spec: { storageClassName: string; volumeName?: string; resources: { requests: { storage: string } }; accessModes: string[] } }>(PERSISTENT_VOLUME_CLAIMS, dv.metadata.name ?? '', dv.metadata.namespace);
  if (!pvc || pvc.spec.volumeName) return;
  await createBoundVolume(d, pvc, pvc.spec.resources.requests.storage, pvc.spec.accessModes);
}

async function createBoundVolume(d: SimDeps, pvc: KubeObject & { spec: { storageClassName: string } }, size: string, accessModes: string[]): Promise<void> {
  const { name, namespace } = pvc.metadata;
  await d.client.create(PERSISTENT_VOLUMES, {
    metadata: { generateName: 'pvc-sim-', labels: { 'sim.kova.io/volume': 'true' } },
    spec: {
      capacity: { storage: size }, accessModes, storageClassName: pvc.spec.storageClassName, volumeMode: 'Filesystem', persistentVolumeReclaimPolicy: 'Retain',
      hostPath: { path: `/var/lib/kova-sim/${namespace}/${name}`, type: '' },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name, uid: pvc.metadata.uid },
    },
  } as KubeObject);
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
