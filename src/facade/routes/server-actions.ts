// POST /servers/{id}/action: every Nova server action, as a change of the Server's spec — a desired
// power state (os-start, os-stop, pause, shelve …, read from the action catalog), a lock, or a
// request the controller carries out once per id (reboot, rebuild, resize, migrate, createImage …;
// docs/adr/009-imperative-requests-in-spec.md) — after the catalog's admin policy and state rule.
// Each request is stamped with its instance-action name, which the controller records.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { ServerDefinition, SERVERS, type Server } from '../../api/server.ts';
import { API_VERSION } from '../../api/group.ts';
import { USER_ANNOTATION, ZONE_LABEL } from '../../api/labels.ts';
import { KubeError } from '../../kube/client.ts';
import { ownerReference, SECRETS, type Secret } from '../../kube/types.ts';
import { ACTION_RULES, checkAction, instanceActionOf, ruleOf } from '../../nova/actions.ts';
import { badRequest, conflict, forbidden, NovaError, notFound } from '../../nova/faults.ts';
import { GONE } from '../../nova/removed.ts';
import { forcedDown, isReady } from '../../nova/hosts.ts';
import { requestedHostname } from '../../nova/hostname.ts';
import { checkInjectedFiles, userDataWithFiles, type InjectedFile } from '../../nova/personality.ts';
import { accessIpAnnotations } from '../../nova/server-columns.ts';
import { serverState } from '../../nova/server-state.ts';
import { evacuated, imageCreated, rescued } from '../../nova/views/server-actions.ts';
import { guestAgentOffline } from '../../nova/password.ts';
import { serverRebuilt } from '../../nova/views/servers.ts';
import { canUseImage, findKeyPair, projectOf, usableFlavor } from '../../compute/references.ts';
import { freshHoldings, limitsFor, scopesFor, withQuotaLock } from '../../compute/quotas.ts';
import { checkDeltas } from '../../nova/quotas.ts';
import { actionOf } from '../action-body.ts';
import { consoleOutputAction, otherConsoleAction, vncConsoleAction } from '../console-actions.ts';
import { stampAnnotations } from '../request-stamp.ts';
import {
  CHANGE_PASSWORD, CREATE_BACKUP, CREATE_IMAGE, evacuateSchema, liveMigrateSchema, LOCK, migrateSchema, REBOOT, rebuildSchema, RESCUE, RESET_STATE, RESIZE, unshelveSchema,
} from '../schemas/server-actions.ts';
import { serverViewInputs } from '../server-inputs.ts';
import { validate } from '../validate.ts';
import { requestedPassword, shownPassword, writePasswordSecret } from '../admin-password.ts';
import { callerClient, findServer, idParam, patchFresh, requireAdmin, viewContext } from './common.ts';

export async function serverActionRoutes(app: FastifyInstance): Promise<void> {
  app.post('/servers/:id/action', serverAction);
}

/** One action asked of a server: its catalog row's name (reboot by type), the server, the action's argument. */
interface ActionRequest {
  req: FastifyRequest;
  action: string;
  server: Server;
  arg: unknown;
}

/** What an action answers: 202 and nothing, unless it says otherwise. */
type Answer = { code?: number; body?: unknown; headers?: Record<string, string> } | void;
type ActionHandler = (a: ActionRequest) => Promise<Answer>;

