// Carrying out a decision: the VM applied, the status written once, then the effects — each
// guarded (uid preconditions, "already exists" ignored) so a repeat after a restart does nothing.
import { API_VERSION } from '../../api/group.ts';
import { BACKUP_TYPE_LABEL, HOSTNAME_LABEL, SERVER_PASSWORD_ANNOTATION, IMAGE_ID_LABEL, IMAGE_NAME_ANNOTATION, IMAGE_OWNER_ANNOTATION, IMAGE_PROPERTY_PREFIX, SERVER_LABEL, SOURCE_SERVER_LABEL } from '../../api/labels.ts';
import { SERVERS, type Operation, type Server } from '../../api/server.ts';
import { isAlreadyExists, isConflict, resourcePath } from '../../kube/client.ts';
import { writeStatus } from '../../kube/status.ts';
import { ownerReference, SECRETS, type Secret } from '../../kube/types.ts';
import { encryptedPassword, PASSWORD_KEY } from '../../nova/password.ts';
import type { PasswordStep } from './password.ts';
import { DATA_SOURCES, DATA_VOLUMES, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES, VMI_SUBRESOURCES, type DataSource, type CachedVirtualMachineInstance  } from '../../kubevirt/types.ts';
import type { ControllerDeps } from '../deps.ts';
import { SERVER_GROUPS, type ServerGroup } from '../../api/server-group.ts';
import { freeSlot, groupMembers, perHost } from '../../nova/server-groups.ts';
import type { Decision, Effect } from './decide.ts';
import { backupTypeLabel, credentialsSecretName, imageVolumeName, rootVolumeName } from './vm.ts';

/** Applies, writes status, runs the effects. Returns the requeue delay the decision asked for. */
export async function act(deps: ControllerDeps, server: Server, vmi: CachedVirtualMachineInstance | undefined, d: Decision): Promise<{ requeueAfterMs?: number } | void> {
  // A password is copied before the status records it (a repeat copies the same again), never after.
  let current = server;
  let status = d.status;
  let requeueAfterMs = d.requeueAfterMs;
  const pw = d.password ? await setPassword(deps, server, d.password) : undefined;
  if (pw) current = pw;
  else if (d.password) {
    // The request Secret is not there (yet: the API writes it just after the Server it is owned
    // by): not recorded, tried again soon; nothing else waits for it.
    const was = server.status?.handledRequests ?? {};
    const handled = { ...status.handledRequests };
    for (const k of Object.keys(d.password.handled)) {
      if (was[k] === undefined) delete handled[k];
      else handled[k] = was[k];
    }
    status = { ...status, handledRequests: handled };
    requeueAfterMs = Math.min(requeueAfterMs ?? 2000, 2000);
  }
  const wrote = await writeStatus(deps.client, SERVERS, current, status);
  if (pw) for (const name of d.password?.superseded ?? []) await deps.client.delete(SECRETS, name, server.metadata.namespace);
  if (d.apply) {
    if (d.apply.keySecretName) await shareKeySecret(deps, server, d.apply.keySecretName);
    // The VM's accessCredentials name the credentials Secret: it must exist before a guest starts.
    if (!pw) await deps.client.create(SECRETS, credentialsSecret(server, {})).catch(ignoreExists);
    await deps.client.apply(VIRTUAL_MACHINES, d.apply.vm);
    if (d.apply.created) await deps.events.record(server, 'Normal', 'VirtualMachineCreated', 'Create', `created VirtualMachine ${server.metadata.name}`);
  }
  for (const e of [...(wrote ? d.onWrite : []), ...d.effects]) await run(deps, server, vmi, e);
  if (requeueAfterMs !== undefined) return { requeueAfterMs };
}

