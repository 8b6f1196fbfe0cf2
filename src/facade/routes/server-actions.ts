// POST /servers/{id}/action: actions that are changes of the Server's spec (os-start, os-stop,
// lock, unlock) or requests in it that the controller carries out once (reboot), all checked
// against Nova's state rules first. The other Nova
// actions are recognised and answered 501 until the server-lifecycle work brings them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Server } from '../../api/server.ts';
import { ACTION_RULES, checkAction, type ServerState, type VmState } from '../../nova/actions.ts';
import { badRequest, forbidden, NovaError, notFound } from '../../nova/faults.ts';
import type { FacadeDeps } from '../app.ts';
import { validate, S } from '../validate.ts';
import { canListServers, patchFresh } from './common.ts';

/** A Server as Nova's state rules see it. */
export const serverState = (s: Server): ServerState => ({
  id: s.metadata.uid ?? '',
  vmState: (s.status?.vmState ?? 'building') as VmState,
  taskState: s.status?.taskState ?? null,
  launched: !!s.status?.launchedAt,
  locked: s.spec.locked === true,
});

type Handler = (req: FastifyRequest, s: Server, body: unknown) => Promise<Record<string, unknown>>;

export function registerServerActionRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;
  const patch = (req: FastifyRequest, s: Server, spec: Record<string, unknown>) => patchFresh(deps, req, c.servers, s, () => ({ spec }));

  const handlers: Record<string, Handler> = {
    'os-start': async (req, s) => patch(req, s, { powerState: 'Running' }),
    'os-stop': async (req, s) => patch(req, s, { powerState: 'Shutoff' }),
    // A request the controller acts on once per id: the VMI is replaced (SOFT too: see the README).
    reboot: async (req, s, body) => {
      const type = String((body as { type?: string }).type).toUpperCase() as 'SOFT' | 'HARD';
      // Nova's hard reboot of a stopped server leaves it running.
      return patch(req, s, { reboot: { type, requestId: req.requestId }, ...(s.status?.vmState === 'stopped' ? { powerState: 'Running' } : {}) });
    },
    lock: async (req, s, body) => {
      const reason = body && typeof body === 'object' ? (body as { locked_reason?: string }).locked_reason : undefined;
      if (reason !== undefined && !req.nova.version.atLeast('2.73')) throw badRequest("Additional properties are not allowed ('locked_reason' was unexpected)");
      if (body !== null && body !== undefined) validate({ type: 'object', additionalProperties: false, properties: { locked_reason: S.nullableString(255) } }, body, 'body');
      return patch(req, s, { locked: true, lockedReason: reason ?? null, lockedBy: (await req.nova.isAdmin()) ? 'admin' : 'owner' });
    },
    unlock: async (req, s) => {
      if (s.spec.lockedBy === 'admin' && !(await req.nova.isAdmin())) throw forbidden(`Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.`);
      return patch(req, s, { locked: false, lockedReason: null, lockedBy: null });
    },
  };

  app.post('/servers/:id/action', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) throw badRequest('Malformed request body');
    const [action = '', arg] = Object.entries(body)[0] ?? [];
    const s = c.servers.byIndex('uid', id)[0];
    if (!s || (s.metadata.namespace !== req.nova.project?.namespace && !(await req.nova.isAdmin()))) throw notFound(`Instance ${id} could not be found.`);
    await canListServers(deps, req, s.metadata.namespace);
    if (action === 'reboot') validate({ type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', pattern: '^([Ss][Oo][Ff][Tt]|[Hh][Aa][Rr][Dd])$' } } }, arg, 'body');
    const ruleName = action === 'reboot' ? `reboot:${String((arg as { type?: string }).type).toUpperCase()}` : action;
    if (!ACTION_RULES[ruleName] && !ACTION_RULES[action]) throw badRequest(`There is no such action: ${action}`);
    const handler = handlers[action];
    if (!handler) throw new NovaError(501, `Kova does not carry out the '${action}' action yet.`);
    checkAction(ruleName, serverState(s), { admin: await req.nova.isAdmin() });
    await handler(req, s, arg);
    return reply.code(202).send();
  });
}