async function serverAction(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body = req.body;
  const { name, arg } = actionOf(body);
  // Removed with nova-network: gone before the server is even looked up.
  if (name === 'resetNetwork') throw new NovaError(410, GONE);
  const server = await findServer(req, idParam(req));
  // Consoles answer 200 with a body and have no state rule of their own.
  if (name === 'os-getConsoleOutput') return reply.send(await consoleOutputAction(req, server, body));
  if (name === 'os-getVNCConsole') return reply.send(await vncConsoleAction(req, server, arg));
  if (name === 'os-getSPICEConsole' || name === 'os-getSerialConsole' || name === 'os-getRDPConsole') return otherConsoleAction(req, server, name, arg);
  if (name === 'reboot') validate(REBOOT, arg, 'body');
  if (name === 'changePassword') validate(CHANGE_PASSWORD, arg, 'body');
  const action = name === 'reboot' ? `reboot:${String((arg as { type?: string }).type).toUpperCase()}` : name;
  const rule = ruleOf(action);
  if (!rule) throw badRequest(`There is no such action: ${name}`);
  const handler = Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
  if (!handler) throw new NovaError(501, `Kova does not carry out the '${name}' action.`);
  // Nova checks policy before state: an admin-only action is 403 for others whatever the state.
  if (rule.adminPolicy) await requireAdmin(req, rule.adminPolicy);
  checkAction(action, serverState(server, { pending: true }), { admin: await req.nova.isAdmin() });
  const a = (await handler({ req, action, server, arg })) ?? {};
  for (const [k, v] of Object.entries(a.headers ?? {})) reply.header(k, v);
  return reply.code(a.code ?? 202).send(a.body);
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

/**
 * Changes spec and stamps the request with the action's instance-action name. A request object
 * (reboot, rebuild, migrate …) replaces the previous one whole: fields it does not have are
 * removed, not merged from the last request.
 */
function patch({ req, action, server }: ActionRequest, spec: Record<string, unknown>, annotations: Record<string, string | null> = {}): Promise<Server> {
  return patchFresh(req, req.server.kova.caches.servers, server, (current) => ({
    metadata: { annotations: { ...annotations, ...stampAnnotations(req, instanceActionOf(action), current) } },
    spec: Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, REQUEST_FIELDS.has(k) ? replacing((current.spec as Record<string, unknown>)[k], v) : v])),
  }));
}

/**
 * The actions that only ask for a power state (the catalog rows with `powerState`): os-start,
 * os-stop, pause, unpause, suspend, resume, shelve, shelveOffload, restore. A delete is
 * DELETE /servers/{id}, not an action.
 */
const POWER_ACTIONS: Record<string, ActionHandler> = Object.fromEntries(
  Object.entries(ACTION_RULES)
    .filter(([action, rule]) => rule.powerState && action !== 'delete')
    .map(([action, rule]) => [action, async (a: ActionRequest) => void (await patch(a, { powerState: rule.powerState }))]),
);

/** A request the controller acts on once per id: SOFT through KubeVirt's softreboot subresource, HARD by replacing the VMI. */
async function reboot(a: ActionRequest): Promise<Answer> {
  const type = String((a.arg as { type?: string }).type).toUpperCase() as 'SOFT' | 'HARD';
  // Nova's hard reboot of a stopped server leaves it running.
  await patch(a, { reboot: { type, requestId: a.req.requestId }, ...(a.server.status?.vmState === 'stopped' ? { powerState: 'Running' } : {}) });
}

async function resize(a: ActionRequest): Promise<Answer> {
  const c = a.req.server.kova.caches;
  const b = validate<{ flavorRef: string | number }>(RESIZE, a.arg);
  const s = a.server;
  // The flavor must be usable in the server's project (where its instancetype must exist).
  const f = usableFlavor(c, String(b.flavorRef), projectOf(c, s.metadata.namespace ?? ''));
  if (!f) throw badRequest('Unable to locate requested flavor.');
  if ((f.spec.id ?? f.metadata.name) === s.status?.flavor?.id) throw badRequest('When resizing, instances must change flavor!');
  // Nova counts the new flavor's growth against the project's (and owner's) cores and ram, under the quota lock.
  const { client, cfg } = a.req.server.kova;
  const ns = s.metadata.namespace ?? '';
  await withQuotaLock(client, ns, async (lock) => {
    const holdings = await freshHoldings(client, c, ns);
    const from = s.status?.flavor ?? c.flavor(s.spec.flavor)?.spec;
    const refusal = checkDeltas(scopesFor(c, cfg, ns, holdings, s.metadata.annotations?.[USER_ANNOTATION]), { cores: f.spec.vcpus - (from?.vcpus ?? 0), ram: f.spec.ramMiB - (from?.ramMiB ?? 0) });
    if (refusal) throw forbidden(refusal);
    lock.wrote(await patch(a, { flavor: f.metadata.name }));
  });
}

async function confirmResize(a: ActionRequest): Promise<Answer> {
  await patch(a, { confirmResize: { requestId: a.req.requestId } });
  return { code: 204 };
}

