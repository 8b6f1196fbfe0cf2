// Remote consoles: POST /servers/{id}/remote-consoles (2.6+), the os-getVNCConsole action (≤ 2.5)
// and GET /os-console-auth-tokens/{token} (admin). A console URL carries a signed, short-lived
// token bound to the server and the caller; the façade's console proxy (console-proxy.ts) opens it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Server } from '../../api/server.ts';
import { consoleChoices, consoleRefusal, novncUrl } from '../../nova/consoles.ts';
import { badRequest, forbidden, notFound, versionNotFound } from '../../nova/faults.ts';
import type { Version } from '../../nova/microversion.ts';
import { connectInfoView, legacyConsoleView, remoteConsoleView } from '../../nova/views/consoles.ts';
import { VMI_SUBRESOURCES } from '../../kubevirt/types.ts';
import type { FacadeDeps } from '../app.ts';
import { validate, type Schema } from '../validate.ts';
import { vncPath, WEBSOCKIFY_PATH } from '../console-proxy.ts';
import { checkQuery, findServer, requireAdmin } from './common.ts';

const remoteConsoleSchemas = new Map<string, Schema>();
/** Nova's create_v26 / create_v28 / create_v299 (one object per microversion range, so Ajv compiles each once). */
function remoteConsoleSchema(v: Version): Schema {
  const { protocols, types } = consoleChoices(v);
  const key = `${protocols.length}/${types.length}`;
  let schema = remoteConsoleSchemas.get(key);
  if (!schema) {
    schema = {
      type: 'object', required: ['remote_console'], additionalProperties: false,
      properties: {
        remote_console: {
          type: 'object', required: ['protocol', 'type'], additionalProperties: false,
          properties: { protocol: { type: 'string', enum: protocols }, type: { type: 'string', enum: types } },
        },
      },
    };
    remoteConsoleSchemas.set(key, schema);
  }
  return schema;
}

const GET_VNC_CONSOLE: Schema = {
  type: 'object', required: ['os-getVNCConsole'], additionalProperties: false,
  properties: {
    'os-getVNCConsole': { type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', enum: ['novnc', 'xvpvnc'] } } },
  },
};

/**
 * A console URL for the server, after Nova's policy (here: RBAC on KubeVirt's VNC subresource,
 * which the proxy will open as the caller) and Nova's checks of the server and console type.
 */
async function consoleUrl(deps: FacadeDeps, req: FastifyRequest, s: Server, protocol: string, type: string): Promise<string> {
  const namespace = s.metadata.namespace ?? '';
  const vmi = s.status?.instanceName ?? s.metadata.name ?? '';
  const { group, plural } = VMI_SUBRESOURCES;
  if (!(await deps.authz.can(req.nova.caller, { verb: 'get', group, resource: plural, subresource: 'vnc', namespace, name: vmi }))) {
    throw forbidden("Policy doesn't allow os_compute_api:os-remote-consoles to be performed.");
  }
  const id = s.metadata.uid ?? '';
  const refusal = consoleRefusal({ id, host: s.status?.host, taskState: s.status?.taskState ?? null, powerState: s.status?.powerState }, protocol, type);
  if (refusal) throw refusal;
  const { user, groups } = req.nova.caller;
  const { token } = deps.consoleTokens.issue({ server: { uid: id, namespace, name: s.metadata.name ?? '' }, vmi, user, groups });
  return novncUrl(deps.novncProxyBaseUrl ?? `${req.nova.origin}/novnc/vnc_lite.html`, WEBSOCKIFY_PATH, token);
}

/** The os-getVNCConsole server action (≤ 2.5): 200 with `{"console": {type, url}}`. */
export async function getVncConsoleAction(deps: FacadeDeps, req: FastifyRequest, server: Server, body: unknown): Promise<Record<string, unknown>> {
  if (req.nova.version.atLeast('2.6')) throw versionNotFound();
  const { type } = validate<{ 'os-getVNCConsole': { type: string } }>(GET_VNC_CONSOLE, { 'os-getVNCConsole': body })['os-getVNCConsole'];
  return legacyConsoleView(type, await consoleUrl(deps, req, server, 'vnc', type));
}

export function registerConsoleRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  app.post('/servers/:id/remote-consoles', async (req) => {
    if (!req.nova.version.atLeast('2.6')) throw versionNotFound();
    const { protocol, type } = validate<{ remote_console: { protocol: string; type: string } }>(remoteConsoleSchema(req.nova.version), req.body).remote_console;
    const s = await findServer(deps, req, (req.params as { id: string }).id);
    return remoteConsoleView(protocol, type, await consoleUrl(deps, req, s, protocol, type));
  });

  app.get('/os-console-auth-tokens/:token', async (req) => {
    // Before 2.31 the API served only RDP tokens, and Nova has removed RDP.
    if (!req.nova.version.atLeast('2.31')) throw badRequest('The server could not comply with the request since it is either malformed or otherwise incorrect.');
    await requireAdmin(req, 'os_compute_api:os-console-auth-tokens');
    checkQuery(req, []);
    const claims = deps.consoleTokens.verify((req.params as { token: string }).token);
    if (!claims) throw notFound('Token not found');
    // The proxy connects to the kube-apiserver, at the VMI's VNC subresource.
    const api = deps.client.server;
    return connectInfoView({
      instanceUuid: claims.server.uid,
      host: api.hostname,
      port: Number(api.port || (api.protocol === 'https:' ? 443 : 80)),
      internalAccessPath: vncPath(claims.server.namespace, claims.vmi),
    });
  });
}
