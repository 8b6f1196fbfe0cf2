// The simulator's stand-in for KubeVirt's virt-api: an extension API server for
// subresources.kubevirt.io/v1, registered with the kube-apiserver through an APIService as the
// real one is, so callers use the production path (the apiserver authenticates and proxies; this
// server checks the front-proxy client certificate and authorizes with a SubjectAccessReview).
import type https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { KubeClient } from '../kube/client.ts';
import { API_SERVICES, NAMESPACES, SERVICES } from '../kube/types.ts';
import type { Logger } from '../log.ts';
import { Authorizer } from '../identity/auth.ts';
import { PLAIN_STREAM_PROTOCOL as PLAIN, VIRTUAL_MACHINE_INSTANCES, type VirtualMachineInstance } from '../kubevirt/types.ts';
import type { WebSocket } from 'ws';
import { serveVncUpgrades } from './vnc.ts';
import { closeServer, failure, json, publishedCa, serveMutualTls, status, type Reply } from './https.ts';

export const PAUSED_ANNOTATION = 'sim.kova.io/paused';
/** How many soft reboots the simulated guest went through. */
export const SOFT_REBOOTS_ANNOTATION = 'sim.kova.io/soft-reboots';
const GROUP = 'subresources.kubevirt.io';

const SUBRESOURCE = /^\/apis\/subresources\.kubevirt\.io\/v1\/namespaces\/([^/]+)\/virtualmachineinstances\/([^/]+)\/([a-z]+)$/;

export class VirtApi {
  private server: https.Server | undefined;
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly authz: Authorizer;
  private readonly sessions = new Set<WebSocket>();

  constructor(client: KubeClient, log: Logger) {
    this.client = client;
    this.log = log.child({ component: 'sim-virt-api' });
    this.authz = new Authorizer(client);
  }

