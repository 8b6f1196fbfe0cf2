// GET /servers/{id}/diagnostics (admins, Nova's os_compute_api:os-server-diagnostics): the server's
// VirtualMachineInstance, read as the caller through the kube-apiserver, as Nova's diagnostics.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KubeError } from '../../kube/client.ts';
import { VIRTUAL_MACHINE_INSTANCES, type VirtualMachineInstance } from '../../kubevirt/types.ts';
import { conflict, forbidden } from '../../nova/faults.ts';
import { diagnosticsView } from '../../nova/views/diagnostics.ts';
import { callerClient, checkQuery, findServer, idParam, requireAdmin } from './common.ts';

const POLICY = 'os_compute_api:os-server-diagnostics';

export async function diagnosticsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/servers/:id/diagnostics', showDiagnostics);
}

async function showDiagnostics(req: FastifyRequest) {
  checkQuery(req, []);
  const s = await findServer(req, idParam(req));
  await requireAdmin(req, POLICY);
  // Nova asks the compute host: a server on none (not yet placed, offloaded) is not ready.
  const host = s.status?.host;
  if (!host || s.status?.offloaded) throw conflict(`Instance ${s.metadata.uid} is not ready`);
  let vmi: VirtualMachineInstance | undefined;
  try {
    vmi = await callerClient(req).find<VirtualMachineInstance>(VIRTUAL_MACHINE_INSTANCES, s.status?.instanceName ?? s.metadata.name ?? '', s.metadata.namespace);
  } catch (e) {
    if (e instanceof KubeError && e.code === 403) throw forbidden(`Policy doesn't allow ${POLICY} to be performed.`);
    throw e;
  }
  return diagnosticsView(req.nova.version, s, vmi, req.server.kova.caches.nodes.get(host), new Date());
}
