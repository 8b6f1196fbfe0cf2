// virt-handler's HTTPS API, as real virt-api calls it on a VMI's Node for pause, unpause, soft
// reboot and the VNC display: one server on a loopback port for every simulated Node, found by
// virt-api through a `virt-handler` pod per Node in the kubevirt namespace (Running, pod IP
// 127.0.0.1), as a DaemonSet's pods are. Mutual TLS with KubeVirt's CA; virt-api has already
// authorized the caller. What the guest does is kept on the VMI, where virt-handler.ts reports it.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { KUBEVIRT_NAMESPACE, type HandlerEndpoint } from '../controlplane/kubevirt.ts';
import { isAlreadyExists, type KubeClient } from '../kube/client.ts';
import { Informer } from '../kube/informer.ts';
import { NODES, PODS, type Node, type Pod } from '../kube/types.ts';
import type { Logger } from '../log.ts';
import { VIRTUAL_MACHINE_INSTANCES, type VirtualMachineInstance } from '../kubevirt/types.ts';
import { closeServer, failure, json, status, type Reply } from './https.ts';
import { SIM_NODE_LABEL } from './nodes.ts';
import { serveVncUpgrades } from './vnc.ts';

/** A paused domain, as the simulated hypervisor keeps it on the VMI (virt-handler.ts reports the Paused condition from it). */
export const PAUSED_ANNOTATION = 'sim.kova.io/paused';
/** How many soft reboots the simulated guest went through. */
export const SOFT_REBOOTS_ANNOTATION = 'sim.kova.io/soft-reboots';

const PATH = /^\/v1\/namespaces\/([^/]+)\/virtualmachineinstances\/([^/]+)\/([a-z]+)$/;

export class VirtHandlerServer {
  private server: https.Server | undefined;
  private readonly sessions = new Set<WebSocket>();
  private readonly nodes: Informer<Node>;

  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly endpoint: HandlerEndpoint;

  constructor(client: KubeClient, log: Logger, endpoint: HandlerEndpoint) {
    this.client = client;
    this.log = log;
    this.endpoint = endpoint;
    this.nodes = new Informer<Node>(client, NODES, { labelSelector: SIM_NODE_LABEL, onError: (err) => this.log.warn('watch failed; restarting', { err }) });
    this.nodes.on((type, n) => {
      if (type === 'add') void this.ensureHandlerPod(n).catch((err: unknown) => this.log.warn('virt-handler pod', { node: n.metadata.name, err }));
    });
  }

  async start(): Promise<void> {
    const e = this.endpoint;
    const server = https.createServer({ cert: e.cert, key: e.key, ca: e.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      void this.handle(req).then(
        (r) => res.writeHead(r.status, { 'content-type': r.contentType }).end(r.body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify(status(500, 'InternalError', String(err)))),
      );
    });
    serveVncUpgrades(server, (req) => this.vncTarget(req), this.sessions, (offered) => [...offered][0] ?? false);
    await new Promise<void>((r) => server.listen(e.port, '127.0.0.1', () => r()));
    this.server = server;
    this.nodes.start();
    await this.nodes.synced;
    this.log.info('serving virt-handler\'s API', { port: e.port });
  }

  async stop(): Promise<void> {
    this.nodes.stop();
    const server = this.server;
    this.server = undefined;
    for (const ws of this.sessions) ws.terminate();
    if (server) await closeServer(server);
  }

  /** The virt-handler pod of a Node: how virt-api finds where to call. */
  private async ensureHandlerPod(n: Node): Promise<void> {
    const node = n.metadata.name ?? '';
    const name = `virt-handler-${node}`.slice(0, 63);
    try {
      await this.client.create<Pod>(PODS, {
        metadata: { name, namespace: KUBEVIRT_NAMESPACE, labels: { 'kubevirt.io': 'virt-handler' } },
        spec: { nodeName: node, containers: [{ name: 'virt-handler', image: 'quay.io/kubevirt/virt-handler:v1.8.0' }] },
      });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await this.client.mergePatch(PODS, name, KUBEVIRT_NAMESPACE, {
      status: { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }], hostIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }] },
    }, 'status');
  }

  private async handle(req: IncomingMessage): Promise<Reply> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const [, namespace = '', name = '', action = ''] = PATH.exec(path) ?? [];
    if (req.method === 'GET' && action === 'guestosinfo') {
      const vmi = await this.vmi(namespace, name);
      return vmi ? json(200, { guestAgentVersion: 'sim', hostname: vmi.spec.hostname ?? name, os: vmi.status?.guestOSInfo ?? {} }) : failure(404, 'NotFound', `VMI ${name} not found`);
    }
    if (req.method !== 'PUT' || !['pause', 'unpause', 'softreboot'].includes(action)) return failure(404, 'NotFound', `no such endpoint: ${req.method} ${path}`);
    const vmi = await this.vmi(namespace, name);
    if (!vmi || vmi.status?.phase !== 'Running') return failure(409, 'Conflict', `VMI ${name} is not running on this node`);
    // What the launcher does to the domain, the simulated hypervisor keeps on the VMI.
    if (action === 'softreboot') {
      const n = Number(vmi.metadata.annotations?.[SOFT_REBOOTS_ANNOTATION] ?? '0') + 1;
      await this.client.mergePatch(VIRTUAL_MACHINE_INSTANCES, name, namespace, { metadata: { annotations: { [SOFT_REBOOTS_ANNOTATION]: String(n) } } });
    } else {
      await this.client.mergePatch(VIRTUAL_MACHINE_INSTANCES, name, namespace, { metadata: { annotations: { [PAUSED_ANNOTATION]: action === 'pause' ? 'true' : null } } });
    }
    return json(200, {});
  }

  /** GET …/vnc with an Upgrade, from virt-api: the running VMI's display. */
  private async vncTarget(req: IncomingMessage): Promise<{ refuse: [number, unknown] } | { desktop: string }> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const [, namespace = '', name = '', sub = ''] = PATH.exec(path) ?? [];
    if (req.method !== 'GET' || sub !== 'vnc') return { refuse: [404, status(404, 'NotFound', `no such endpoint: ${req.method} ${path}`)] };
    const vmi = await this.vmi(namespace, name);
    if (vmi?.status?.phase !== 'Running') return { refuse: [409, status(409, 'Conflict', `VMI ${name} is not running`)] };
    return { desktop: `${namespace}/${name}` };
  }

  private vmi(namespace: string, name: string): Promise<VirtualMachineInstance | undefined> {
    return this.client.find<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, name, namespace);
  }
}
