// The simulated guest's VNC server: the opening of RFB 3.8 (RFC 6143 §7.1–7.3) and nothing
// more. Enough for a client (noVNC, or a test) to connect and see which machine it reached: the
// desktop name is the VMI's namespace/name. Framebuffer requests are ignored: the screen stays black.
import type https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { refuseUpgrade } from '../kube/upgrade.ts';
import { status } from './https.ts';

export const RFB_VERSION = 'RFB 003.008\n';
const SECURITY_NONE = 1;

/** ServerInit (§7.3.2): a 1024×768 framebuffer, 32 bits per pixel true colour, and the name. */
function serverInit(name: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const b = Buffer.alloc(24 + n.length);
  b.writeUInt16BE(1024, 0);
  b.writeUInt16BE(768, 2);
  // Pixel format: bpp, depth, big-endian, true-colour, red/green/blue max, red/green/blue shift.
  b.set([32, 24, 0, 1], 4);
  b.writeUInt16BE(255, 8);
  b.writeUInt16BE(255, 10);
  b.writeUInt16BE(255, 12);
  b.set([16, 8, 0], 14);
  b.writeUInt32BE(n.length, 20);
  n.copy(b, 24);
  return b;
}

/** Serves one RFB session on `ws`; the client's messages may arrive split or joined in any way. */
export function serveRfb(ws: WebSocket, desktopName: string): void {
  // What the client sends, in order, before the session is up: its version, its security type, ClientInit.
  const steps: { bytes: number; answer: () => Buffer }[] = [
    { bytes: RFB_VERSION.length, answer: () => Buffer.from([1, SECURITY_NONE]) },
    { bytes: 1, answer: () => Buffer.alloc(4) /* SecurityResult: OK */ },
    { bytes: 1, answer: () => serverInit(desktopName) },
  ];
  let pending = Buffer.alloc(0);
  ws.send(Buffer.from(RFB_VERSION));
  ws.on('message', (data: Buffer) => {
    pending = Buffer.concat([pending, data]);
    for (let step = steps[0]; step && pending.length >= step.bytes; step = steps[0]) {
      pending = pending.subarray(step.bytes);
      steps.shift();
      ws.send(step.answer());
    }
    if (!steps.length) pending = Buffer.alloc(0);
  });
}

/**
 * Serves the guest's display on `server`'s websocket upgrades: `target` says which desktop a request
 * reaches or why it is refused; open sessions are kept in `sessions` (to end them on stop).
 */
export function serveVncUpgrades(
  server: https.Server,
  target: (req: IncomingMessage) => Promise<{ refuse: [number, unknown] } | { desktop: string }>,
  sessions: Set<WebSocket>,
  protocol: (offered: Set<string>) => string | false,
): void {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: protocol });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    socket.on('error', () => undefined);
    void target(req).then(
      (t) => {
        if ('refuse' in t) return refuseUpgrade(socket, t.refuse[0], t.refuse[1]);
        wss.handleUpgrade(req, socket, head, (ws) => {
          sessions.add(ws);
          ws.on('close', () => sessions.delete(ws));
          serveRfb(ws, t.desktop);
        });
      },
      (err: unknown) => refuseUpgrade(socket, 500, status(500, 'InternalError', String(err))),
    );
  });
}
