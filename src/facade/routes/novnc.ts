// The console page a console URL opens (GET /novnc/vnc_lite.html) and the noVNC client it loads
// (/novnc/core/…, /novnc/vendor/…, from the @novnc/novnc package). The websocket it then opens,
// /novnc/websockify, is the console proxy's (console-proxy.ts).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { NovaError } from '../../nova/faults.ts';

const PAGE = readFileSync(new URL('../novnc/vnc_lite.html', import.meta.url), 'utf8');
/** The package's root: its one export is core/rfb.js. */
const NOVNC = dirname(dirname(fileURLToPath(import.meta.resolve('@novnc/novnc'))));

export async function novncRoutes(app: FastifyInstance): Promise<void> {
  app.get('/vnc_lite.html', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  for (const folder of ['core', 'vendor']) {
    app.get(`/${folder}/*`, async (req, reply) => {
      const file = normalize(join(NOVNC, folder, (req.params as { '*': string })['*']));
      if (!file.startsWith(join(NOVNC, folder) + sep) || !file.endsWith('.js')) throw new NovaError(404, 'The resource could not be found.');
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) throw new NovaError(404, 'The resource could not be found.');
      return reply.type('text/javascript; charset=utf-8').send(text);
    });
  }
}
