// GET /extensions and /extensions/{alias}: Nova's legacy extension list, to any authenticated caller
// (policy os_compute_api:extensions); the /v2 API lists the legacy v2 one.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { versionNotFound } from '../../nova/faults.ts';
import { extensionList, extensionShown } from '../../nova/views/extensions.ts';
import { checkQuery } from './common.ts';

export async function extensionRoutes(app: FastifyInstance): Promise<void> {
  app.get('/extensions', async (req) => {
    checkQuery(req, []);
    return extensionList(legacyV2(req));
  });
  app.get('/extensions/:alias', async (req) => {
    checkQuery(req, []);
    const shown = extensionShown(legacyV2(req), (req.params as { alias: string }).alias);
    if (!shown) throw versionNotFound();
    return shown;
  });
}

const legacyV2 = (req: FastifyRequest): boolean => req.nova.prefix === '/v2' || req.nova.prefix.startsWith('/v2/');
