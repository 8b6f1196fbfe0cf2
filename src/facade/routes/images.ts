// Images: a read-only Glance v2 subset (/image) and Nova's image proxy (/v2.1/images, up to 2.35),
// both over the CDI DataSources of the images namespace. An image's id is its DataSource's uid.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DataSource } from '../../kubevirt/types.ts';
import { imageIdOf, imageProperties } from '../../nova/images.ts';
import { IMAGE_NAME_ANNOTATION } from '../../api/labels.ts';
import { notFound, NovaError, versionNotFound } from '../../nova/faults.ts';
import { selfAndBookmark, type ViewContext } from '../../nova/views/links.ts';
import type { FacadeDeps } from '../app.ts';
import { last, page, viewContext } from './common.ts';
import { originOf } from './versions.ts';

const iso = (t: string | undefined): string => (t ?? new Date(0).toISOString()).replace(/\.\d+Z$/, 'Z');
export const imageName = (d: DataSource): string => d.metadata.annotations?.[IMAGE_NAME_ANNOTATION] ?? d.metadata.name ?? '';
const isReady = (d: DataSource): boolean => !!d.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const num = (v: string | undefined): number => Number(v ?? 0) || 0;

/** A Glance v2 image record. */
export function glanceImage(d: DataSource): Record<string, unknown> {
  const a = d.metadata.annotations ?? {};
  const id = imageIdOf(d);
  return {
    id,
    name: imageName(d),
    status: isReady(d) ? 'active' : 'queued',
    visibility: 'public',
    protected: false,
    os_hidden: false,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    owner: null,
    size: a['image.kova.io/size'] ? num(a['image.kova.io/size']) : null,
    virtual_size: null,
    min_ram: num(a['image.kova.io/min_ram']),
    min_disk: num(a['image.kova.io/min_disk']),
    disk_format: 'raw',
    container_format: 'bare',
    created_at: iso(d.metadata.creationTimestamp),
    updated_at: iso(d.metadata.creationTimestamp),
    tags: [],
    ...imageProperties(a),
    self: `/v2/images/${id}`,
    file: `/v2/images/${id}/file`,
    schema: '/v2/schemas/image',
  };
}

/** Nova's (pre-2.36) image proxy view. */
function novaImage(c: ViewContext, d: DataSource, detail: boolean): Record<string, unknown> {
  const id = imageIdOf(d);
  const out: Record<string, unknown> = { id, name: imageName(d), links: [...selfAndBookmark(c, 'images', id), { href: `${c.origin}/image/v2/images/${id}`, rel: 'alternate', type: 'application/vnd.openstack.image' }] };
  if (!detail) return out;
  const a = d.metadata.annotations ?? {};
  return {
    ...out,
    created: iso(d.metadata.creationTimestamp),
    updated: iso(d.metadata.creationTimestamp),
    status: isReady(d) ? 'ACTIVE' : 'SAVING',
    progress: isReady(d) ? 100 : 25,
    minDisk: num(a['image.kova.io/min_disk']),
    minRam: num(a['image.kova.io/min_ram']),
    metadata: imageProperties(a),
    'OS-EXT-IMG-SIZE:size': num(a['image.kova.io/size']),
    'OS-DCF:diskConfig': 'AUTO',
  };
}

const glanceError = (reply: FastifyReply, code: number, message: string) => reply.code(code).type('text/plain').send(`${code} ${message}`);

export function registerImageRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const images = () => deps.caches.images.list().sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
  const authed = async (req: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const ok = !!(await deps.authn.authenticate(String(req.headers['x-auth-token'] ?? '')));
    if (!ok) glanceError(reply, 401, 'Unauthorized: This server could not verify that you are authorized to access the document you requested.');
    return ok;
  };
  app.get('/', async (req, reply) => reply.code(300).send({ versions: [{ id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: `${originOf(req)}/image/v2/` }] }] }));
  app.get('/versions', async (req) => ({ versions: [{ id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: `${originOf(req)}/image/v2/` }] }] }));
  app.get('/v2/images', async (req, reply) => {
    if (!(await authed(req, reply))) return reply;
    const q = req.query as Record<string, string | undefined>;
    let list = images();
    // Glance filters take a value or "in:a,b,c".
    const oneOf = (v: string | undefined): Set<string> | undefined => (v === undefined ? undefined : new Set(v.startsWith('in:') ? v.slice(3).split(',') : [v]));
    const names = oneOf(q.name);
    const ids = oneOf(q.id);
    if (names) list = list.filter((d) => names.has(imageName(d)));
    if (ids) list = list.filter((d) => ids.has(imageIdOf(d)));
    if (q.status !== undefined) list = list.filter((d) => (isReady(d) ? 'active' : 'queued') === q.status);
    if (q.visibility !== undefined && q.visibility !== 'public' && q.visibility !== 'all') list = [];
    const { items, full } = page(list, (d) => imageIdOf(d), { limit: q.limit, marker: q.marker }, 25);
    const body: Record<string, unknown> = { images: items.map(glanceImage), schema: '/v2/schemas/images', first: '/v2/images' };
    if (full && items.length) body.next = `/v2/images?marker=${imageIdOf(items.at(-1)!)}`;
    return body;
  });
  app.get('/v2/images/:id', async (req, reply) => {
    if (!(await authed(req, reply))) return reply;
    const id = (req.params as { id: string }).id;
    const d = deps.caches.images.byIndex('uid', id)[0];
    // An image a server is being snapshotted into exists from the request on, queued.
    const pending = d ? undefined : deps.caches.servers.list().find((s) => s.spec.createImage?.imageId === id);
    if (pending) {
      const name = pending.spec.createImage?.name ?? id;
      return { ...glanceImage({ metadata: { uid: id, name, annotations: { [IMAGE_NAME_ANNOTATION]: name } }, spec: { source: {} } }), status: 'queued' };
    }
    if (!d) return glanceError(reply, 404, `Not Found: No image found with ID ${(req.params as { id: string }).id}`);
    return glanceImage(d);
  });
  app.get('/v2/schemas/image', async () => ({ name: 'image', properties: {}, additionalProperties: { type: 'string' }, links: [] }));
  app.get('/v2/schemas/images', async () => ({ name: 'images', properties: { images: { type: 'array', items: { name: 'image' } } }, links: [] }));
  app.all('/*', async (_req, reply) => glanceError(reply, 404, 'Not Found'));
}

/** Nova's image proxy, /images (≤ 2.35). */
export function registerNovaImageRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const guard = (req: FastifyRequest): void => {
    if (req.nova.version.atLeast('2.36')) throw versionNotFound();
  };
  for (const detail of [false, true]) {
    app.get(detail ? '/images/detail' : '/images', async (req) => {
      guard(req);
      const q = req.query as Record<string, string | string[] | undefined>;
      const vc = await viewContext(req);
      let list = deps.caches.images.list();
      const name = last(q.name);
      if (name !== undefined) list = list.filter((d) => imageName(d) === name);
      const { items } = page(list, (d) => imageIdOf(d), { limit: last(q.limit), marker: last(q.marker) });
      return { images: items.map((d) => novaImage(vc, d, detail)) };
    });
  }
  app.get('/images/:id', async (req) => {
    guard(req);
    const d = deps.caches.images.byIndex('uid', (req.params as { id: string }).id)[0];
    if (!d) throw notFound('Image not found.');
    return { image: novaImage(await viewContext(req), d, true) };
  });
  app.delete('/images/:id', async (req) => {
    guard(req);
    throw new NovaError(403, 'Images are CDI DataSources managed in Kubernetes: delete the DataSource instead.');
  });
}
