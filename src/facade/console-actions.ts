// The consoles a server action or route hands out. A console URL (remote-consoles, 2.6+, and the
// os-getVNCConsole action, ≤ 2.5) carries a signed, short-lived token bound to the server and the
// caller; the console proxy (console-proxy.ts) opens it. os-getConsoleOutput reads the last lines
// of the serial console: KubeVirt logs it as the launcher pod's guest-console-log container (the VM
// sets logSerialConsole), read through the pod log API as the caller, so `get pods/log` in the
// project is Nova's os_compute_api:os-console-output policy (docs/adr/012-console-output.md).
import type { FastifyRequest } from 'fastify';
import type { Server } from '../api/server.ts';
import { SERVER_LABEL } from '../api/labels.ts';
import { KubeError, resourcePath } from '../kube/client.ts';
import { PODS, type Pod } from '../kube/types.ts';
import { GUEST_CONSOLE_LOG, VMI_SUBRESOURCES } from '../kubevirt/types.ts';
import { consoleOutput, tailLines } from '../nova/console-output.ts';
import { consoleRefusal, novncUrl } from '../nova/consoles.ts';
import { badRequest, conflict, forbidden, notFound, versionNotFound } from '../nova/faults.ts';
import { consoleOutputView, legacyConsoleView } from '../nova/views/consoles.ts';
import { WEBSOCKIFY_PATH } from './console-tokens.ts';
import { callerClient } from './routes/common.ts';
import { CONSOLE_OUTPUT, GET_VNC_CONSOLE, LEGACY_CONSOLE } from './schemas/consoles.ts';
import { validate } from './validate.ts';

/**
 * A console URL for the server, after Nova's policy (here: RBAC on KubeVirt's VNC subresource,
 * which the proxy will open as the caller) and Nova's checks of the server and console type.
 */
export async function consoleUrl(req: FastifyRequest, s: Server, protocol: string, type: string): Promise<string> {
  const deps = req.server.kova;
  const namespace = s.metadata.namespace ?? '';
  const vmi = await checkConsolePolicy(req, s);
  const id = s.metadata.uid ?? '';
  const refusal = consoleRefusal(consoleTarget(s), protocol, type);
  if (refusal) throw refusal;
  const { user, groups } = req.nova.caller;
  const { token } = deps.consoleTokens.issue({ server: { uid: id, namespace, name: s.metadata.name ?? '' }, vmi, user, groups });
  return novncUrl(deps.novncProxyBaseUrl ?? `${req.nova.origin}/novnc/vnc_lite.html`, WEBSOCKIFY_PATH, token);
}

/** Nova's os_compute_api:os-remote-consoles policy: RBAC on the VMI's VNC subresource, which the proxy opens as the caller. Returns the VMI's name. */
async function checkConsolePolicy(req: FastifyRequest, s: Server): Promise<string> {
  const vmi = s.status?.instanceName ?? s.metadata.name ?? '';
  const { group, plural } = VMI_SUBRESOURCES;
  if (!(await req.server.kova.authz.can(req.nova.caller, { verb: 'get', group, resource: plural, subresource: 'vnc', namespace: s.metadata.namespace ?? '', name: vmi }))) {
    throw forbidden("Policy doesn't allow os_compute_api:os-remote-consoles to be performed.");
  }
  return vmi;
}

const consoleTarget = (s: Server) => ({ id: s.metadata.uid ?? '', host: s.status?.host, taskState: s.status?.taskState ?? null, powerState: s.status?.powerState });

/**
 * The os-getSPICEConsole, os-getSerialConsole and os-getRDPConsole actions (≤ 2.5): SPICE and serial
 * consoles are unavailable, as in a Nova with them disabled; RDP is removed (webob's bare 400).
 */
export async function otherConsoleAction(req: FastifyRequest, server: Server, action: 'os-getSPICEConsole' | 'os-getSerialConsole' | 'os-getRDPConsole', arg: unknown): Promise<never> {
  if (req.nova.version.atLeast('2.6')) throw versionNotFound();
  if (action === 'os-getRDPConsole') throw badRequest('The server could not comply with the request since it is either malformed or otherwise incorrect.');
  const protocol = action === 'os-getSPICEConsole' ? 'spice' : 'serial';
  const { type } = validate<Record<string, { type: string }>>(LEGACY_CONSOLE[action], { [action]: arg })[action]!;
  await checkConsolePolicy(req, server);
  throw consoleRefusal(consoleTarget(server), protocol, type) ?? badRequest(`Unavailable console type ${type}.`);
}

/** The os-getVNCConsole server action (≤ 2.5): 200 with `{"console": {type, url}}`. */
export async function vncConsoleAction(req: FastifyRequest, server: Server, arg: unknown): Promise<Record<string, unknown>> {
  if (req.nova.version.atLeast('2.6')) throw versionNotFound();
  const { type } = validate<{ 'os-getVNCConsole': { type: string } }>(GET_VNC_CONSOLE, { 'os-getVNCConsole': arg })['os-getVNCConsole'];
  return legacyConsoleView(type, await consoleUrl(req, server, 'vnc', type));
}

const refused = () => forbidden(`Policy doesn't allow os_compute_api:os-console-output to be performed.`);

/** The os-getConsoleOutput server action; its body is the whole request body. 200 `{"output": …}`. */
export async function consoleOutputAction(req: FastifyRequest, server: Server, body: unknown): Promise<{ output: string }> {
  const deps = req.server.kova;
  const { length } = validate<{ 'os-getConsoleOutput': { length?: number | string | null } }>(CONSOLE_OUTPUT, body)['os-getConsoleOutput'];
  const lines = tailLines(length);
  const namespace = server.metadata.namespace ?? '';
  // Nova checks the policy before the instance; the log read below is authorized by itself.
  if (!(await deps.authz.can(req.nova.caller, { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace }))) throw refused();
  const notReady = () => conflict(`Instance ${server.metadata.uid} is not ready`);
  const pod = await launcherPod(req, server);
  if (!pod) throw notReady();
  // virt-controller runs the console logger as a native sidecar (an init container that keeps running).
  if (![...pod.spec.containers, ...pod.spec.initContainers ?? []].some((c) => c.name === GUEST_CONSOLE_LOG)) throw notFound('Guest does not have a console available.');
  try {
    const log = await callerClient(req).requestText('GET', resourcePath(PODS, namespace, pod.metadata.name, 'log'), { query: { container: GUEST_CONSOLE_LOG, tailLines: lines } });
    return consoleOutputView(consoleOutput(log));
  } catch (e) {
    if (!(e instanceof KubeError)) throw e;
    if (e.code === 403) throw refused();
    // The pod went away meanwhile, or its logger has not started yet: no console to read.
    if (e.code === 400 || e.code === 404) throw notReady();
    throw e;
  }
}

/** The server's running launcher pod (found by the façade's own client); during a migration, the one on the server's host. */
async function launcherPod(req: FastifyRequest, server: Server): Promise<Pod | undefined> {
  const { items } = await req.server.kova.client.list<Pod>(PODS, {
    namespace: server.metadata.namespace,
    labelSelector: `kubevirt.io=virt-launcher,${SERVER_LABEL}=${server.metadata.name}`,
    fieldSelector: 'status.phase=Running',
  });
  const running = items.filter((p) => !p.metadata.deletionTimestamp);
  return running.find((p) => p.spec.nodeName === server.status?.host) ?? running[0];
}
