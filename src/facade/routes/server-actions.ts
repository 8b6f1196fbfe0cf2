// POST /servers/{id}/action: actions that are changes of the Server's spec (os-start, os-stop,
// lock, unlock) or requests in it that the controller carries out once (reboot), all checked
// against Nova's state rules first. The other Nova
// actions are recognised and answered 501 until the server-lifecycle work brings them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { REQUEST_ANNOTATION, type Server } from '../../api/server.ts';
import { ACTION_RULES, checkAction, type ServerState, type VmState } from '../../nova/actions.ts';
import { badRequest, forbidden, NovaError, notFound } from '../../nova/faults.ts';
import type { FacadeDeps } from '../app.ts';
import { validate, S } from '../validate.ts';
import { findServer, page, patchFresh, viewContext } from './common.ts';
import { instanceActionDetail, instanceActionSummary } from '../../nova/views/instance-actions.ts';
import { nextLink } from '../../nova/views/links.ts';

/** A Server as Nova's state rules see it. */
export const serverState = (s: Server): ServerState => ({
  id: s.metadata.uid ?? '',
  vmState: (s.status?.vmState ?? 'building') as VmState,
  taskState: s.status?.taskState ?? null,
  launched: !!s.status?.launchedAt,
  locked: s.spec.locked === true,
});

/** The request stamp the controller turns into an instance action. */
export function requestStamp(req: FastifyRequest, action: string): string {
  return JSON.stringify({ requestId: req.requestId, action, userId: req.nova.caller.user, projectId: req.nova.project?.id ?? '', at: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
}

type Handler = (req: FastifyRequest, s: Server, body: unknown) => Promise<Record<string, unknown>>;

export function registerServerActionRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;
  /** Changes spec and stamps the request, which the controller records as an instance action. */
  const patch = (req: FastifyRequest, s: Server, spec: Record<string, unknown>, action: string) =>
    patchFresh(deps, req, c.servers, s, () => ({ metadata: { annotations: { [REQUEST_ANNOTATION]: requestStamp(req, action) } }, spec }));

  const handlers: Record<string, Handler> = {
    'os-start': async (req, s) => patch(req, s, { powerState: 'Running' }, 'start'),
    'os-stop': async (req, s) => patch(req, s, { powerState: 'Shutoff' }, 'stop'),
    pause: async (req, s) => patch(req, s, { powerState: 'Paused' }, 'pause'),
    unpause: async (req, s) => patch(req, s, { powerState: 'Running' }, 'unpause'),
    suspend: async (req, s) => patch(req, s, { powerState: 'Suspended' }, 'suspend'),
    resume: async (req, s) => patch(req, s, { powerState: 'Running' }, 'resume'),
    // A request the controller acts on once per id: the VMI is replaced (SOFT too: see the README).
    reboot: async (req, s, body) => {
      const type = String((body as { type?: string }).type).toUpperCase() as 'SOFT' | 'HARD';
      // Nova's hard reboot of a stopped server leaves it running.
      return patch(req, s, { reboot: { type, requestId: req.requestId }, ...(s.status?.vmState === 'stopped' ? { powerState: 'Running' } : {}) }, 'reboot');
    },
    lock: async (req, s, body) => {
      const reason = body && typeof body === 'object' ? (body as { locked_reason?: string }).locked_reason : undefined;
      if (reason !== undefined && !req.nova.version.atLeast('2.73')) throw badRequest("Additional properties are not allowed ('locked_reason' was unexpected)");
      if (body !== null && body !== undefined) validate({ type: 'object', additionalProperties: false, properties: { locked_reason: S.nullableString(255) } }, body, 'body');
      return patch(req, s, { locked: true, lockedReason: reason ?? null, lockedBy: (await req.nova.isAdmin()) ? 'admin' : 'owner' }, 'lock');
    },
    unlock: async (req, s) => {
      if (s.spec.lockedBy === 'admin' && !(await req.nova.isAdmin())) throw forbidden(`Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.`);
      return patch(req, s, { locked: false, lockedReason: null, lockedBy: null }, 'unlock');
    },
  };

  // os-instance-actions: what was asked of the server, newest first (2.58 paging and time filters).
  const visibleServer = (req: FastifyRequest, id: string): Promise<Server> => findServer(deps, req, id);
  app.get('/servers/:id/os-instance-actions', async (req) => {
    const id = (req.params as { id: string }).id;
    const s = await visibleServer(req, id);
    const q = req.query as Record<string, string | undefined>;
    let list = s.status?.instanceActions ?? [];
    if (req.nova.version.atLeast('2.58')) {
      const since = q['changes-since'];
      const before = req.nova.version.atLeast('2.66') ? q['changes-before'] : undefined;
      if (since) list = list.filter((a) => Date.parse(a.updatedAt ?? a.startTime) >= Date.parse(since));
      if (before) list = list.filter((a) => Date.parse(a.updatedAt ?? a.startTime) <= Date.parse(before));
    }
    const vc = await viewContext(req);
    const paged = req.nova.version.atLeast('2.58') ? page(list, (a) => a.requestId, { limit: q.limit, marker: q.marker }) : { items: list, full: false, limit: 0 };
    const body: Record<string, unknown> = { instanceActions: paged.items.map((a) => instanceActionSummary(vc, id, a)) };
    if (paged.full && paged.items.length) body.links = nextLink(vc, `servers/${id}/os-instance-actions`, q, paged.items.at(-1)!.requestId, paged.limit);
    return body;
  });
  app.get('/servers/:id/os-instance-actions/:requestId', async (req) => {
    const { id, requestId } = req.params as { id: string; requestId: string };
    const a = (await visibleServer(req, id)).status?.instanceActions?.find((x) => x.requestId === requestId);
    if (!a) throw notFound(`Action ${requestId} not found`);
    return { instanceAction: instanceActionDetail(await viewContext(req), id, a) };
  });

  app.post('/servers/:id/action', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) throw badRequest('Malformed request body');
    const [action = '', arg] = Object.entries(body)[0] ?? [];
    const s = await visibleServer(req, id);
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
