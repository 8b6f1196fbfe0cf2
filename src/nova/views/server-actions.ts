// The bodies of the server actions that answer with one (POST /servers/{id}/action), per
// microversion; most actions answer 202 with none. Pure.
import type { ViewContext } from './links.ts';

/** evacuate: Nova's generated admin password until 2.14 (Kova sets none), then nothing. */
export const evacuated = (c: ViewContext) => (c.version.atLeast('2.14') ? {} : { adminPass: '' });

/** rescue: 200 with no password (Kova sets none). */
export const rescued = () => ({});

/** createImage / createBackup: the new image's id in the body from 2.45, in a Location header before. */
export function imageCreated(c: ViewContext, imageId: string): { body?: { image_id: string }; location?: string } {
  if (c.version.atLeast('2.45')) return { body: { image_id: imageId } };
  return { location: `${c.origin}${c.prefix}/images/${imageId}` };
}
