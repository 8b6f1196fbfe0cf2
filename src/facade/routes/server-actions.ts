// POST /servers/{id}/action: every Nova server action, as a change of the Server's spec — a state
// (os-start, os-stop, pause, shelve, lock …) or a request the controller carries out once per id
// (reboot, rebuild, resize, migrate, createImage …) — checked against Nova's state rules first.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServerDefinition, SERVERS, type Server } from '../../api/server.ts';
import { REQUEST_ANNOTATION, ZONE_LABEL } from '../../api/labels.ts';
import { ACTION_RULES, checkAction } from '../../nova/actions.ts';
import { serverState } from '../../nova/server-state.ts';
import { requestedHostname } from '../../nova/hostname.ts';
import { findKeyPair, projectOf, usableFlavor } from '../../compute/references.ts';
import { badRequest, conflict, forbidden, NovaError, notFound } from '../../nova/faults.ts';
import { randomUUID } from 'node:crypto';
import { API_VERSION } from '../../api/group.ts';
import { ownerReference, SECRETS } from '../../kube/types.ts';
import { serverDetail } from '../../nova/views/servers.ts';
import { serverViewInputs } from './servers.ts';
import { forcedDown, isReady } from './hosts.ts';
import { consoleOutputAction } from './console-output.ts';
import { getVncConsoleAction } from './consoles.ts';
import type { FacadeDeps } from '../app.ts';
import { validate, S } from '../validate.ts';
import { callerClient, findServer, page, patchFresh, requireAdmin, viewContext } from './common.ts';
import { instanceActionDetail, instanceActionSummary } from '../../nova/views/instance-actions.ts';
import { nextLink } from '../../nova/views/links.ts';

