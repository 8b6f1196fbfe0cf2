// The bodies of the server actions that answer with one (POST /servers/{id}/action), per
// microversion; most actions answer 202 with none. Pure.
import type { ViewContext } from './links.ts';

/**
 * evacuate: the new admin password until 2.13 (null when the disk is kept on shared storage and none
 * was given; absent without enable_instance_password), then no body.
 */
export const evacuated = (c: ViewContext, shown: { adminPass?: string | null }) => (c.version.atLeast('2.14') ? undefined : shown);

/** rescue: 200 with the rescue password (absent without enable_instance_password). */
export const rescued = (shown: { adminPass?: string }) => shown;

/** createImage / createBackup: the new image's id in the body from 2.45, in a Location header before. */
export function imageCreated(c: ViewContext, imageId: string): { body?: { image_id: string }; location?: string } {
  if (c.version.atLeast('2.45')) return { body: { image_id: imageId } };
  return { location: `${c.origin}${c.prefix}/images/${imageId}` };
}
