// What every Kova controller is given: the client it writes with, the shared informer caches it
// reads from, the configuration, a logger and an event recorder. Controllers never call each other;
// they read each other's objects and status from the caches.
import type { Caches } from '../cache/caches.ts';
import type { KovaConfig } from '../cache/config.ts';
import type { KubeClient } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Logger } from '../log.ts';

export interface ControllerDeps {
  client: KubeClient;
  caches: Caches;
  cfg: KovaConfig;
  log: Logger;
  events: EventRecorder;
}
