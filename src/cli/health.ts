// /healthz, /readyz and /metrics for a process without an HTTP API of its own (the controller).
import http from 'node:http';
import type { Metrics } from '../metrics.ts';

export function serveHealth(o: { host?: string; port: number; metrics: Metrics; ready: () => boolean }): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (path === '/readyz') {
      const ok = o.ready();
      return void res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
    }
    if (path === '/metrics') {
      o.metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': o.metrics.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(o.port, o.host ?? '0.0.0.0', () => resolve(server)));
}
