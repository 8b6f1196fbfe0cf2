// /servers/{id}/metadata and /servers/{id}/tags (2.26+): a server's metadata and tags, kept in its
// spec. Changes follow Nova's rule for 'update metadata': a state check and the lock.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { USER_ANNOTATION } from '../../api/labels.ts';
import type { Server } from '../../api/server.ts';
import { limitsFor } from '../../compute/quotas.ts';
import { checkMetadataItems } from '../../nova/quotas.ts';
import { checkAction } from '../../nova/actions.ts';
import { badRequest, forbidden, notFound, versionNotFound } from '../../nova/faults.ts';
import { serverState } from '../../nova/server-state.ts';
import { metadataView, metaItemView, tagsView } from '../../nova/views/server-metadata.ts';
import { META_ITEM, METADATA, TAGS } from '../schemas/server-metadata.ts';
import { TAG } from '../schemas/servers.ts';
import { validate } from '../validate.ts';
import { findServer, idParam, patchServerSpec, viewContext } from './common.ts';

/** Nova's limit of tags per server (metadata items are the metadata_items quota). */
const MAX_TAGS = 50;

/** Nova's 403 when a server's metadata would have more items than its project's metadata_items quota. */
function checkMetadataQuota(req: FastifyRequest, s: Server, metadata: Record<string, string>): void {
  const { caches, cfg } = req.server.kova;
  const refusal = checkMetadataItems(limitsFor(caches, cfg, s.metadata.namespace ?? '', s.metadata.annotations?.[USER_ANNOTATION]), Object.keys(metadata).length);
  if (refusal) throw forbidden(refusal);
}

export async function serverMetadataRoutes(app: FastifyInstance): Promise<void> {
  app.get('/servers/:id/metadata', listMetadata);
  app.get('/servers/:id/metadata/:key', showMetadataItem);
  app.post('/servers/:id/metadata', mergeMetadata);
  app.put('/servers/:id/metadata', replaceMetadata);
  app.put('/servers/:id/metadata/:key', setMetadataItem);
  app.delete('/servers/:id/metadata/:key', deleteMetadataItem);
  await app.register(serverTagRoutes);
}

async function serverTagRoutes(app: FastifyInstance): Promise<void> {
  // Tags came in 2.26: before, their paths do not exist (checked once the body is parsed, as a handler would).
  app.addHook('preHandler', async (req) => {
    if (!req.nova.version.atLeast('2.26')) throw versionNotFound();
  });
  app.get('/servers/:id/tags', listTags);
  app.put('/servers/:id/tags', replaceTags);
  app.delete('/servers/:id/tags', deleteTags);
  app.get('/servers/:id/tags/:tag', checkTag);
  app.put('/servers/:id/tags/:tag', addTag);
  app.delete('/servers/:id/tags/:tag', deleteTag);
}

type ItemParams = { id: string; key: string };
type TagParams = { id: string; tag: string };

async function checkMetadataState(req: FastifyRequest, s: Server): Promise<void> {
  checkAction('update metadata', serverState(s, { pending: true }), { admin: await req.nova.isAdmin() });
}

async function listMetadata(req: FastifyRequest) {
  return metadataView((await findServer(req, idParam(req))).spec.metadata);
}

async function showMetadataItem(req: FastifyRequest) {
  const { id, key } = req.params as ItemParams;
  const value = (await findServer(req, id)).spec.metadata?.[key];
  if (value === undefined) throw notFound('Metadata item was not found');
  return metaItemView({ [key]: value });
}

async function mergeMetadata(req: FastifyRequest) {
  const s = await findServer(req, idParam(req));
  const body = validate<{ metadata: Record<string, string> }>(METADATA, req.body);
  await checkMetadataState(req, s);
  checkMetadataQuota(req, s, { ...s.spec.metadata, ...body.metadata });
  return metadataView((await patchServerSpec(req, s, { metadata: body.metadata })).spec.metadata);
}

async function replaceMetadata(req: FastifyRequest) {
  const s = await findServer(req, idParam(req));
  const body = validate<{ metadata: Record<string, string> }>(METADATA, req.body);
  await checkMetadataState(req, s);
  checkMetadataQuota(req, s, body.metadata);
  const replaceAll = (cur: Server) => ({ metadata: { ...Object.fromEntries(Object.keys(cur.spec.metadata ?? {}).map((k) => [k, null])), ...body.metadata } });
  return metadataView((await patchServerSpec(req, s, replaceAll)).spec.metadata);
}

async function setMetadataItem(req: FastifyRequest) {
  const { id, key } = req.params as ItemParams;
  const s = await findServer(req, id);
  const body = validate<{ meta: Record<string, string> }>(META_ITEM, req.body);
  if (!(key in body.meta)) throw badRequest('Request body and URI mismatch');
  await checkMetadataState(req, s);
  checkMetadataQuota(req, s, { ...s.spec.metadata, ...body.meta });
  await patchServerSpec(req, s, { metadata: body.meta });
  return metaItemView(body.meta);
}

async function deleteMetadataItem(req: FastifyRequest, reply: FastifyReply) {
  const { id, key } = req.params as ItemParams;
  const s = await findServer(req, id);
  if (s.spec.metadata?.[key] === undefined) throw notFound('Metadata item was not found');
  await checkMetadataState(req, s);
  await patchServerSpec(req, s, { metadata: { [key]: null } });
  return reply.code(204).send();
}

async function listTags(req: FastifyRequest) {
  return tagsView((await findServer(req, idParam(req))).spec.tags);
}

async function replaceTags(req: FastifyRequest) {
  const s = await findServer(req, idParam(req));
  const body = validate<{ tags: string[] }>(TAGS, req.body);
  await checkMetadataState(req, s);
  const tags = [...new Set(body.tags)];
  return tagsView((await patchServerSpec(req, s, { tags })).spec.tags);
}

async function deleteTags(req: FastifyRequest, reply: FastifyReply) {
  const s = await findServer(req, idParam(req));
  await checkMetadataState(req, s);
  await patchServerSpec(req, s, { tags: null });
  return reply.code(204).send();
}

async function checkTag(req: FastifyRequest, reply: FastifyReply) {
  const { id, tag } = req.params as TagParams;
  if (!(await findServer(req, id)).spec.tags?.includes(tag)) throw notFound(`Tag ${tag} could not be found.`);
  return reply.code(204).send();
}

async function addTag(req: FastifyRequest, reply: FastifyReply) {
  const { id, tag } = req.params as TagParams;
  validate(TAG, tag, 'query');
  const s = await findServer(req, id);
  await checkMetadataState(req, s);
  if (s.spec.tags?.includes(tag)) return reply.code(204).send();
  if ((s.spec.tags?.length ?? 0) >= MAX_TAGS) throw badRequest('The number of tags exceeded the per-server limit 50');
  await patchServerSpec(req, s, (cur) => ({ tags: [...new Set([...(cur.spec.tags ?? []), tag])] }));
  const vc = await viewContext(req);
  reply.header('location', `${vc.origin}${vc.prefix}/servers/${id}/tags/${encodeURIComponent(tag)}`);
  return reply.code(201).send();
}

async function deleteTag(req: FastifyRequest, reply: FastifyReply) {
  const { id, tag } = req.params as TagParams;
  const s = await findServer(req, id);
  if (!s.spec.tags?.includes(tag)) throw notFound(`Tag ${tag} could not be found.`);
  await checkMetadataState(req, s);
  await patchServerSpec(req, s, (cur) => ({ tags: (cur.spec.tags ?? []).filter((t) => t !== tag) }));
  return reply.code(204).send();
}
