// The simulated Nodes' kubelet, the part of its API the kube-apiserver calls: container logs,
// `GET /containerLogs/{namespace}/{pod}/{container}` with tailLines and limitBytes, which serves
// the pods/log subresource (`kubectl logs`). One HTTPS server on a loopback port stands for the
// kubelet of every simulated Node: each advertises its port in
// status.daemonEndpoints.kubeletEndpoint.Port next to its InternalIP 127.0.0.1. Like a kubelet it
// accepts only the apiserver's client certificate, checked against the cluster's client CA.
import type https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KubeClient } from '../kube/client.ts';
import { Informer } from '../kube/informer.ts';
import type { Logger } from '../log.ts';
import { GUEST_CONSOLE_LOG } from '../kubevirt/types.ts';
import { NODES, type Node, type Pod } from '../kube/types.ts';
import { closeServer, publishedCa, serveMutualTls, type Reply } from './https.ts';
import { SIM_NODE_LABEL } from './nodes.ts';

/** The launcher pod label virt-controller sets to the guest's hostname. */
export const HOSTNAME_POD_LABEL = 'vm.kubevirt.io/name';

const text = (status: number, body: string): Reply => ({ status, contentType: 'text/plain; charset=utf-8', body });

export class KubeletServer {
  private server: https.Server | undefined;
  private port = 0;
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly pod: (namespace: string, name: string) => Pod | undefined;
  private readonly hostname: (pod: Pod) => string | undefined;
  private readonly nodes: Informer<Node>;

  /**
   * `pod` finds a pod the simulated kubelets run (the simulator's cache of launcher pods);
   * `hostname` is the hostname its guest sets (its VMI's).
   */
  constructor(client: KubeClient, log: Logger, pod: (namespace: string, name: string) => Pod | undefined, hostname: (pod: Pod) => string | undefined) {
    this.client = client;
    this.log = log.child({ component: 'sim-kubelet' });
    this.pod = pod;
    this.hostname = hostname;
    this.nodes = new Informer<Node>(client, NODES, { labelSelector: SIM_NODE_LABEL, onError: (err) => this.log.warn('watch failed; restarting', { err }) });
    // Each Node is pointed here once, when first seen: a new Node, or one a previous simulator
    // pointed elsewhere. Never on updates, so two simulators on one cluster cannot ping-pong.
    this.nodes.on((type, n) => {
      if (type === 'add') void this.advertise(n);
    });
  }

  /** Starts serving and points the simulated Nodes here; false when the apiserver has no client CA (or openssl is missing). */
  async start(): Promise<boolean> {
    const ca = await publishedCa(this.client, 'client-ca-file');
    const served = ca ? await serveMutualTls('kubelet', ca, async (req) => this.handle(req)) : undefined;
    if (!served) {
      this.log.warn('the apiserver publishes no client CA (or no openssl): container logs are not served');
      return false;
    }
    this.server = served.server;
    this.port = served.port;
    this.nodes.start();
    await this.nodes.synced;
    this.log.info('serving the kubelet API of the simulated Nodes', { port: this.port });
    return true;
  }

  async stop(): Promise<void> {
    this.nodes.stop();
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server);
  }

  private async advertise(n: Node): Promise<void> {
    if (n.status?.daemonEndpoints?.kubeletEndpoint?.Port === this.port) return;
    try {
      await this.client.mergePatch(NODES, n.metadata.name ?? '', undefined, { status: { daemonEndpoints: { kubeletEndpoint: { Port: this.port } } } }, 'status');
    } catch (err) {
      this.log.warn('could not advertise the kubelet port', { node: n.metadata.name, err });
    }
  }

  private handle(req: IncomingMessage): Reply {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return text(404, '404 page not found\n');
    const [, namespace = '', name = '', container = ''] = m.map(decodeURIComponent);
    const pod = this.pod(namespace, name);
    if (!pod?.spec.nodeName) return text(404, `pod "${name}" in namespace "${namespace}" not found\n`);
    if (![...pod.spec.containers, ...pod.spec.initContainers ?? []].some((c) => c.name === container)) return text(404, `container "${container}" in pod "${name}" not found\n`);
    const log = container === GUEST_CONSOLE_LOG ? guestConsoleLog(pod, this.hostname(pod)) : launcherLog(pod);
    const tailLines = url.searchParams.get('tailLines');
    const limitBytes = url.searchParams.get('limitBytes');
    return text(200, limit(log, tailLines === null ? undefined : Number(tailLines), limitBytes === null ? undefined : Number(limitBytes)));
  }
}

