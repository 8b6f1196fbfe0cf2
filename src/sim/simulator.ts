// The KubeVirt simulator (`kova sim`): plays the node side of a KubeVirt cluster — what runs on a
// Node — against a real kube-apiserver with real virt-api and virt-controller
// (src/controlplane/kubevirt.ts, docs/adr/015-real-kubevirt.md), the way Nova's fake driver plays a
// hypervisor. One file per component it plays, each a reconcile over the informer caches this file
// shares out (deps.ts):
//   virt-handler.ts:        VMI Scheduled → Running with interfaces, guest info, Paused; the domain
//                           stopping or crashing; the handlers' half of a live migration; the guest
//                           agent's access credentials (guest-agent.ts: passwords from Secrets)
//   virt-handler-server.ts: virt-handler's HTTPS API that real virt-api calls (pause, unpause, soft
//                           reboot, VNC through vnc.ts), and a virt-handler pod per Node
//   kubelet.ts:             a launcher pod the real kube-scheduler bound to a Node becomes Running
//                           with an IP and image digests, and exits with its domain; container logs
//                           for the apiserver (kubelet-server.ts); Node heartbeats (nodes.ts)
//   cdi.ts:                 CDI's importer: a DataVolume's PVC and bound PV, import phases and
//                           progress; DataSources Ready
// Failure injection and holds come from annotations on the VM (a Server's sim.kova.io/* annotations
// are copied there): see injections.ts. This file wires the informers to the components' work
// queues and keeps the Simulator's public face.
import type { KubeClient } from '../kube/client.ts';
import { controllerOf, keyOf, PODS, SECRETS, STORAGE_CLASSES, type KubeObject, type Pod, type ResourceType, type Secret } from '../kube/types.ts';
import { bootDisk, GuestPasswords, passwordSecrets } from './guest-agent.ts';
import { Controller } from '../kube/controller.ts';
import { Informer, type Runnable } from '../kube/informer.ts';
import type { Logger } from '../log.ts';
import { DATA_SOURCES, DATA_VOLUMES, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES } from '../kubevirt/types.ts';
import { NodeHeartbeat } from './nodes.ts';
import { VirtHandlerServer } from './virt-handler-server.ts';
import { KUBEVIRT_IDENTITIES, KUBEVIRT_SA_GROUPS, type HandlerEndpoint } from '../controlplane/kubevirt.ts';
import { KubeletServer } from './kubelet-server.ts';
import { CREATED_BY, type SimDeps } from './deps.ts';
import { reconcileVMI } from './virt-handler.ts';
import { PodIPs, reconcilePod } from './kubelet.ts';
import { reconcileDataSource, reconcileDataVolume, WAIT_FOR_CONSUMER_CLASS } from './cdi.ts';

export interface SimulatorOptions {
  /**
   * Where real virt-api calls virt-handler (src/controlplane/kubevirt.ts): the simulator serves
   * virt-handler's API there. Real virt-api and virt-controller must run: the simulator plays only
   * the Nodes.
   */
  handler: HandlerEndpoint;
  /** Time between simulated steps (ms). */
  stepMs?: number;
  /** Steps a DataVolume import takes. */
  importSteps?: number;
  /** Run the Node heartbeats (for Nodes the simulator created). */
  heartbeats?: boolean;
  /** Serve the simulated Nodes' kubelet API (container logs) to the apiserver. */
  kubelet?: boolean;
}

export class KubeVirtSimulator {
  private readonly log: Logger;
  private readonly stepMs: number;
  /** The informers every component reads, with the client and timing they share. */
  private readonly deps: SimDeps;
  private readonly controllers: Controller[];
  private readonly heartbeat: NodeHeartbeat | undefined;
  private readonly handlerServer: VirtHandlerServer;
  private readonly kubelet: KubeletServer | undefined;
  private readonly guests = new GuestPasswords();

