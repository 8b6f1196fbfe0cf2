import type { ResourceType } from '../kube/types.ts';
import type { KindDefinition } from './schema.ts';

export const GROUP = 'compute.kova.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const resourceTypeOf = (d: KindDefinition): ResourceType => ({
  group: d.group,
  version: d.version,
  plural: d.plural,
  kind: d.kind,
  namespaced: d.scope === 'Namespaced',
});