async function run(deps: ControllerDeps, server: Server, vmi: CachedVirtualMachineInstance | undefined, e: Effect): Promise<void> {
  const name = server.metadata.name ?? '';
  const namespace = server.metadata.namespace ?? '';
  switch (e.kind) {
    case 'event':
      return deps.events.record(server, e.type, e.reason, e.action, e.note);
    case 'pause':
    case 'unpause':
      try {
        await putSubresource(deps, namespace, name, e.kind);
      } catch (err) {
        // 409: virt-handler has not caught up with the last one yet; the next event brings us back.
        if (!isConflict(err)) throw err;
      }
      return;
    case 'deleteVMI':
      // Deletes the VMI with this uid; if it is already gone (or replaced), nothing happens.
      return void (await deps.client.delete(VIRTUAL_MACHINE_INSTANCES, name, namespace, { uid: e.uid, gracePeriodSeconds: e.gracePeriodSeconds }));
    case 'softReboot':
      return softReboot(deps, server, vmi, e.requestId);
    case 'createMigration':
      // KubeVirt's admission refuses a second migration of a VMI ("in-flight migration detected")
      // before the apiserver could answer "already exists": look first.
      if (await deps.client.find(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, e.name, namespace)) return;
      await deps.client.create(VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachineInstanceMigration',
        metadata: { name: e.name, namespace, labels: { [SERVER_LABEL]: name }, ownerReferences: [ownerReference(server, API_VERSION, 'Server')] },
        spec: { vmiName: name, ...(e.toHost ? { addedNodeSelector: { [HOSTNAME_LABEL]: e.toHost } } : {}) },
      }).catch(ignoreExists);
      return;
    case 'createImage':
      return createImage(deps, server, e.op);
    case 'rotateBackups':
      return rotateBackups(deps, server, e.backupType, e.rotation, e.imageId);
    case 'deleteVolume':
      return void (await deps.client.delete(DATA_VOLUMES, e.name, namespace, { uid: e.uid }));
    case 'claimGroupSlot':
      return claimGroupSlot(deps, server, e.group);
    case 'reclaim':
      return void (await deps.client.delete(SERVERS, name, namespace, { uid: server.metadata.uid }));
  }
}

/**
 * PUT to one of virt-api's VMI subresources (pause, unpause, softreboot) through the kube-apiserver.
 * virt-api's routes declare no response type: it answers 406 unless the request accepts any (as
 * virtctl's does).
 */
function putSubresource(deps: ControllerDeps, namespace: string, name: string, action: string): Promise<unknown> {
  return deps.client.request('PUT', resourcePath(VMI_SUBRESOURCES, namespace, name, action), { body: {}, headers: { accept: 'application/json, */*' } });
}

/** The server's credentials Secret (docs/adr/016): guest user → password, owned by the Server. */
function credentialsSecret(server: Server, data: Record<string, string>): Secret {
  return {
    apiVersion: 'v1', kind: 'Secret',
    metadata: { name: credentialsSecretName(server.metadata.name ?? ''), namespace: server.metadata.namespace, labels: { [SERVER_LABEL]: server.metadata.name ?? '' }, ownerReferences: [ownerReference(server, API_VERSION, 'Server')] },
    type: 'Opaque',
    data,
  };
}

/**
 * Copies the password of a request Secret into the credentials Secret, under the guest user alone
 * (KubeVirt's guest agent sets it in the running guest), and publishes its encrypted copy on the
 * Server for os-server-password. Returns the Server as written. The password is never logged.
 */
