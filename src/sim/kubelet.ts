// The simulated Nodes' kubelet, for launcher pods (real virt-controller makes them): once the real
// kube-scheduler has bound one to a Node it becomes Running with a pod IP and image digests (Pending
// with ErrImagePull or ImagePullBackOff under those injections, or still creating under the
// `starting` hold), its readiness gates honoured; its containers exit with its domain, and a pod
// being deleted goes once its domain has stopped. The kubelet's HTTPS API (container logs) is
// kubelet-server.ts; the Nodes' status and Lease heartbeats are nodes.ts.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { isConflict, isNotFound } from '../kube/client.ts';
import { controllerOf, keyOf, PODS, splitKey, type Pod } from '../kube/types.ts';
import type { VirtualMachine } from '../kubevirt/types.ts';
import { isFinal, now, type SimDeps } from './deps.ts';
import { held, holdsDomain, injected } from './injections.ts';

/** A launcher pod (key namespace/name), or every launcher pod of a VM whose injections changed (key vm:namespace/name). */
export async function reconcilePod(d: SimDeps, ips: PodIPs, key: string): Promise<void> {
  if (key.startsWith('vm:')) {
    // A VM's injections changed: revisit its launcher pod.
    const { namespace, name } = splitKey(key.slice(3));
    const vmi = d.vmis.get(name, namespace);
    for (const p of d.pods.byIndex('vmi', vmi?.metadata.uid ?? '')) await reconcilePod(d, ips, keyOf(p));
    return;
  }
  const { namespace, name } = splitKey(key);
  const pod = d.pods.get(name, namespace);
  if (!pod) return;
  const vm = d.vms.get(controllerOf(pod)?.name ?? '', namespace); // the VMI's name is its VM's
  if (await launcherExit(d, pod, vm)) return;
  if (!pod.spec.nodeName) return; // the kube-scheduler has not bound it yet
  const t = now();
  let status: Pod['status'];
  const pull = injected(vm) === 'image-pull-error' ? 'ErrImagePull' : injected(vm) === 'image-pull-backoff' ? 'ImagePullBackOff' : undefined;
  if (held(vm) === 'starting' && pod.status?.phase !== 'Running') {
    // Held before the containers start, as a kubelet still pulling the image.
    status = {
      phase: 'Pending',
      hostIP: '127.0.0.1',
      conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
      containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, ready: false, restartCount: 0, image: c.image, imageID: '', state: { waiting: { reason: 'ContainerCreating' } } })),
    };
  } else if (pull) {
    status = {
      phase: 'Pending',
      hostIP: '127.0.0.1',
      conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
      containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, ready: false, restartCount: 0, image: c.image, imageID: '', state: { waiting: { reason: pull, message: pull === 'ErrImagePull' ? 'simulated pull error' : `Back-off pulling image "${c.image}"` } } })),
    };
  } else {
    // Ready when every container is and every readiness gate (KubeVirt's "unpaused" one) is true.
    const gates = (pod.spec.readinessGates ?? []).every((g) => pod.status?.conditions?.some((c) => c.type === g.conditionType && c.status === 'True'));
    const readyNow = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (pod.status?.phase === 'Running' && readyNow === gates) return;
    const ip = pod.status?.podIP ?? ips.next();
    const kept = (pod.status?.conditions ?? []).filter((c) => (pod.spec.readinessGates ?? []).some((g) => g.conditionType === c.type));
    status = {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: pod.status?.startTime ?? t,
      conditions: [
        ...['PodScheduled', 'Initialized', 'ContainersReady'].map((type) => ({ type, status: 'True', lastTransitionTime: t })),
        { type: 'Ready', status: gates ? 'True' : 'False', ...(gates ? {} : { reason: 'ReadinessGatesNotReady', message: 'the status of pod readiness gate is not "True"' }), lastTransitionTime: t },
        ...kept,
      ],
      // Image digests, as a container runtime reports them (KubeVirt's migration needs them).
      containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, ready: true, started: true, restartCount: 0, image: c.image, imageID: digestOf(c.image), state: { running: { startedAt: t } } })),
      // Init containers ran to completion; native sidecars (restartPolicy Always) keep running.
      ...(pod.spec.initContainers?.length ? {
        initContainerStatuses: pod.spec.initContainers.map((c) => ({
          name: c.name, ready: true, started: true, restartCount: 0, image: c.image, imageID: digestOf(c.image),
          state: c.restartPolicy === 'Always' ? { running: { startedAt: t } } : { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } },
        })),
      } : {}),
    };
  }
  if (isDeepStrictEqual(pod.status?.containerStatuses, status.containerStatuses) && pod.status?.phase === status.phase) return;
  await writeStatus(d, pod, status);
}

