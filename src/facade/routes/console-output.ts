// POST /servers/{id}/action {"os-getConsoleOutput": {"length": N}}: the last N lines of the
// server's serial console. KubeVirt logs it as the launcher pod's guest-console-log container (the
// VM sets logSerialConsole), so it is read through the pod log API of the kube-apiserver, which
// fetches it from the Node's kubelet. The façade finds the launcher pod itself (a label-selected
// list); the log is read as the caller, so `get pods/log` in the project is Nova's
// os_compute_api:os-console-output policy (kova-member and kova-admin have it). See docs/adr/012.
import type { FastifyRequest } from 'fastify';
import type { Server } from '../../api/server.ts';
import { SERVER_LABEL } from '../../api/labels.ts';
import { KubeError, resourcePath } from '../../kube/client.ts';
import { GUEST_CONSOLE_LOG } from '../../kubevirt/types.ts';
import { PODS, type Pod } from '../../kube/types.ts';
import { consoleOutput, tailLines } from '../../nova/console-output.ts';
import { conflict, forbidden, notFound } from '../../nova/faults.ts';
import type { FacadeDeps } from '../app.ts';
import { validate, type Schema } from '../validate.ts';
import { callerClient } from './common.ts';

// Nova's request schema: a string length must be numeric; -1 and null mean everything.
const CONSOLE_OUTPUT: Schema = {
  type: 'object',
  required: ['os-getConsoleOutput'],
  additionalProperties: false,
  properties: {
    'os-getConsoleOutput': {
      type: 'object',
      additionalProperties: false,
      properties: { length: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$', minimum: -1 } },
    },
  },
};

const refused = () => forbidden(`Policy doesn't allow os_compute_api:os-console-output to be performed.`);

/** The action's body is the whole request body; answers Nova's 200 `{"output": …}`. */
export async function consoleOutputAction(deps: FacadeDeps, req: FastifyRequest, server: Server, body: unknown): Promise<{ output: string }> {
  const { length } = validate<{ 'os-getConsoleOutput': { length?: number | string | null } }>(CONSOLE_OUTPUT, body)['os-getConsoleOutput'];
  const lines = tailLines(length);
  const namespace = server.metadata.namespace ?? '';
  // Nova checks the policy before the instance; the log read below is authorized by itself.
  if (!(await deps.authz.can(req.nova.caller, { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace }))) throw refused();
  const notReady = () => conflict(`Instance ${server.metadata.uid} is not ready`);
  const pod = await launcherPod(deps, server);
  if (!pod) throw notReady();
  if (!pod.spec.containers.some((c) => c.name === GUEST_CONSOLE_LOG)) throw notFound('Guest does not have a console available.');
  try {
    const log = await callerClient(deps, req).requestText('GET', resourcePath(PODS, namespace, pod.metadata.name, 'log'), { query: { container: GUEST_CONSOLE_LOG, tailLines: lines } });
    return { output: consoleOutput(log) };
  } catch (e) {
    if (!(e instanceof KubeError)) throw e;
    if (e.code === 403) throw refused();
    // The pod went away meanwhile, or its logger has not started yet: no console to read.
    if (e.code === 400 || e.code === 404) throw notReady();
    throw e;
  }
}

/** The server's running launcher pod; during a migration, the one on the server's host. */
async function launcherPod(deps: FacadeDeps, server: Server): Promise<Pod | undefined> {
  const { items } = await deps.client.list<Pod>(PODS, {
    namespace: server.metadata.namespace,
    labelSelector: `kubevirt.io=virt-launcher,${SERVER_LABEL}=${server.metadata.name}`,
    fieldSelector: 'status.phase=Running',
  });
  const running = items.filter((p) => !p.metadata.deletionTimestamp);
  return running.find((p) => p.spec.nodeName === server.status?.host) ?? running[0];
}