async function setPassword(deps: ControllerDeps, server: Server, p: PasswordStep): Promise<Server | undefined> {
  const ns = server.metadata.namespace ?? '';
  const request = await deps.client.find<Secret>(SECRETS, p.from, ns);
  // Only a Secret made for this server: one who may edit the spec but not read Secrets must not
  // get another Secret's value into a guest, or its encrypted copy into os-server-password.
  if (request && !request.metadata.ownerReferences?.some((o) => o.uid === server.metadata.uid)) {
    await deps.events.record(server, 'Warning', 'PasswordRefused', 'SetPassword', `Secret ${p.from} is not owned by this Server: a password request must be (docs/adr/016)`);
    return undefined;
  }
  const encoded = request?.data?.[PASSWORD_KEY];
  if (encoded === undefined) {
    // Reported once the API's own create race (Server first, then its Secret) is long over.
    if (Date.now() - Date.parse(server.metadata.creationTimestamp ?? '') > 30_000) {
      await deps.events.record(server, 'Warning', 'PasswordNotFound', 'SetPassword', `Secret ${p.from} has no key "${PASSWORD_KEY}"; the password is set once it does`);
    }
    return undefined;
  }
  const name = credentialsSecretName(server.metadata.name ?? '');
  const existing = await deps.client.find<Secret>(SECRETS, name, ns);
  if (!existing) await deps.client.create(SECRETS, credentialsSecret(server, { [p.user]: encoded }));
  else {
    const data: Record<string, string | null> = Object.fromEntries(Object.keys(existing.data ?? {}).map((k) => [k, null]));
    data[p.user] = encoded;
    await deps.client.mergePatch(SECRETS, name, ns, { data });
  }
  await deps.events.record(server, 'Normal', 'PasswordSet', 'SetPassword', `password of guest user ${p.user} set from Secret ${p.from}; the guest agent applies it`);
  if (p.publishWith === undefined) return server;
  const published = p.publishWith === null ? null : encryptedPassword(Buffer.from(encoded, 'base64').toString('utf8'), p.publishWith) ?? null;
  if ((server.metadata.annotations?.[SERVER_PASSWORD_ANNOTATION] ?? null) === published) return server;
  return deps.client.mergePatch<Server>(SERVERS, server.metadata.name ?? '', ns, { metadata: { annotations: { [SERVER_PASSWORD_ANNOTATION]: published } } });
}

const ignoreExists = (e: unknown): void => {
  if (!isAlreadyExists(e)) throw e;
};

/**
 * Makes the Server a co-owner of its key pair's Secret. Nova injects a key at build time, so deleting
 * the key pair must not take the key from servers built with it: garbage collection removes the
 * Secret only when its last owner (key pair or server) is gone. One field manager per server keeps
 * each owner reference its own under server-side apply.
 */
async function shareKeySecret(deps: ControllerDeps, server: Server, secretName: string): Promise<void> {
  const m = server.metadata;
  const ref = { apiVersion: API_VERSION, kind: 'Server', name: m.name ?? '', uid: m.uid ?? '', controller: false, blockOwnerDeletion: false };
  await deps.client.apply(SECRETS, { metadata: { name: secretName, namespace: m.namespace, ownerReferences: [ref] } }, { fieldManager: `kova-server-${m.uid}`, force: false });
}

/**
 * SOFT reboot through KubeVirt's softreboot subresource (the guest reboots, the VMI stays), once
 * claimed in status. When KubeVirt cannot (no ACPI or agent), Nova's fallback: a HARD reboot.
 */
async function softReboot(deps: ControllerDeps, server: Server, vmi: CachedVirtualMachineInstance | undefined, requestId: string): Promise<void> {
  if (!vmi) return;
  try {
    await putSubresource(deps, vmi.metadata.namespace ?? '', vmi.metadata.name ?? '', 'softreboot');
  } catch (e) {
    await deps.events.record(server, 'Warning', 'SoftRebootFailed', 'Reboot', `soft reboot refused (${(e as Error).message}); rebooting hard`);
    const current = await deps.client.get<Server>(SERVERS, server.metadata.name ?? '', server.metadata.namespace);
    await writeStatus(deps.client, SERVERS, current, { ...current.status, rebooting: { type: 'HARD', fromVMI: vmi.metadata.uid ?? '' } });
    return;
  }
  await deps.events.record(server, 'Normal', 'SoftRebooted', 'Reboot', `soft reboot ${requestId} sent to the guest`);
}

