// What the caches show about one Server, read in one place (no request to the apiserver).
import type { Server } from '../../api/server.ts';
import { DATA_VOLUMES_BY_SERVER, type Caches } from '../../cache/caches.ts';
import type { ServerObservation } from './decide.ts';
import { imageVolumeName } from './vm.ts';

export function observe(caches: Caches, server: Server, now: Date = new Date()): ServerObservation {
  const name = server.metadata.name ?? '';
  const namespace = server.metadata.namespace;
  const op = server.status?.operation;
  return {
    server,
    vm: caches.vms.get(name, namespace),
    vmi: caches.vmis.get(name, namespace),
    dataVolumes: caches.dataVolumes.byIndex(DATA_VOLUMES_BY_SERVER, `${namespace}/${name}`),
    migration: op?.migrationName ? caches.migrations.get(op.migrationName, namespace) : undefined,
    imageVolume: op?.kind === 'createImage' && op.imageId ? caches.imageVolumes.get(imageVolumeName(op.imageId), caches.imagesNamespace) : undefined,
    now: now.toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}