  constructor(client: KubeClient, log: Logger, o: SimulatorOptions) {
    this.log = log.child({ component: 'sim' });
    this.stepMs = o.stepMs ?? 300;
    const onError = (err: unknown): void => this.log.warn('watch failed; restarting', { err });
    const inf = <T extends KubeObject>(t: ResourceType, labelSelector?: string) => new Informer<T>(client, t, { labelSelector, onError });
    const d: SimDeps = this.deps = {
      client,
      vmiClient: client.as(KUBEVIRT_IDENTITIES.handler, KUBEVIRT_SA_GROUPS),
      stepMs: this.stepMs,
      importSteps: o.importSteps ?? 4,
      vms: inf(VIRTUAL_MACHINES),
      vmis: inf(VIRTUAL_MACHINE_INSTANCES),
      pods: inf<Pod>(PODS, 'kubevirt.io=virt-launcher').addIndex('vmi', (p) => [p.metadata.labels?.[CREATED_BY] ?? '']),
      dvs: inf(DATA_VOLUMES),
      dataSources: inf(DATA_SOURCES),
      secrets: inf<Secret>(SECRETS),
      guests: this.guests,
    };
    this.heartbeat = o.heartbeats === false ? undefined : new NodeHeartbeat(client);
    this.handlerServer = new VirtHandlerServer(client, this.log, o.handler);
    this.kubelet = o.kubelet === false ? undefined : new KubeletServer(client, this.log, (ns, name) => d.pods.get(name, ns), (pod) => {
      // The guest names itself as KubeVirt tells it: the VMI's hostname, else its name.
      const vmi = d.vmis.get(controllerOf(pod)?.name ?? '', pod.metadata.namespace);
      return vmi ? vmi.spec.hostname ?? vmi.metadata.name : undefined;
    });

    const ips = new PodIPs();
    const vmiCtl = new Controller('sim-virt-handler', (k) => reconcileVMI(d, k), this.log, { concurrency: 4 });
    const podCtl = new Controller('sim-kubelet', (k) => reconcilePod(d, ips, k), this.log, { concurrency: 4 });
    const dvCtl = new Controller('sim-cdi', (k) => reconcileDataVolume(d, k), this.log, { concurrency: 4 });
    const dsCtl = new Controller('sim-cdi-datasource', (k) => reconcileDataSource(d, k), this.log, { concurrency: 1 });
    this.controllers = [vmiCtl, podCtl, dvCtl, dsCtl];

    const both = <T extends KubeObject>(fn: (o: T) => void) => (_t: string, o: T, old?: T) => {
      fn(o);
      if (old) fn(old);
    };
    d.vms.on(both((vm) => {
      vmiCtl.enqueue(keyOf(vm)); // annotations (injections) drive the VMI too
      podCtl.enqueue('vm:' + keyOf(vm));
      for (const t of vm.spec.dataVolumeTemplates ?? []) dvCtl.enqueue(`${vm.metadata.namespace}/${t.metadata.name}`);
    }));
    d.vmis.on(both((vmi) => {
      vmiCtl.enqueue(keyOf(vmi));
      // A launcher exits with its domain: the kubelet revisits the VMI's pods.
      for (const p of d.pods.byIndex('vmi', vmi.metadata.uid ?? '')) podCtl.enqueue(keyOf(p));
    }));
    d.pods.on(both((pod) => {
      podCtl.enqueue(keyOf(pod));
      const owner = controllerOf(pod);
      if (owner?.kind === 'VirtualMachineInstance') vmiCtl.enqueue(`${pod.metadata.namespace}/${owner.name}`);
    }));
    d.dvs.on(both((dv) => {
      dvCtl.enqueue(keyOf(dv));
      dsCtl.enqueue(keyOf(dv)); // a DataSource of the same name waits for it
    }));
    d.dataSources.on(both((ds) => dsCtl.enqueue(keyOf(ds))));
    // A changed Secret reaches the running guests whose access credentials name it (the kubelet
    // updates the mounted files; virt-launcher's watcher applies them).
    d.secrets.on(both((secret) => {
      for (const vmi of d.vmis.list(secret.metadata.namespace)) if (passwordSecrets(vmi).includes(secret.metadata.name ?? '')) vmiCtl.enqueue(keyOf(vmi));
    }));
  }

  private informers(): Runnable[] {
    const d = this.deps;
    return [d.vms, d.vmis, d.pods, d.dvs, d.dataSources, d.secrets];
  }

  /**
   * The password the simulated guest of a VMI has for `user` (what its guest agent was last told),
   * for tests to check what reached the guest; it is on no object.
   */
  guestPassword(namespace: string, vmi: string, user: string): string | undefined {
    const v = this.deps.vmis.get(vmi, namespace);
    return v ? this.guests.get(bootDisk(v), user) : undefined;
  }

  async start(): Promise<void> {
    await this.deps.client.apply(STORAGE_CLASSES, WAIT_FOR_CONSUMER_CLASS, { fieldManager: 'kova-sim' });
    for (const i of this.informers()) i.start();
    await Promise.all(this.informers().map((i) => i.synced));
    for (const c of this.controllers) c.start();
    this.heartbeat?.start();
    await this.handlerServer.start();
    await this.kubelet?.start();
    this.log.info('KubeVirt simulator started', { stepMs: this.stepMs });
  }

  async stop(): Promise<void> {
    this.heartbeat?.stop();
    await this.handlerServer.stop();
    await this.kubelet?.stop();
    await Promise.all(this.controllers.map((c) => c.stop()));
    for (const i of this.informers()) i.stop();
  }
}
