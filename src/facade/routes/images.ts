// Nova's image proxy, /images (≤ 2.35), over the CDI DataSources of the images namespace. An
// image's id is its DataSource's uid. The Glance API itself is glance.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DataSource } from '../../kubevirt/types.ts';
import { canUseImage } from '../../compute/references.ts';
import { imageIdOf } from '../../nova/images.ts';
import { notFound, NovaError, versionNotFound } from '../../nova/faults.ts';
import { imageName, novaImageList, novaImageShown } from '../../nova/views/images.ts';
import { last, type Query } from '../query.ts';
import { idParam, page, viewContext } from './common.ts';

export async function novaImageRoutes(app: FastifyInstance): Promise<void> {
  // The proxy is gone from 2.36.
  app.addHook('preHandler', async (req) => {
    if (req.nova.version.atLeast('2.36')) throw versionNotFound();
  });
  app.get('/images', (req) => listImages(req, false));
  app.get('/images/detail', (req) => listImages(req, true));
  app.get('/images/:id', showImage);
  app.delete('/images/:id', deleteImage);
}

async function listImages(req: FastifyRequest, detail: boolean) {
  const q = req.query as Query;
  const vc = await viewContext(req);
  let list = await seenImages(req, req.server.kova.caches.images.list());
  const name = last(q.name);
  if (name !== undefined) list = list.filter((d) => imageName(d) === name);
  const { items } = page(list, (d) => imageIdOf(d), { limit: last(q.limit), marker: last(q.marker) });
  return novaImageList(vc, items, detail);
}

async function showImage(req: FastifyRequest) {
  const d = (await seenImages(req, req.server.kova.caches.images.byIndex('uid', idParam(req))))[0];
  if (!d) throw notFound('Image not found.');
  return novaImageShown(await viewContext(req), d);
}

async function deleteImage(): Promise<never> {
  throw new NovaError(403, 'Images are CDI DataSources managed in Kubernetes: delete the DataSource instead.');
}

/** The images the caller sees: the public ones and its project's snapshots (an admin, every one). */
async function seenImages(req: FastifyRequest, list: DataSource[]): Promise<DataSource[]> {
  return (await req.nova.isAdmin()) ? list : list.filter((d) => canUseImage(d, req.nova.project));
}