/**
 * A pod's status, written only over the version it was computed from: a kubelet never brings an
 * exited pod back, and a stale cache would. (On a conflict the newer version comes by the watch.)
 */
async function writeStatus(d: SimDeps, pod: Pod, status: Pod['status']): Promise<void> {
  const { name = '', namespace, resourceVersion } = pod.metadata;
  await d.client.mergePatch(PODS, name, namespace, { metadata: { resourceVersion }, status }, 'status').catch((e: unknown) => {
    if (!isConflict(e) && !isNotFound(e)) throw e;
  });
}

/**
 * A launcher pod's end: its containers exit once its domain is gone —
 * its VMI final, or the pod deleted (the launcher shuts the domain down, and virt-handler then
 * marks the VMI Succeeded) — and a deleted pod goes once its VMI no longer runs. Whether it acted.
 */
async function launcherExit(d: SimDeps, pod: Pod, vm: VirtualMachine | undefined): Promise<boolean> {
  const { name, namespace } = pod.metadata;
  const owner = controllerOf(pod);
  const vmi = owner?.kind === 'VirtualMachineInstance' ? d.vmis.get(owner.name, namespace) : undefined;
  const vmiHere = vmi?.metadata.uid === owner?.uid && vmi?.status?.nodeName === pod.spec.nodeName ? vmi : undefined;
  const domainRuns = !!vmiHere && !isFinal(vmiHere.status?.phase) && ['Scheduled', 'Running', 'Unknown'].includes(vmiHere.status?.phase ?? '');
  const exited = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  if (pod.metadata.deletionTimestamp) {
    if (holdsDomain(vm) && domainRuns) return true;
    if (domainRuns && !exited) await exit(d, pod, 0);
    else if (!domainRuns) await d.client.delete(PODS, name ?? '', namespace, { gracePeriodSeconds: 0 }).catch(ignoreNotFound);
    return true;
  }
  if (vmiHere && isFinal(vmiHere.status?.phase)) {
    if (!exited) await exit(d, pod, vmiHere.status?.phase === 'Failed' ? 1 : 0);
    return true;
  }
  // A live migration's source once the domain runs on the target: its launcher exits. (Only a pod
  // the domain left: one made since the migration began is the next migration's target.)
  const ms = vmi?.metadata.uid === owner?.uid ? vmi?.status?.migrationState : undefined;
  // Any pod made before the last migration began, on a Node the domain is not on, is an earlier
  // source whose exit was missed.
  const wasSource = ms?.sourcePod === name || (pod.metadata.creationTimestamp ?? '~') < (ms?.startTimestamp ?? '');
  if (ms?.completed && wasSource && vmi?.status?.nodeName !== pod.spec.nodeName) {
    if (!exited) await exit(d, pod, 0);
    return true;
  }
  return exited;
}

async function exit(d: SimDeps, pod: Pod, code: number): Promise<void> {
  const t = now();
  await writeStatus(d, pod, {
    phase: code === 0 ? 'Succeeded' : 'Failed',
    conditions: ['Ready', 'ContainersReady'].map((type) => ({ type, status: 'False', reason: code === 0 ? 'PodCompleted' : 'PodFailed', lastTransitionTime: t })),
    containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, ready: false, started: false, restartCount: 0, image: c.image, imageID: digestOf(c.image), state: { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', finishedAt: t } } })),
  });
}

const ignoreNotFound = (e: unknown): void => {
  if (!isNotFound(e)) throw e;
};

/** The digest a registry would give an image (stable per image name). */
function digestOf(image: string): string {
  return `${image.replace(/[:@].*$/, '')}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

/** The pod network's addresses, handed out in order. */
export class PodIPs {
  private ipCounter = 0;

  next(): string {
    const n = ++this.ipCounter;
    return `10.244.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
  }
}
