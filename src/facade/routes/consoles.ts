// Remote consoles: POST /servers/{id}/remote-consoles (2.6+) and GET /os-console-auth-tokens/{token}
// (admin). The URL and its token are console-actions.ts's (shared with the os-getVNCConsole action);
// the façade's console proxy (console-proxy.ts) opens it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound, versionNotFound } from '../../nova/faults.ts';
import { connectInfoView, remoteConsoleView } from '../../nova/views/consoles.ts';
import { consoleUrl } from '../console-actions.ts';
import { vncPath } from '../console-tokens.ts';
import { remoteConsoleSchema } from '../schemas/consoles.ts';
import { validate } from '../validate.ts';
import { checkQuery, findServer, idParam, requireAdmin } from './common.ts';

export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  app.post('/servers/:id/remote-consoles', createRemoteConsole);
  app.get('/os-console-auth-tokens/:token', showConsoleConnectInfo);
}

async function createRemoteConsole(req: FastifyRequest) {
  if (!req.nova.version.atLeast('2.6')) throw versionNotFound();
  const { protocol, type } = validate<{ remote_console: { protocol: string; type: string } }>(remoteConsoleSchema(req.nova.version), req.body).remote_console;
  const s = await findServer(req, idParam(req));
  return remoteConsoleView(protocol, type, await consoleUrl(req, s, protocol, type));
}

async function showConsoleConnectInfo(req: FastifyRequest) {
  // Before 2.31 the API served only RDP tokens, and Nova has removed RDP.
  if (!req.nova.version.atLeast('2.31')) throw badRequest('The server could not comply with the request since it is either malformed or otherwise incorrect.');
  await requireAdmin(req, 'os_compute_api:os-console-auth-tokens');
  checkQuery(req, []);
  const { consoleTokens, client } = req.server.kova;
  const claims = consoleTokens.verify((req.params as { token: string }).token);
  if (!claims) throw notFound('Token not found');
  // The proxy connects to the kube-apiserver, at the VMI's VNC subresource.
  const api = client.server;
  return connectInfoView({
    instanceUuid: claims.server.uid,
    host: api.hostname,
    port: Number(api.port || (api.protocol === 'https:' ? 443 : 80)),
    internalAccessPath: vncPath(claims.server.namespace, claims.vmi),
  });
}