async function revertResize(a: ActionRequest): Promise<Answer> {
  const op = a.server.status?.operation;
  const back = op?.kind === 'resize' && op.fromFlavor?.id ? a.req.server.kova.caches.flavor(op.fromFlavor.id)?.metadata.name ?? op.fromFlavor.id : undefined;
  await patch(a, { revertResize: { requestId: a.req.requestId }, ...(back ? { flavor: back } : {}) });
}

async function rebuild(a: ActionRequest): Promise<Answer> {
  const { req, server: s } = a;
  const c = req.server.kova.caches;
  const b = validate<{ imageRef: string; name?: string; adminPass?: string; metadata?: Record<string, string>; description?: string | null; key_name?: string | null; user_data?: string | null; hostname?: string; preserve_ephemeral?: boolean; accessIPv4?: string; accessIPv6?: string; personality?: InjectedFile[] }>(rebuildSchema(req.nova.version), a.arg);
  const img = c.image(b.imageRef.split('/').at(-1) ?? '');
  if (!img || !canUseImage(img, { namespace: s.metadata.namespace ?? '' })) throw badRequest('Invalid imageRef provided.');
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
  // Before 2.57: personality files, written by cloud-init on the rebuilt disk's first boot.
  const files = b.personality ?? [];
  checkInjectedFiles(files, limitsFor(c, req.server.kova.cfg, s.metadata.namespace ?? '', req.nova.caller.user));
  if (files.length) {
    const kept = s.spec.userData ? await currentUserData(req, s.spec.userData.secretName, s.metadata.namespace ?? '') : undefined;
    spec.userData = { secretName: await writeUserData(req, s, userDataWithFiles(kept, files, `==kova-${randomUUID()}==`)) };
  }
  const password = requestedPassword(req, b.adminPass);
  if (password !== undefined) spec.adminPassword = { secretName: await writePasswordSecret(req, s, password) };
  const updated = await patch(a, spec, accessIpAnnotations(b));
  return { code: 202, body: serverRebuilt(await viewContext(req), updated, serverViewInputs(c, updated), b.user_data, shownPassword(req, password)) };
}

/**
 * The user data a server keeps at a rebuild with personality files (before 2.57), read by the API
 * itself: members create their servers' user-data Secrets but may not read them. Without the right
 * to read it the files cannot be added without losing the user data: Kova's 400.
 */
async function currentUserData(req: FastifyRequest, secretName: string, namespace: string): Promise<string | undefined> {
  try {
    return (await req.server.kova.client.find<Secret>(SECRETS, secretName, namespace))?.data?.userdata;
  } catch (e) {
    if (e instanceof KubeError && e.code === 403) {
      throw badRequest('Kova cannot add personality files to a server that has user data when rebuilding it: rebuild at microversion 2.57 or later with user_data that writes the files.');
    }
    throw e;
  }
}

/** The server's user-data Secret (owned by the Server), written as the caller. */
async function writeUserData(req: FastifyRequest, s: Server, data: string): Promise<string> {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw badRequest("Invalid input for field/attribute user_data. Value: the given user_data. 'user_data' is not a 'base64'");
  // A new Secret per rebuild: members may create Secrets, not rewrite them.
  const name = `${s.metadata.name}-user-data-${req.requestId.slice(-8).toLowerCase()}`;
  await callerClient(req).create(SECRETS, {
    apiVersion: 'v1', kind: 'Secret',
    metadata: { name, namespace: s.metadata.namespace, ownerReferences: [ownerReference(s, API_VERSION, 'Server')] },
    type: 'Opaque', data: { userdata: data },
  });
  return name;
}

async function migrate(a: ActionRequest): Promise<Answer> {
  const { req, server: s } = a;
  const b = validate<{ host?: string | null } | null>(migrateSchema(req.nova.version), a.arg ?? null);
  const host = b?.host ?? undefined;
  if (host) {
    if (!req.server.kova.caches.nodes.get(host)) throw badRequest(`Compute host ${host} could not be found.`);
    if (host === s.status?.host) throw badRequest(`Unable to migrate instance (${s.metadata.uid}) to current host (${host}).`);
  }
  await patch(a, { migrate: { requestId: req.requestId, live: false, ...(host ? { host } : {}) } });
}

