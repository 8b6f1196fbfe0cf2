// Simulated Nodes (KWOK style): plain Node objects with capacity and zone labels, kept Ready by
// heartbeats (Node status and a Lease in kube-node-lease), as a kubelet would.
import { isAlreadyExists, isNotFound, type KubeClient } from '../kube/client.ts';
import { LEASES, NODES, type Node } from '../kube/types.ts';
import { HOSTNAME_LABEL, ZONE_LABEL } from '../api/labels.ts';

export const SIM_NODE_LABEL = 'sim.kova.io/node';

export interface NodeSpec {
  name: string;
  zone?: string;
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function nodeStatus(spec: NodeSpec, transition: string): NonNullable<Node['status']> {
  // KubeVirt's device plugins (on virt-handler) advertise these; a launcher pod asks for them.
  const devices = { 'devices.kubevirt.io/kvm': '1k', 'devices.kubevirt.io/tun': '1k', 'devices.kubevirt.io/vhost-net': '1k' };
  const resources = { cpu: spec.cpu ?? '16', memory: spec.memory ?? '64Gi', pods: spec.pods ?? '110', 'ephemeral-storage': '200Gi', ...devices };
  const t = now();
  return {
    capacity: resources,
    allocatable: resources,
    conditions: [
      { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kova simulator is posting ready status', lastHeartbeatTime: t, lastTransitionTime: transition },
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: '', lastHeartbeatTime: t, lastTransitionTime: transition },
      { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: '', lastHeartbeatTime: t, lastTransitionTime: transition },
      { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: '', lastHeartbeatTime: t, lastTransitionTime: transition },
    ],
    addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: spec.name }],
    nodeInfo: {
      architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'kova-sim', kubeProxyVersion: '', bootID: '', machineID: '', systemUUID: '',
      kernelVersion: '', osImage: 'KubeVirt simulator', containerRuntimeVersion: 'sim://1',
    },
  };
}

/** Creates (or updates) one simulated Node and makes it Ready. */
export async function ensureNode(client: KubeClient, spec: NodeSpec): Promise<void> {
  const labels: Record<string, string> = {
    [HOSTNAME_LABEL]: spec.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubevirt.io/schedulable': 'true',
    // What KubeVirt's node labeller puts on a Node whose QEMU offers the q35 machine type.
    'machine-type.node.kubevirt.io/q35': 'true',
    [SIM_NODE_LABEL]: 'true',
    ...(spec.zone ? { [ZONE_LABEL]: spec.zone } : {}),
    ...spec.labels,
  };
  try {
    await client.create<Node>(NODES, { metadata: { name: spec.name, labels } });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  await client.mergePatch<Node>(NODES, spec.name, undefined, { status: nodeStatus(spec, now()) }, 'status');
}

/**
 * Waits until the Nodes carry no taints: the apiserver taints a new Node not-ready and the node
 * lifecycle controller lifts that once the Node reports Ready. Until then nothing schedules there.
 */
export async function waitSchedulable(client: KubeClient, names: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const node = await client.get<Node>(NODES, name);
      if (!node.spec?.taints?.length) break;
      if (Date.now() > deadline) throw new Error(`Node ${name} still has taints ${JSON.stringify(node.spec.taints)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Keeps the simulated Nodes alive: status heartbeat and node Lease renewal. */
export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly client: KubeClient;
  private readonly intervalMs: number;

  constructor(client: KubeClient, intervalMs = 10_000) {
    this.client = client;
    this.intervalMs = intervalMs;
  }

  start(): void {
    const beat = (): void => {
      void this.beat().finally(() => {
        if (this.timer) this.timer = setTimeout(beat, this.intervalMs);
      });
    };
    this.timer = setTimeout(beat, 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    try {
      const nodes = await this.client.list<Node>(NODES, { labelSelector: SIM_NODE_LABEL });
      await Promise.all(nodes.items.map((n) => this.beatOne(n)));
    } catch {
      // the next beat tries again
    }
  }

  private async beatOne(n: Node): Promise<void> {
    const name = n.metadata.name ?? '';
    // Re-assert readiness: the node lifecycle controller marks silent nodes Unknown.
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    const transition = ready?.status === 'True' ? ready.lastTransitionTime ?? now() : now();
    const { conditions } = nodeStatus({ name }, transition);
    await this.client.mergePatch(NODES, name, undefined, { status: { conditions } }, 'status').catch(() => undefined);
    const lease = { metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') } };
    try {
      await this.client.apply(LEASES, lease, { fieldManager: 'kova-sim-kubelet' });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
