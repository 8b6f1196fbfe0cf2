import type { ResourceType } from '../kube/types.ts';
import type { KindDefinition } from './schema.ts';

export const GROUP = 'compute.kova.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The Lease the controller replicas elect their leader on (in Kova's namespace). */
export const CONTROLLER_LEASE = 'kova-controller';

export const resourceTypeOf = (d: KindDefinition): ResourceType => ({
  group: d.group,
  version: d.version,
  plural: d.plural,
  kind: d.kind,
  namespaced: d.scope === 'Namespaced',
});
