// Images as Nova sees them: CDI DataSources in the images namespace, with their Nova id and
// Glance-style properties kept in labels and annotations. Pure.
import { IMAGE_ID_LABEL, IMAGE_PROPERTY_PREFIX } from '../api/labels.ts';

/** An image's id: the id it was promised under (createImage), else its DataSource's uid. */
export const imageIdOf = (d: { metadata: { uid?: string; labels?: Record<string, string> } }): string => d.metadata.labels?.[IMAGE_ID_LABEL] ?? d.metadata.uid ?? '';

/** Glance-style image properties kept as annotations on the DataSource. */
export function imageProperties(annotations: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations ?? {})) if (k.startsWith(IMAGE_PROPERTY_PREFIX)) out[k.slice(IMAGE_PROPERTY_PREFIX.length)] = v;
  return out;
}
