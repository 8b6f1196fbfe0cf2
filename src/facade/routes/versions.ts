// GET / (versions), /v2.1 and /v2 (version documents), and 300 choices for paths with no version.
import type { FastifyInstance } from 'fastify';
import { choicesDocument, versionDocument, versionsDocument } from '../../nova/views/versions.ts';
import { originOf } from '../origin.ts';

export async function versionRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (req) => versionsDocument(originOf(req)));
  for (const [path, id] of [['/v2.1', 'v2.1'], ['/v2.1/', 'v2.1'], ['/v2', 'v2.0'], ['/v2/', 'v2.0']] as const) {
    app.get(path, async (req) => versionDocument(originOf(req), id));
  }
  // Any other path on the root names no version: Nova answers 300 with where it lives per version.
  app.all('/*', async (req, reply) => reply.code(300).send(choicesDocument(originOf(req), req.url.split('?')[0] ?? '/')));
}
