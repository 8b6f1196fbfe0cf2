// Kubernetes Events (events.k8s.io/v1) as the tests read them: Kova's controllers record one for
// each status a Server goes through and for each request they refuse, and a test that must not miss
// a short-lived state lists them instead of polling the object.
import type { KubeObject } from '../../src/kube/types.ts';

export { EVENTS } from '../../src/kube/events.ts';

/** An events.k8s.io/v1 Event, the fields the tests look at. */
export interface KubeEvent extends KubeObject {
  reason?: string;
  note?: string;
  regarding?: { name?: string; kind?: string };
}
