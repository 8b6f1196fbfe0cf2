import type { ResourceType } from '../kube/client.ts';
import type { KindDefinition } from './schema.ts';

export const GROUP = 'compute.kova.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Label on a Namespace that makes it a Nova project; its value, if not empty, is the project id. */
export const PROJECT_LABEL = `${GROUP}/project`;

export const resourceTypeOf = (d: KindDefinition): ResourceType => ({
  group: d.group,
  version: d.version,
  plural: d.plural,
  kind: d.kind,
  namespaced: d.scope === 'Namespaced',
});