async function liveMigrate(a: ActionRequest): Promise<Answer> {
  const { req, server: s } = a;
  const b = validate<{ host?: string | null }>(liveMigrateSchema(req.nova.version), a.arg);
  const host = b.host ?? undefined;
  if (host) {
    if (!req.server.kova.caches.nodes.get(host)) throw badRequest(`Compute host ${host} could not be found.`);
    if (host === s.status?.host) throw badRequest(`The supplied hypervisor type of is invalid. Unable to migrate instance (${s.metadata.uid}) to current host (${host}).`);
  }
  await patch(a, { migrate: { requestId: req.requestId, live: true, ...(host ? { host } : {}) } });
}

async function evacuate(a: ActionRequest): Promise<Answer> {
  const { req, server: s } = a;
  const nodes = req.server.kova.caches.nodes;
  const b = validate<{ host?: string; adminPass?: string; onSharedStorage?: boolean | string }>(evacuateSchema(req.nova.version), a.arg ?? {});
  // Before 2.14 the caller says whether the disk is kept (shared storage): then no new password.
  const shared = !req.nova.version.atLeast('2.14') && ['true', '1', 'yes', 'on', 'y', 't'].includes(String(b.onSharedStorage).toLowerCase());
  if (shared && b.adminPass !== undefined) throw badRequest("admin password can't be changed on existing disk");
  const source = s.status?.host ? nodes.get(s.status.host) : undefined;
  if (source && isReady(source) && !forcedDown(source)) throw badRequest(`Compute service of ${source.metadata.name} is still in use.`);
  if (b.host && !nodes.get(b.host)) throw notFound(`Compute host ${b.host} not found.`);
  if (b.host && b.host === s.status?.host) throw badRequest(`The target host can't be the same one.`);
  const password = shared ? undefined : requestedPassword(req, b.adminPass);
  const adminPassword = password !== undefined ? { secretName: await writePasswordSecret(req, s, password) } : undefined;
  await patch(a, { evacuate: { requestId: req.requestId, ...(b.host ? { host: b.host } : {}) }, ...(adminPassword ? { adminPassword } : {}) });
  const shown = shared && req.server.kova.cfg.enableInstancePassword !== false ? { adminPass: null } : shownPassword(req, password);
  return { code: 200, body: evacuated(await viewContext(req), shown) ?? {} };
}

async function resetState(a: ActionRequest): Promise<Answer> {
  const b = validate<{ state: 'active' | 'error' }>(RESET_STATE, a.arg);
  await patch(a, { resetState: { requestId: a.req.requestId, state: b.state } });
}

async function unshelve(a: ActionRequest): Promise<Answer> {
  const { req, server: s } = a;
  const b = validate<{ availability_zone?: string | null; host?: string } | null>(unshelveSchema(req.nova.version), a.arg ?? null);
  if (b?.host) await requireAdmin(req, 'os_compute_api:os-shelve:unshelve_to_host');
  const spec: Record<string, unknown> = { powerState: 'Running' };
  if (b && (b.availability_zone !== undefined || b.host)) {
    if (s.status?.vmState !== 'shelved_offloaded') throw conflict(`The availability_zone or host can only be given when unshelving a server in vm_state shelved_offloaded.`);
    if (b.availability_zone !== undefined) spec.availabilityZone = b.availability_zone;
    if (b.host) {
      const n = req.server.kova.caches.nodes.get(b.host);
      if (!n) throw badRequest(`Compute host ${b.host} could not be found.`);
      spec.availabilityZone = n.metadata.labels?.[ZONE_LABEL] ?? spec.availabilityZone;
    }
  }
  await patch(a, spec);
}

/** createImage / createBackup: the image id is fixed now and the controller copies the root disk. */
async function snapshot(a: ActionRequest): Promise<Answer> {
  const backup = a.action === 'createBackup';
  const b = backup
    ? validate<{ name: string; backup_type: string; rotation: number | string; metadata?: Record<string, string> }>(CREATE_BACKUP, a.arg)
    : validate<{ name: string; metadata?: Record<string, string> }>(CREATE_IMAGE, a.arg);
  const imageId = randomUUID();
  const bb = b as { backup_type?: string; rotation?: number | string };
  const extra = backup ? { backupType: bb.backup_type, rotation: Number(bb.rotation) } : {};
  await patch(a, { createImage: { requestId: a.req.requestId, imageId, name: b.name, ...(b.metadata ? { metadata: b.metadata } : {}), ...extra } });
  const created = imageCreated(await viewContext(a.req), imageId);
  return { code: 202, body: created.body, ...(created.location ? { headers: { location: created.location } } : {}) };
}

