// The simulated Nodes' kubelet, for launcher pods: once the real kube-scheduler has bound one to a
// Node it becomes Running with a pod IP (Pending with ErrImagePull under that injection), and a pod
// being deleted goes at once, its containers stopped. The kubelet's HTTPS API (container logs) is
// kubelet-server.ts; the Nodes' status and Lease heartbeats are nodes.ts.
import { isDeepStrictEqual } from 'node:util';
import { controllerOf, keyOf, PODS, splitKey, type Pod } from '../kube/types.ts';
import { now, type SimDeps } from './deps.ts';
import { injected } from './injections.ts';

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
  if (pod.metadata.deletionTimestamp) {
    await d.client.delete(PODS, name, namespace, { gracePeriodSeconds: 0 });
    return;
  }
  if (!pod.spec.nodeName) return; // the kube-scheduler has not bound it yet
  const vm = d.vms.get(controllerOf(pod)?.name ?? '', namespace); // the VMI's name is its VM's
  const t = now();
  let status: Pod['status'];
  if (injected(vm) === 'image-pull-error') {
    status = {
      phase: 'Pending',
      hostIP: '127.0.0.1',
      conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
      containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, ready: false, restartCount: 0, image: c.image, imageID: '', state: { waiting: { reason: 'ErrImagePull', message: 'simulated pull error' } } })),
    };
  } else {
    if (pod.status?.phase === 'Running') return;
    const ip = ips.next();
    status = {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: t,
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: t })),
      containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, ready: true, started: true, restartCount: 0, image: c.image, imageID: 'sim://virt-launcher', state: { running: { startedAt: t } } })),
    };
  }
  if (isDeepStrictEqual(pod.status?.containerStatuses, status.containerStatuses) && pod.status?.phase === status.phase) return;
  await d.client.mergePatch(PODS, name, namespace, { status }, 'status');
}

/** The pod network's addresses, handed out in order. */
export class PodIPs {
  private ipCounter = 0;

  next(): string {
    const n = ++this.ipCounter;
    return `10.244.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
  }
}
