// Nova's novncproxy, inside the façade: noVNC opens GET /novnc/websockify?token=… as a websocket;
// the façade checks the console token, opens KubeVirt's VNC subresource through the kube-apiserver
// as the caller the token names (so Kubernetes RBAC decides), and relays frames both ways.
// See docs/adr/011-remote-console.md.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { KubeError } from '../kube/client.ts';
import { refuseUpgrade } from '../kube/upgrade.ts';
import { PLAIN_STREAM_PROTOCOL as PLAIN } from '../kubevirt/types.ts';
import { faultBody, NovaError } from '../nova/faults.ts';
import { vncPath, WEBSOCKIFY_PATH, type ConsoleClaims } from './console-tokens.ts';

/** Serves the console websocket on the app's HTTP server, with the app's dependencies (`app.kova`). */
export function serveConsoleProxy(app: FastifyInstance): void {
  const deps = app.kova;
  const log = deps.log.child({ component: 'console-proxy' });
  // noVNC offers "binary" (older releases) or nothing; websockify answers "binary" when offered.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false) });
  const open = new Set<WebSocket>();

  /** The guest's display for the token in the request, opened as the token's caller. */
  async function connect(req: IncomingMessage): Promise<{ upstream: WebSocket; claims: ConsoleClaims }> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WEBSOCKIFY_PATH) throw new NovaError(404, 'The resource could not be found.');
    const claims = deps.consoleTokens.verify(url.searchParams.get('token') ?? '');
    if (!claims) throw new NovaError(401, "The token '***' is invalid or has expired");
    // The token is bound to one server: a server made again under the same name is another one.
    const s = deps.caches.servers.byIndex('uid', claims.server.uid)[0];
    if (s?.metadata.namespace !== claims.server.namespace) throw new NovaError(404, `Instance ${claims.server.uid} could not be found.`);
    const upstream = await deps.client.as(claims.user, claims.groups).websocket(vncPath(claims.server.namespace, claims.vmi), [PLAIN]);
    return { upstream, claims };
  }

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    void connect(req).then(
      ({ upstream, claims }) => {
        if (socket.destroyed) return upstream.close();
        wss.handleUpgrade(req, socket, head, (client) => {
          const who = { server: `${claims.server.namespace}/${claims.server.name}`, user: claims.user };
          log.info('console opened', who);
          open.add(client);
          client.on('close', () => {
            open.delete(client);
            log.info('console closed', who);
          });
          relay(client, upstream);
          relay(upstream, client);
        });
      },
      (err: unknown) => {
        const e = refusal(err);
        if (e.code >= 500) log.error('console proxy failed', { err });
        refuseUpgrade(socket, e.code, faultBody(e.code, e.message));
      },
    );
  });
  app.addHook('onClose', async () => {
    for (const ws of open) ws.terminate();
  });
}

/** Frames from one side to the other; either side closing or failing ends both. */
function relay(from: WebSocket, to: WebSocket): void {
  from.on('message', (data: RawData) => {
    if (to.readyState === to.OPEN) to.send(data, { binary: true });
  });
  from.on('close', () => to.close());
  from.on('error', () => to.terminate());
}

/** A failed connection as the client sees it: the apiserver's (or virt-api's) answer, or a 502. */
function refusal(err: unknown): NovaError {
  if (err instanceof NovaError) return err;
  if (err instanceof KubeError) {
    // virt-api answers 400 "VMI is not running" for a guest that stopped or is stopping: to Nova
    // that is a console that is not ready.
    if (err.code === 400) return new NovaError(409, err.status?.message ?? err.message);
    return new NovaError(err.code, err.status?.message ?? err.message);
  }
  return new NovaError(502, 'The console could not be reached.');
}