async function rescue(a: ActionRequest): Promise<Answer> {
  const b = validate<{ adminPass?: string; rescue_image_ref?: string } | null>(RESCUE, a.arg ?? null);
  let image: string | undefined;
  if (b?.rescue_image_ref) {
    const d = a.req.server.kova.caches.image(b.rescue_image_ref);
    if (!d || !canUseImage(d, { namespace: a.server.metadata.namespace ?? '' })) throw badRequest(`Image ${b.rescue_image_ref} could not be found.`);
    image = d.metadata.name;
  }
  // The rescue guest's own password; at unrescue the server's password comes back.
  const password = requestedPassword(a.req, b?.adminPass);
  const adminPassword = password !== undefined ? { secretName: await writePasswordSecret(a.req, a.server, password) } : undefined;
  await patch(a, { rescue: { requestId: a.req.requestId, ...(image ? { image } : {}), ...(adminPassword ? { adminPassword } : {}) } });
  return { code: 200, body: rescued(shownPassword(a.req, password)) };
}

async function unrescue(a: ActionRequest): Promise<Answer> {
  await patch(a, { rescue: null });
}

async function forceDelete({ req, server: s }: ActionRequest): Promise<Answer> {
  await callerClient(req).delete(SERVERS, s.metadata.name ?? '', s.metadata.namespace, { uid: s.metadata.uid });
  return { code: 202 };
}

/**
 * A new password for the running guest (docs/adr/016): a new Secret, named by the spec; KubeVirt's
 * guest agent sets it without a restart. When the guest agent does not answer, Nova's answer for a
 * libvirt guest whose agent is unresponsive: 501.
 */
async function changePassword(a: ActionRequest): Promise<Answer> {
  const b = validate<{ adminPass: string }>(CHANGE_PASSWORD, a.arg);
  if (guestAgentOffline(a.server)) throw new NovaError(501, 'Unable to set password on instance');
  await patch(a, { adminPassword: { secretName: await writePasswordSecret(a.req, a.server, b.adminPass) } });
}

/** Accepted and done: the pod network needs nothing injected (Nova's libvirt driver does nothing either). */
async function injectNetworkInfo(): Promise<Answer> {}

async function triggerCrashDump({ req }: ActionRequest): Promise<Answer> {
  if (!req.nova.version.atLeast('2.17')) throw badRequest('There is no such action: trigger_crash_dump');
  throw badRequest('Triggering crash dump is not supported');
}

async function lock(a: ActionRequest): Promise<Answer> {
  const { req, arg } = a;
  const reason = arg && typeof arg === 'object' ? (arg as { locked_reason?: string }).locked_reason : undefined;
  if (reason !== undefined && !req.nova.version.atLeast('2.73')) throw badRequest("Additional properties are not allowed ('locked_reason' was unexpected)");
  if (arg !== null && arg !== undefined) validate(LOCK, arg, 'body');
  await patch(a, { locked: true, lockedReason: reason ?? null, lockedBy: (await req.nova.isAdmin()) ? 'admin' : 'owner' });
}

async function unlock(a: ActionRequest): Promise<Answer> {
  if (a.server.spec.lockedBy === 'admin' && !(await a.req.nova.isAdmin())) throw forbidden(`Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.`);
  await patch(a, { locked: false, lockedReason: null, lockedBy: null });
}

/** Every action Kova carries out, by its name in the request body. */
const ACTIONS: Record<string, ActionHandler> = {
  ...POWER_ACTIONS,
  reboot,
  resize,
  confirmResize,
  revertResize,
  rebuild,
  migrate,
  'os-migrateLive': liveMigrate,
  evacuate,
  'os-resetState': resetState,
  unshelve,
  createImage: snapshot,
  createBackup: snapshot,
  rescue,
  unrescue,
  forceDelete,
  changePassword,
  trigger_crash_dump: triggerCrashDump,
  injectNetworkInfo,
  lock,
  unlock,
};
