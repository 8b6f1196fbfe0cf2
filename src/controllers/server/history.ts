// A Server's finalization (docs/adr/022): the controller holds each Server with a finalizer, and
// when it is deleted writes what Nova keeps of a deleted server (a DeletedServer named by its id)
// before letting it go. Both doors (the Compute API and kubectl) pass through here.
import { DELETED_SERVERS, type DeletedServer } from '../../api/deleted-server.ts';
import { API_VERSION } from '../../api/group.ts';
import { HISTORY_FINALIZER } from '../../api/labels.ts';
import { SERVERS, type Server } from '../../api/server.ts';
import { isAlreadyExists, KubeError } from '../../kube/client.ts';
import { deletedRecordOf } from '../../nova/history.ts';
import type { ControllerDeps } from '../deps.ts';

const nowIso = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Adds the history finalizer to a live Server that lacks it (one metadata patch, once). */
export async function holdServer(deps: ControllerDeps, s: Server): Promise<void> {
  if (s.metadata.deletionTimestamp || s.metadata.finalizers?.includes(HISTORY_FINALIZER)) return;
  const f = s.metadata.finalizers;
  // Guarded by the finalizers read, so another writer's finalizer is never dropped.
  await deps.client.jsonPatch(SERVERS, s.metadata.name ?? '', s.metadata.namespace, f
    ? [{ op: 'test', path: '/metadata/finalizers', value: f }, { op: 'add', path: '/metadata/finalizers/-', value: HISTORY_FINALIZER }]
    : [{ op: 'add', path: '/metadata/finalizers', value: [HISTORY_FINALIZER] }]);
}

/**
 * A deleted Server still held: its record written (once: named by the server's id), then the
 * finalizer removed. A namespace being deleted refuses new objects: then nothing is kept (the
 * project's history goes with it). Returns whether the Server was finalized here.
 */
export async function finalizeServer(deps: ControllerDeps, s: Server): Promise<boolean> {
  if (!s.metadata.deletionTimestamp || !s.metadata.finalizers?.includes(HISTORY_FINALIZER)) return false;
  const namespace = s.metadata.namespace ?? '';
  const projectId = deps.caches.projectIdOf(namespace) ?? namespace;
  const record: DeletedServer = {
    apiVersion: API_VERSION,
    kind: 'DeletedServer',
    metadata: { name: s.metadata.uid ?? '', namespace },
    spec: deletedRecordOf(s, projectId, nowIso()),
  };
  try {
    await deps.client.create(DELETED_SERVERS, record);
  } catch (e) {
    const refused = e instanceof KubeError && (e.code === 403 || e.code === 404);
    if (!isAlreadyExists(e) && !refused) throw e;
    if (refused) deps.log.info('deleted server not recorded: its namespace refuses new objects', { namespace, server: s.metadata.name, err: e });
  }
  await deps.client.jsonPatch(SERVERS, s.metadata.name ?? '', namespace, [
    { op: 'test', path: '/metadata/resourceVersion', value: s.metadata.resourceVersion },
    { op: 'replace', path: '/metadata/finalizers', value: (s.metadata.finalizers ?? []).filter((x) => x !== HISTORY_FINALIZER) },
  ]);
  return true;
}