/** createImage / createBackup: the root disk copied into a DataVolume in the images namespace, and a DataSource on it. */
async function createImage(deps: ControllerDeps, server: Server, op: Operation): Promise<void> {
  const req = server.spec.createImage;
  const ns = deps.cfg.imagesNamespace;
  const id = op.imageId ?? '';
  const root = server.status?.rootVolume ?? rootVolumeName(server.metadata.name ?? '');
  const labels: Record<string, string> = { [IMAGE_ID_LABEL]: id, [SOURCE_SERVER_LABEL]: server.metadata.uid ?? '' };
  if (req?.backupType) labels[BACKUP_TYPE_LABEL] = backupTypeLabel(req.backupType);
  const annotations: Record<string, string> = { [IMAGE_NAME_ANNOTATION]: req?.name ?? id, [IMAGE_OWNER_ANNOTATION]: server.metadata.namespace ?? '' };
  for (const [k, v] of Object.entries(req?.metadata ?? {})) annotations[`${IMAGE_PROPERTY_PREFIX}property.${k}`] = v;
  await deps.client.create(DATA_VOLUMES, {
    apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataVolume',
    metadata: { name: imageVolumeName(id), namespace: ns, labels },
    spec: { source: { pvc: { namespace: server.metadata.namespace, name: root } }, storage: {} },
  }).catch(ignoreExists);
  await deps.client.create(DATA_SOURCES, {
    apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataSource',
    metadata: { name: imageVolumeName(id), namespace: ns, labels, annotations },
    spec: { source: { pvc: { namespace: ns, name: imageVolumeName(id) } } },
  }).catch(ignoreExists);
}

/** Backups beyond the rotation, oldest first, are deleted once a new one is made. */
async function rotateBackups(deps: ControllerDeps, server: Server, backupType: string, rotation: number, newest: string | undefined): Promise<void> {
  // Listed fresh, not from the cache: the backup just made must count.
  const mine = (await deps.client.list<DataSource>(DATA_SOURCES, { namespace: deps.cfg.imagesNamespace, labelSelector: `${SOURCE_SERVER_LABEL}=${server.metadata.uid},${BACKUP_TYPE_LABEL}=${backupTypeLabel(backupType)}` })).items
    .filter((d) => !d.metadata.deletionTimestamp)
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (b.metadata.labels?.[IMAGE_ID_LABEL] === newest ? 1 : 0) - (a.metadata.labels?.[IMAGE_ID_LABEL] === newest ? 1 : 0));
  for (const d of mine.slice(rotation)) {
    await deps.client.delete(DATA_SOURCES, d.metadata.name ?? '', d.metadata.namespace).catch(() => undefined);
    await deps.client.delete(DATA_VOLUMES, d.metadata.name ?? '', d.metadata.namespace).catch(() => undefined);
  }
}

/**
 * Records a slot for the server in its anti-affinity group's status: the least used among the
 * members' (docs/adr/020). The write is guarded by the group's resourceVersion, so two members
 * never take a slot from the same count; the loser retries (and the group's change requeues both).
 */
async function claimGroupSlot(deps: ControllerDeps, server: Server, group: string): Promise<void> {
  const namespace = server.metadata.namespace ?? '';
  const g = await deps.client.get<ServerGroup>(SERVER_GROUPS, group, namespace);
  const name = server.metadata.name ?? '';
  if (g.status?.slots?.[name] !== undefined) return;
  const members = new Set(groupMembers(g, deps.caches.servers.list(namespace)).map((s) => s.metadata.name));
  const slots = Object.fromEntries(Object.entries(g.status?.slots ?? {}).filter(([n]) => members.has(n)));
  slots[name] = freeSlot(perHost({ policy: g.spec.policy, maxServerPerHost: g.spec.rules?.maxServerPerHost }), Object.values(slots));
  // A merge patch would keep the slots of servers that left: the whole map is replaced.
  await deps.client.replace(SERVER_GROUPS, { ...g, status: { ...g.status, slots } }, 'status');
}