/** The kubelet's order: the last `tailLines` lines, then at most `limitBytes` bytes of those from the start. */
export function limit(log: string, tailLines?: number, limitBytes?: number): string {
  let out = log;
  if (tailLines !== undefined && tailLines >= 0) out = tailLines === 0 ? '' : out.split(/(?<=\n)/).slice(-tailLines).join('');
  if (limitBytes !== undefined && limitBytes > 0) out = Buffer.from(out).subarray(0, limitBytes).toString();
  return out;
}

/**
 * What a CirrOS guest prints on its serial console while it boots, with the hostname and address
 * it got, so a reader can tell servers apart. It ends at the login prompt, without a newline.
 */
export function guestConsoleLog(pod: Pod, guestHostname?: string): string {
  const hostname = guestHostname ?? pod.metadata.labels?.[HOSTNAME_POD_LABEL] ?? pod.metadata.name ?? 'cirros';
  const ip = pod.status?.podIP ?? '10.0.2.2';
  const lines = [
    'SeaBIOS (version 1.16.3-kubevirt)',
    'Booting from Hard Disk...',
    '[    0.000000] Linux version 6.8.0-generic (cirros@builder) #1 SMP PREEMPT_DYNAMIC x86_64',
    '[    0.000000] Command line: LABEL=cirros-rootfs ro console=tty1 console=ttyS0',
    '[    0.000000] BIOS-provided physical RAM map:',
    '[    0.012830] Hypervisor detected: KVM',
    '[    0.104522] smpboot: CPU0: QEMU Virtual CPU version 2.5+',
    '[    0.389147] Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled',
    '[    0.391002] 00:04: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A',
    '[    0.612480] virtio_blk virtio2: [vda] 2097152 512-byte logical blocks (1.07 GB/1.00 GiB)',
    '[    0.618903] virtio_net virtio0 eth0: renamed from enp1s0',
    '[    1.027544] EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none.',
    '[    1.204118] Run /sbin/init as init process',
    'Starting syslogd: OK',
    'Starting klogd: OK',
    'Initializing random number generator: OK',
    'Saving random seed: OK',
    'Starting network: udhcpc: started, v1.36.1',
    'udhcpc: broadcasting discover',
    `udhcpc: lease of ${ip} obtained from ${ip.replace(/\.\d+$/, '.1')}, lease time 86400`,
    'OK',
    'found datasource (configdrive, local)',
    `Setting hostname ${hostname}: OK`,
    'Starting dropbear sshd: OK',
    '=== system information ===',
    'Platform: KubeVirt None/RHEL',
    'Arch: x86_64',
    'CPU(s): 1 @ 2394.454 MHz',
    'RAM Size: 464MB',
    'Disks: vda 1073741824',
    '=== sshd host keys ===',
    '-----BEGIN SSH HOST KEY KEYS-----',
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtvdmEtc2ltdWxhdGVkLWd1ZXN0LWhvc3Qta2V5 root@' + hostname,
    '-----END SSH HOST KEY KEYS-----',
    '=== network info ===',
    `if-info: eth0,up,${ip},24,fe80::2:ff:fe00:2/64`,
    `=== cirros: current=0.6.3 latest=0.6.3 uptime=4.21 ===`,
    '',
    "login as 'cirros' user. default password: 'gocubsgo'. use 'sudo' for root.",
  ];
  return lines.join('\n') + `\n${hostname} login: `;
}

/** virt-launcher's own structured log, for the launcher pod's other containers. */
function launcherLog(pod: Pod): string {
  const at = pod.status?.startTime ?? new Date().toISOString();
  const line = (msg: string): string => JSON.stringify({ component: 'virt-launcher', level: 'info', msg, timestamp: at }) + '\n';
  return line('Domain started.') + line('Marked as ready');
}
