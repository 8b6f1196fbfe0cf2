// os-server-password: GET shows the server's admin password encrypted with its key pair's RSA key
// (empty when there is none), DELETE clears it (the guest keeps its password). The encrypted copy is
// an annotation the controller writes when it sets a password (docs/adr/016); clearing it is a
// patch as the caller, so RBAC decides (Nova's os_compute_api:os-server-password:clear).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GROUP } from '../../api/group.ts';
import { SERVER_PASSWORD_ANNOTATION } from '../../api/labels.ts';
import { forbidden } from '../../nova/faults.ts';
import { checkQuery, findServer, idParam, patchFresh } from './common.ts';

export async function serverPasswordRoutes(app: FastifyInstance): Promise<void> {
  app.get('/servers/:id/os-server-password', showPassword);
  app.delete('/servers/:id/os-server-password', clearPassword);
}

async function showPassword(req: FastifyRequest): Promise<{ password: string }> {
  checkQuery(req, []);
  const s = await findServer(req, idParam(req));
  return { password: s.metadata.annotations?.[SERVER_PASSWORD_ANNOTATION] ?? '' };
}

async function clearPassword(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const s = await findServer(req, idParam(req));
  if (!(await req.server.kova.authz.can(req.nova.caller, { verb: 'patch', group: GROUP, resource: 'servers', namespace: s.metadata.namespace }))) {
    throw forbidden(`Policy doesn't allow os_compute_api:os-server-password:clear to be performed.`);
  }
  if (s.metadata.annotations?.[SERVER_PASSWORD_ANNOTATION] !== undefined) {
    await patchFresh(req, req.server.kova.caches.servers, s, () => ({ metadata: { annotations: { [SERVER_PASSWORD_ANNOTATION]: null } } }));
  }
  return reply.code(204).send();
}