  /** Starts serving and registers the APIService; false when the cluster has no aggregation layer. */
  async start(): Promise<boolean> {
    const ca = await publishedCa(this.client, 'requestheader-client-ca-file');
    const served = ca ? await serveMutualTls('virt-api', ca, (req) => this.handle(req)) : undefined;
    if (!served) {
      this.log.warn('no aggregation layer (or no openssl): subresources.kubevirt.io is not served');
      return false;
    }
    const server = served.server;
    serveVncUpgrades(server, (req) => this.vncTarget(req), this.sessions, (offered) => (offered.has(PLAIN) ? PLAIN : false));
    this.server = server;
    const port = served.port;
    await this.client.apply(NAMESPACES, { metadata: { name: 'kubevirt' } }, { fieldManager: 'kova-sim' });
    await this.client.apply(SERVICES, { metadata: { name: 'virt-api', namespace: 'kubevirt' }, spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port }] } }, { fieldManager: 'kova-sim' });
    await this.client.apply(API_SERVICES, {
      metadata: { name: `v1.${GROUP}` },
      spec: { group: GROUP, version: 'v1', service: { namespace: 'kubevirt', name: 'virt-api', port }, insecureSkipTLSVerify: true, groupPriorityMinimum: 1000, versionPriority: 15 },
    }, { fieldManager: 'kova-sim' });
    this.log.info('serving subresources.kubevirt.io/v1', { port });
    return true;
  }

  /**
   * Unregisters the APIService first (an APIService nobody answers breaks discovery, and with it
   * namespace deletion and garbage collection), then drops the apiserver's kept-alive connections.
   */
  async stop(): Promise<void> {
    if (!this.server) return;
    await this.client.delete(API_SERVICES, `v1.${GROUP}`).catch(() => undefined);
    const server = this.server;
    this.server = undefined;
    for (const ws of this.sessions) ws.terminate();
    await closeServer(server);
  }

  private async handle(req: IncomingMessage): Promise<Reply> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && (path === `/apis/${GROUP}/v1` || path === `/apis/${GROUP}/v1/`)) {
      const resource = (s: string, verbs: string[]) => ({ name: `virtualmachineinstances/${s}`, singularName: '', namespaced: true, kind: 'VirtualMachineInstance', verbs });
      return json(200, {
        kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${GROUP}/v1`,
        resources: [resource('pause', ['update']), resource('unpause', ['update']), resource('softreboot', ['update']), resource('vnc', ['get'])],
      });
    }
    if (req.method === 'GET' && path.startsWith('/apis')) return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    const [, namespace = '', name = '', action = ''] = SUBRESOURCE.exec(path) ?? [];
    if (req.method !== 'PUT' || (action !== 'pause' && action !== 'unpause' && action !== 'softreboot')) return failure(404, 'NotFound', `the server could not find the requested resource (${req.method} ${path})`);
    const found = await this.authorizedVmi(req, 'update', namespace, name, action);
    if ('refuse' in found) return json(found.refuse[0], found.refuse[1]);
    const vmi = found.vmi;
    const paused = vmi.metadata.annotations?.[PAUSED_ANNOTATION] === 'true';
    if (action === 'softreboot') {
      if (vmi.status?.phase !== 'Running') return failure(409, 'Conflict', 'VMI is not running');
      if (paused) return failure(409, 'Conflict', 'VMI is paused');
      const n = Number(vmi.metadata.annotations?.[SOFT_REBOOTS_ANNOTATION] ?? '0') + 1;
      await this.client.mergePatch(VIRTUAL_MACHINE_INSTANCES, name, namespace, { metadata: { annotations: { [SOFT_REBOOTS_ANNOTATION]: String(n) } } });
      return json(200, {});
    }
    if (action === 'pause') {
      if (vmi.status?.phase !== 'Running') return failure(409, 'Conflict', 'VMI is not running');
      if (paused) return failure(409, 'Conflict', 'VMI is already paused');
    } else if (!paused) return failure(409, 'Conflict', 'VMI is not paused');
    // What virt-handler does to the domain, the simulated hypervisor keeps on the VMI.
    await this.client.mergePatch(VIRTUAL_MACHINE_INSTANCES, name, namespace, { metadata: { annotations: { [PAUSED_ANNOTATION]: action === 'pause' ? 'true' : null } } });
    return json(200, {});
  }

  /** GET …/virtualmachineinstances/{name}/vnc with an Upgrade: the running VMI's display. */
  private async vncTarget(req: IncomingMessage): Promise<{ refuse: [number, unknown] } | { desktop: string }> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const [, namespace = '', name = '', sub = ''] = SUBRESOURCE.exec(path) ?? [];
    if (req.method !== 'GET' || sub !== 'vnc') return { refuse: [404, status(404, 'NotFound', `the server could not find the requested resource (${req.method} ${path})`)] };
    const found = await this.authorizedVmi(req, 'get', namespace, name, sub);
    if ('refuse' in found) return found;
    if (found.vmi.status?.phase !== 'Running') return { refuse: [409, status(409, 'Conflict', `VMI ${name} is not running`)] };
    return { desktop: `${namespace}/${name}` };
  }

  /** The VMI, if the user the apiserver vouches for (front-proxy headers) may use the subresource. */
  private async authorizedVmi(req: IncomingMessage, verb: string, namespace: string, name: string, subresource: string): Promise<{ refuse: [number, unknown] } | { vmi: VirtualMachineInstance }> {
    const user = String(req.headers['x-remote-user'] ?? '');
    // One header per group (Node would join repeated headers with ", ").
    const groups = req.headersDistinct['x-remote-group'] ?? [];
    if (!(await this.authz.can({ user, groups }, { verb, group: GROUP, resource: 'virtualmachineinstances', subresource, namespace, name }))) {
      return { refuse: [403, status(403, 'Forbidden', `User "${user}" cannot ${verb} resource "virtualmachineinstances/${subresource}" in API group "${GROUP}" in namespace "${namespace}"`)] };
    }
    const vmi = await this.client.find<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, name, namespace);
    return vmi ? { vmi } : { refuse: [404, status(404, 'NotFound', `virtualmachineinstance.kubevirt.io "${name}" not found`)] };
  }
}
