// A read-only Glance v2 subset (/image) over the CDI DataSources of the images namespace, for
// clients that look images up in Glance. Any valid Keystone or Kubernetes token may read it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IMAGE_OWNER_ANNOTATION } from '../../api/labels.ts';
import { canUseImage } from '../../compute/references.ts';
import type { Caller } from '../../identity/auth.ts';
import type { DataSource } from '../../kubevirt/types.ts';
import { imageIdOf } from '../../nova/images.ts';
import { GLANCE_IMAGE_SCHEMA, GLANCE_IMAGES_SCHEMA, glanceImage, glanceImageList, glanceStatus, glanceVersions, imageName, queuedGlanceImage } from '../../nova/views/images.ts';
import { originOf } from '../origin.ts';
import { idParam, page } from './common.ts';

export async function glanceRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (req, reply) => reply.code(300).send(glanceVersions(originOf(req))));
  app.get('/versions', async (req) => glanceVersions(originOf(req)));
  app.get('/v2/images', listImages);
  app.get('/v2/images/:id', showImage);
  app.get('/v2/schemas/image', async () => GLANCE_IMAGE_SCHEMA);
  app.get('/v2/schemas/images', async () => GLANCE_IMAGES_SCHEMA);
  app.all('/*', async (_req, reply) => glanceError(reply, 404, 'Not Found'));
}

const glanceError = (reply: FastifyReply, code: number, message: string) => reply.code(code).type('text/plain').send(`${code} ${message}`);

/** The caller of a request with a valid token; answers Glance's 401 when it has none. */
async function authed(req: FastifyRequest, reply: FastifyReply): Promise<Caller | undefined> {
  const caller = await req.server.kova.authn.authenticate(String(req.headers['x-auth-token'] ?? ''));
  if (!caller) glanceError(reply, 401, 'Unauthorized: This server could not verify that you are authorized to access the document you requested.');
  return caller;
}

/** What the caller sees: public images and its project's snapshots; an admin, everything. */
async function seenBy(req: FastifyRequest, caller: Caller): Promise<(d: DataSource) => boolean> {
  if (await req.server.kova.authz.isAdmin(caller)) return () => true;
  return (d) => canUseImage(d, caller.project);
}

async function listImages(req: FastifyRequest, reply: FastifyReply) {
  const caller = await authed(req, reply);
  if (!caller) return reply;
  const q = req.query as Record<string, string | undefined>;
  let list = req.server.kova.caches.images.list().filter(await seenBy(req, caller)).sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
  // Glance filters take a value or "in:a,b,c".
  const oneOf = (v: string | undefined): Set<string> | undefined => (v === undefined ? undefined : new Set(v.startsWith('in:') ? v.slice(3).split(',') : [v]));
  const names = oneOf(q.name);
  const ids = oneOf(q.id);
  if (names) list = list.filter((d) => names.has(imageName(d)));
  if (ids) list = list.filter((d) => ids.has(imageIdOf(d)));
  if (q.status !== undefined) list = list.filter((d) => glanceStatus(d) === q.status);
  const owner = ownerOf(req);
  // Glance's visibility filter: public, private (a project's snapshots), all; shared and community: none.
  if (q.visibility === 'public' || q.visibility === 'private') list = list.filter((d) => (owner(d) ? 'private' : 'public') === q.visibility);
  else if (q.visibility !== undefined && q.visibility !== 'all') list = [];
  return glanceImageList(page(list, (d) => imageIdOf(d), { limit: q.limit, marker: q.marker }, 25), owner);
}

async function showImage(req: FastifyRequest, reply: FastifyReply) {
  const caller = await authed(req, reply);
  if (!caller) return reply;
  const { images, servers } = req.server.kova.caches;
  const id = idParam(req);
  const seen = await seenBy(req, caller);
  const d = images.byIndex('uid', id).filter(seen)[0];
  // An image a server is being snapshotted into exists from the request on, queued (its project's).
  const admin = await req.server.kova.authz.isAdmin(caller);
  const pool = d || images.byIndex('uid', id).length ? [] : admin ? servers.list() : caller.project ? servers.list(caller.project.namespace) : [];
  const pending = pool.find((s) => s.spec.createImage?.imageId === id);
  if (pending) return queuedGlanceImage(id, pending.spec.createImage?.name ?? id);
  if (!d) return glanceError(reply, 404, `Not Found: No image found with ID ${id}`);
  return glanceImage(d, ownerOf(req)(d));
}

/** The project id owning an image made from a server (its namespace's), or undefined for a public image. */
const ownerOf = (req: FastifyRequest) => (d: DataSource): string | undefined => {
  const ns = d.metadata.annotations?.[IMAGE_OWNER_ANNOTATION];
  return ns ? req.server.kova.caches.projectIdOf(ns) ?? ns : undefined;
};
