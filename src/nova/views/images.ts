// Image bodies over the CDI DataSources of the images namespace: Glance v2 records (the read-only
// /image API) and Nova's image proxy views (/v2.1/images, up to 2.35). Pure.
import type { DataSource } from '../../kubevirt/types.ts';
import { IMAGE_NAME_ANNOTATION } from '../../api/labels.ts';
import { imageIdOf, imageProperties } from '../images.ts';
import { lastWriteAt } from '../timestamps.ts';
import { selfAndBookmark, type Page, type ViewContext } from './links.ts';

const iso = (t: string | undefined): string => (t ?? new Date(0).toISOString()).replace(/\.\d+Z$/, 'Z');
export const imageName = (d: DataSource): string => d.metadata.annotations?.[IMAGE_NAME_ANNOTATION] ?? d.metadata.name ?? '';
const isReady = (d: DataSource): boolean => !!d.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const num = (v: string | undefined): number => Number(v ?? 0) || 0;

/** Glance's status of an image: active once its DataSource is ready. */
export const glanceStatus = (d: DataSource): 'active' | 'queued' => (isReady(d) ? 'active' : 'queued');

/** A Glance v2 image record; `owner`: the project of an image made from a server (private to it), else none (public). */
export function glanceImage(d: DataSource, owner?: string): Record<string, unknown> {
  const a = d.metadata.annotations ?? {};
  const id = imageIdOf(d);
  return {
    id,
    name: imageName(d),
    status: glanceStatus(d),
    visibility: owner ? 'private' : 'public',
    protected: false,
    os_hidden: false,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    owner: owner ?? null,
    size: a['image.kova.io/size'] ? num(a['image.kova.io/size']) : null,
    virtual_size: null,
    min_ram: num(a['image.kova.io/min_ram']),
    min_disk: num(a['image.kova.io/min_disk']),
    disk_format: 'raw',
    container_format: 'bare',
    created_at: iso(d.metadata.creationTimestamp),
    updated_at: iso(lastWriteAt(d)),
    tags: [],
    ...imageProperties(a),
    self: `/v2/images/${id}`,
    file: `/v2/images/${id}/file`,
    schema: '/v2/schemas/image',
  };
}

/** An image a server is being snapshotted into: it exists from the request on, queued. */
export const queuedGlanceImage = (id: string, name: string): Record<string, unknown> => ({
  ...glanceImage({ metadata: { uid: id, name, annotations: { [IMAGE_NAME_ANNOTATION]: name } }, spec: { source: {} } }),
  status: 'queued',
});

/** GET /image/v2/images: a page, with Glance's `next` when it is full. */
export function glanceImageList(p: Page<DataSource>, ownerOf: (d: DataSource) => string | undefined = () => undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { images: p.items.map((d) => glanceImage(d, ownerOf(d))), schema: '/v2/schemas/images', first: '/v2/images' };
  if (p.full && p.items.length) body.next = `/v2/images?marker=${imageIdOf(p.items.at(-1)!)}`;
  return body;
}

/** Glance's version list (GET /image and /image/versions). */
export const glanceVersions = (origin: string) => ({ versions: [{ id: 'v2.16', status: 'CURRENT', links: [{ rel: 'self', href: `${origin}/image/v2/` }] }] });

export const GLANCE_IMAGE_SCHEMA = { name: 'image', properties: {}, additionalProperties: { type: 'string' }, links: [] };
export const GLANCE_IMAGES_SCHEMA = { name: 'images', properties: { images: { type: 'array', items: { name: 'image' } } }, links: [] };

/** Nova's (pre-2.36) image proxy view. */
function novaImage(c: ViewContext, d: DataSource, detail: boolean): Record<string, unknown> {
  const id = imageIdOf(d);
  const out: Record<string, unknown> = { id, name: imageName(d), links: [...selfAndBookmark(c, 'images', id), { href: `${c.origin}/image/v2/images/${id}`, rel: 'alternate', type: 'application/vnd.openstack.image' }] };
  if (!detail) return out;
  const a = d.metadata.annotations ?? {};
  return {
    ...out,
    created: iso(d.metadata.creationTimestamp),
    updated: iso(lastWriteAt(d)),
    status: isReady(d) ? 'ACTIVE' : 'SAVING',
    progress: isReady(d) ? 100 : 25,
    minDisk: num(a['image.kova.io/min_disk']),
    minRam: num(a['image.kova.io/min_ram']),
    metadata: imageProperties(a),
    'OS-EXT-IMG-SIZE:size': num(a['image.kova.io/size']),
    'OS-DCF:diskConfig': 'AUTO',
  };
}

/** GET /images and /images/detail (Nova's proxy keeps no next link). */
export const novaImageList = (c: ViewContext, images: DataSource[], detail: boolean) => ({ images: images.map((d) => novaImage(c, d, detail)) });

export const novaImageShown = (c: ViewContext, d: DataSource) => ({ image: novaImage(c, d, true) });