/** The request stamp the controller turns into an instance action. */
export function requestStamp(req: FastifyRequest, action: string): string {
  return JSON.stringify({ requestId: req.requestId, action, userId: req.nova.caller.user, projectId: req.nova.project?.id ?? '', at: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
}

/** Spec fields that hold one imperative request each (docs/adr/009): those with a requestId. */
const REQUEST_FIELDS = new Set(Object.entries(ServerDefinition.spec.properties ?? {}).filter(([, v]) => v.properties?.requestId).map(([k]) => k));

/** A JSON merge patch value that turns `old` into `next` (keys `next` lacks become null). */
export function replacing(old: unknown, next: unknown): unknown {
  if (!next || typeof next !== 'object' || Array.isArray(next) || !old || typeof old !== 'object' || Array.isArray(old)) return next;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(old)) out[k] = null;
  for (const [k, v] of Object.entries(next)) out[k] = replacing((old as Record<string, unknown>)[k], v);
  return out;
}

/** Actions only admins may take (Nova's default policy), by their policy rule. */
const ADMIN_ONLY: Record<string, string> = {
  migrate: 'os_compute_api:os-migrate-server:migrate',
  'os-migrateLive': 'os_compute_api:os-migrate-server:migrate_live',
  evacuate: 'os_compute_api:os-evacuate',
  'os-resetState': 'os_compute_api:os-admin-actions:reset_state',
  shelveOffload: 'os_compute_api:os-shelve:shelve_offload',
};

/** What an action answers: nothing (202), or a status, a body and headers. */
type Answer = { code?: number; body?: unknown; headers?: Record<string, string> } | void;
type Handler = (req: FastifyRequest, s: Server, body: unknown) => Promise<Answer | Server>;

const obj = (props: Record<string, unknown>, required: string[] = [], extra = false) => ({ type: 'object', properties: props, required, additionalProperties: extra });
const nullableObj = (props: Record<string, unknown>) => ({ type: ['object', 'null'], properties: props, additionalProperties: false });

export function registerServerActionRoutes(app: FastifyInstance, deps: FacadeDeps): void {
  const c = deps.caches;
  /** Changes spec and stamps the request, which the controller records as an instance action. */
  /**
   * Changes spec and stamps the request, which the controller records as an instance action. A
   * request object (reboot, rebuild, migrate …) replaces the previous one whole: fields it does not
   * have are removed, not merged from the last request.
   */
  const patch = (req: FastifyRequest, s: Server, spec: Record<string, unknown>, action: string) =>
    patchFresh(deps, req, c.servers, s, (current) => ({
      metadata: { annotations: { [REQUEST_ANNOTATION]: requestStamp(req, action) } },
      spec: Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, REQUEST_FIELDS.has(k) ? replacing((current.spec as Record<string, unknown>)[k], v) : v])),
    }));

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
    resize: async (req, s, body) => {
      const b = validate<{ flavorRef: string | number }>(obj({ flavorRef: { type: ['string', 'integer'], minLength: 1 }, 'OS-DCF:diskConfig': { enum: ['AUTO', 'MANUAL'] } }, ['flavorRef']), body);
      // The flavor must be usable in the server's project (where its instancetype must exist).
      const f = usableFlavor(c, String(b.flavorRef), projectOf(c, s.metadata.namespace ?? ''));
      if (!f) throw badRequest('Unable to locate requested flavor.');
      if ((f.spec.id ?? f.metadata.name) === s.status?.flavor?.id) throw badRequest('When resizing, instances must change flavor!');
      return patch(req, s, { flavor: f.metadata.name }, 'resize');
    },
    confirmResize: async (req, s) => {
      await patch(req, s, { confirmResize: { requestId: req.requestId } }, 'confirmResize');
      return { code: 204 };
    },
    revertResize: async (req, s) => {
      const op = s.status?.operation;
      const back = op?.kind === 'resize' && op.fromFlavor?.id ? c.flavor(op.fromFlavor.id)?.metadata.name ?? op.fromFlavor.id : undefined;
      return patch(req, s, { revertResize: { requestId: req.requestId }, ...(back ? { flavor: back } : {}) }, 'revertResize');
    },
    rebuild: async (req, s, body) => {
      const v = req.nova.version;
      const props: Record<string, unknown> = {
        imageRef: { type: 'string', minLength: 1 }, name: S.name, metadata: S.metadata, adminPass: { type: 'string' }, preserve_ephemeral: { type: 'boolean' },
        'OS-DCF:diskConfig': { enum: ['AUTO', 'MANUAL'] }, accessIPv4: { type: 'string' }, accessIPv6: { type: 'string' }, personality: { type: 'array' },
      };
      if (v.atLeast('2.19')) props.description = S.nullableString(255);
      if (v.atLeast('2.54')) props.key_name = { type: ['string', 'null'], minLength: 1, maxLength: 255 };
      if (v.atLeast('2.57')) props.user_data = { type: ['string', 'null'], maxLength: 65535 };
      // Accepted; KubeVirt does not verify image signatures (README, differences).
      if (v.atLeast('2.63')) props.trusted_image_certificates = { type: ['array', 'null'], items: { type: 'string', minLength: 1 }, maxItems: 50 };
      if (v.atLeast('2.90')) props.hostname = { type: 'string', minLength: 1, maxLength: 255 };
      const b = validate<{ imageRef: string; name?: string; metadata?: Record<string, string>; description?: string | null; key_name?: string | null; user_data?: string | null; hostname?: string; preserve_ephemeral?: boolean }>(obj(props, ['imageRef']), body);
      const img = c.image(b.imageRef.split('/').at(-1) ?? '');
      if (!img) throw badRequest('Invalid imageRef provided.');
      // Nova's key pairs are the caller's own, at rebuild as at create.
      const key = b.key_name ? findKeyPair(c, s.metadata.namespace ?? '', b.key_name, req.nova.caller.user) : undefined;
      if (b.key_name && !key) throw badRequest('Invalid key_name provided.');
      const spec: Record<string, unknown> = { image: img.metadata.name, rebuild: { requestId: req.requestId, ...(b.preserve_ephemeral !== undefined ? { preserveEphemeral: b.preserve_ephemeral } : {}) } };
      if (b.name !== undefined) spec.name = b.name;
      if (b.metadata !== undefined) spec.metadata = b.metadata;
      if (b.description !== undefined) spec.description = b.description;
      if (b.key_name !== undefined) spec.keyName = key?.metadata.name ?? null;
      if (b.hostname !== undefined) spec.hostname = requestedHostname(b.hostname);
      // 2.57: new user data replaces the old (its own Secret, never inline); null removes it.
      if (b.user_data !== undefined) spec.userData = b.user_data === null ? null : { secretName: await writeUserData(req, s, b.user_data) };
      const updated = await patch(req, s, spec, 'rebuild');
      // Before 2.75 the answer is the short form of an update's; 2.57 adds the user data.
      const view = serverDetail(await viewContext(req), updated, serverViewInputs(deps, updated), { update: true });
      if (v.atLeast('2.54') && !v.atLeast('2.75')) view.key_name = updated.spec.keyName ? updated.status?.keyName ?? updated.spec.keyName : null;
      if (v.atLeast('2.57')) {
        delete view['OS-EXT-SRV-ATTR:user_data']; // shown as user_data instead
        view.user_data = b.user_data ?? null;
      }
      return { code: 202, body: { server: view } };
    },
    migrate: async (req, s, body) => {
      const b = validate<{ host?: string | null } | null>(req.nova.version.atLeast('2.56') ? nullableObj({ host: { type: ['string', 'null'], minLength: 1, maxLength: 255 } }) : { type: 'null' }, body ?? null);
      const host = b?.host ?? undefined;
      if (host) {
        if (!c.nodes.get(host)) throw badRequest(`Compute host ${host} could not be found.`);
        if (host === s.status?.host) throw badRequest(`Unable to migrate instance (${s.metadata.uid}) to current host (${host}).`);
      }
      return patch(req, s, { migrate: { requestId: req.requestId, live: false, ...(host ? { host } : {}) } }, 'migrate');
    },
    'os-migrateLive': async (req, s, body) => {
      const v = req.nova.version;
      const props: Record<string, unknown> = { host: { type: ['string', 'null'], minLength: 1, maxLength: 255 }, block_migration: v.atLeast('2.25') ? { enum: [true, false, 'auto', 'True', 'False', 'true', 'false'] } : { type: ['boolean', 'string'] } };
      if (!v.atLeast('2.25')) props.disk_over_commit = { type: ['boolean', 'string'] };
      if (v.atLeast('2.30') && !v.atLeast('2.68')) props.force = { type: ['boolean', 'string'] };
      const b = validate<{ host?: string | null }>(obj(props, v.atLeast('2.25') ? ['block_migration', 'host'] : ['block_migration', 'disk_over_commit', 'host']), body);
      const host = b.host ?? undefined;
      if (host) {
        if (!c.nodes.get(host)) throw badRequest(`Compute host ${host} could not be found.`);
        if (host === s.status?.host) throw badRequest(`The supplied hypervisor type of is invalid. Unable to migrate instance (${s.metadata.uid}) to current host (${host}).`);
      }
      return patch(req, s, { migrate: { requestId: req.requestId, live: true, ...(host ? { host } : {}) } }, 'live-migration');
    },
    evacuate: async (req, s, body) => {
      const v = req.nova.version;
      const props: Record<string, unknown> = { host: { type: 'string', minLength: 1, maxLength: 255 }, adminPass: { type: 'string' } };
      if (!v.atLeast('2.14')) props.onSharedStorage = { type: ['boolean', 'string'] };
      if (v.atLeast('2.29') && !v.atLeast('2.68')) props.force = { type: ['boolean', 'string'] };
      const b = validate<{ host?: string }>(obj(props, v.atLeast('2.14') ? [] : ['onSharedStorage']), body ?? {});
      const source = s.status?.host ? c.nodes.get(s.status.host) : undefined;
      if (source && isReady(source) && !forcedDown(source)) throw badRequest(`Compute service of ${source.metadata.name} is still in use.`);
      if (b.host && !c.nodes.get(b.host)) throw notFound(`Compute host ${b.host} not found.`);
      if (b.host && b.host === s.status?.host) throw badRequest(`The target host can't be the same one.`);
      await patch(req, s, { evacuate: { requestId: req.requestId, ...(b.host ? { host: b.host } : {}) } }, 'evacuate');
      return { code: 200, body: v.atLeast('2.14') ? {} : { adminPass: '' } };
    },
    'os-resetState': async (req, s, body) => {
      const b = validate<{ state: 'active' | 'error' }>(obj({ state: { enum: ['active', 'error'] } }, ['state']), body);
      return patch(req, s, { resetState: { requestId: req.requestId, state: b.state } }, 'os-resetState');
    },
    shelve: async (req, s) => patch(req, s, { powerState: 'Shelved' }, 'shelve'),
    shelveOffload: async (req, s) => {
      return patch(req, s, { powerState: 'ShelvedOffloaded' }, 'shelveOffload');
    },
    unshelve: async (req, s, body) => {
      const v = req.nova.version;
      const props: Record<string, unknown> = {};
      if (v.atLeast('2.77')) props.availability_zone = { type: ['string', 'null'], minLength: 1, maxLength: 255 };
      if (v.atLeast('2.91')) props.host = { type: 'string', minLength: 1, maxLength: 255 };
      const b = validate<{ availability_zone?: string | null; host?: string } | null>(v.atLeast('2.77') ? nullableObj(props) : { type: 'null' }, body ?? null);
      if (b?.host) await requireAdmin(req, 'os_compute_api:os-shelve:unshelve_to_host');
      const spec: Record<string, unknown> = { powerState: 'Running' };
      if (b && (b.availability_zone !== undefined || b.host)) {
        if (s.status?.vmState !== 'shelved_offloaded') throw conflict(`The availability_zone or host can only be given when unshelving a server in vm_state shelved_offloaded.`);
        if (b.availability_zone !== undefined) spec.availabilityZone = b.availability_zone;
        if (b.host) {
          const n = c.nodes.get(b.host);
          if (!n) throw badRequest(`Compute host ${b.host} could not be found.`);
          spec.availabilityZone = n.metadata.labels?.[ZONE_LABEL] ?? spec.availabilityZone;
        }
      }
      return patch(req, s, spec, 'unshelve');
    },
    createImage: async (req, s, body) => snapshot(req, s, body, false),
    createBackup: async (req, s, body) => snapshot(req, s, body, true),
    rescue: async (req, s, body) => {
      const b = validate<{ adminPass?: string; rescue_image_ref?: string } | null>(nullableObj({ adminPass: { type: 'string' }, rescue_image_ref: { type: 'string', format: 'uuid' } }), body ?? null);
      let image: string | undefined;
      if (b?.rescue_image_ref) {
        const d = c.image(b.rescue_image_ref);
        if (!d) throw badRequest(`Image ${b.rescue_image_ref} could not be found.`);
        image = d.metadata.name;
      }
      await patch(req, s, { rescue: { requestId: req.requestId, ...(image ? { image } : {}) } }, 'rescue');
      return { code: 200, body: {} };
    },
    unrescue: async (req, s) => patch(req, s, { rescue: null }, 'unrescue'),
    restore: async (req, s) => patch(req, s, { powerState: 'Running' }, 'restore'),
    forceDelete: async (req, s) => {
      await callerClient(deps, req).delete(SERVERS, s.metadata.name ?? '', s.metadata.namespace, { uid: s.metadata.uid });
      return { code: 202 };
    },
    // No KubeVirt equivalent: answered as Nova answers for a virt driver that cannot (see the README).
    changePassword: async () => {
      throw new NovaError(501, 'Unable to set password on instance');
    },
    trigger_crash_dump: async (req) => {
      if (!req.nova.version.atLeast('2.17')) throw badRequest('There is no such action: trigger_crash_dump');
      throw badRequest('Triggering crash dump is not supported');
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

  /** The server's user-data Secret (owned by the Server), written as the caller. */
  const writeUserData = async (req: FastifyRequest, s: Server, data: string): Promise<string> => {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw badRequest("Invalid input for field/attribute user_data. Value: the given user_data. 'user_data' is not a 'base64'");
    // A new Secret per rebuild: members may create Secrets, not rewrite them.
    const name = `${s.metadata.name}-user-data-${req.requestId.slice(-8).toLowerCase()}`;
    await callerClient(deps, req).create(SECRETS, {
      apiVersion: 'v1', kind: 'Secret',
      metadata: { name, namespace: s.metadata.namespace, ownerReferences: [ownerReference(s, API_VERSION, 'Server')] },
      type: 'Opaque', data: { userdata: data },
    });
    return name;
  };

  /** createImage / createBackup: the image id is fixed now and the controller copies the root disk. */
  const snapshot = async (req: FastifyRequest, s: Server, body: unknown, backup: boolean): Promise<Answer> => {
    const v = req.nova.version;
    const b = backup
      ? validate<{ name: string; backup_type: string; rotation: number | string; metadata?: Record<string, string> }>(obj({ name: S.name, backup_type: { type: 'string' }, rotation: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 0 }, metadata: S.metadata }, ['name', 'backup_type', 'rotation']), body)
      : validate<{ name: string; metadata?: Record<string, string> }>(obj({ name: S.name, metadata: S.metadata }, ['name']), body);
    const imageId = randomUUID();
    const bb = b as { backup_type?: string; rotation?: number | string };
    const extra = backup ? { backupType: bb.backup_type, rotation: Number(bb.rotation) } : {};
    await patch(req, s, { createImage: { requestId: req.requestId, imageId, name: b.name, ...(b.metadata ? { metadata: b.metadata } : {}), ...extra } }, backup ? 'createBackup' : 'createImage');
    const vc = await viewContext(req);
    if (v.atLeast('2.45')) return { code: 202, body: { image_id: imageId } };
    return { code: 202, headers: { location: `${vc.origin}${vc.prefix}/images/${imageId}` } };
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
    // Consoles answer 200 with a body and have no state rule of their own.
    if (action === 'os-getConsoleOutput') return consoleOutputAction(deps, req, s, body);
    if (action === 'os-getVNCConsole') return reply.send(await getVncConsoleAction(deps, req, s, arg));
    if (action === 'reboot') validate({ type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', pattern: '^([Ss][Oo][Ff][Tt]|[Hh][Aa][Rr][Dd])$' } } }, arg, 'body');
    const ruleName = action === 'reboot' ? `reboot:${String((arg as { type?: string }).type).toUpperCase()}` : action;
    if (!ACTION_RULES[ruleName] && !ACTION_RULES[action]) throw badRequest(`There is no such action: ${action}`);
    const handler = handlers[action];
    if (!handler) throw new NovaError(501, `Kova does not carry out the '${action}' action.`);
    // Nova checks policy before state: an admin-only action is 403 for others whatever the state.
    const adminRule = ADMIN_ONLY[action];
    if (adminRule) await requireAdmin(req, adminRule);
    if (ACTION_RULES[ruleName]) checkAction(ruleName, serverState(s, { pending: true }), { admin: await req.nova.isAdmin() });
    const answer = await handler(req, s, arg);
    const a: Exclude<Answer, void> = answer && !('metadata' in answer) ? answer : {};
    for (const [k, v] of Object.entries(a.headers ?? {})) reply.header(k, v);
    return reply.code(a.code ?? 202).send(a.body);
  });
}
