// Flavor → VirtualMachineClusterInstancetype (public) or one VirtualMachineInstancetype per project
// namespace with access (private). Unsupported extra specs make Ready=False naming them, and the
// instancetype is then left as it was: servers using the flavor go to ERROR rather than run wrong.
import { FLAVORS, type Flavor, type FlavorStatus } from '../api/flavor.ts';
import { API_VERSION } from '../api/group.ts';
import { setCondition } from '../kube/conditions.ts';
import { controllerOf, ownerReference, splitKey } from '../kube/types.ts';
import { CLUSTER_INSTANCETYPES, INSTANCETYPES, type Instancetype } from '../kubevirt/types.ts';
import { type ControllerDeps } from './deps.ts';
import { FLAVOR_ID_ANNOTATION, FLAVOR_LABEL, FLAVOR_NAME_ANNOTATION, MANAGED_BY } from '../api/labels.ts';
import { instancetypeFor } from './flavor-instancetype.ts';
import { writeStatus } from '../kube/status.ts';

export async function reconcileFlavor(ctx: ControllerDeps, key: string): Promise<void> {
  const flavor = ctx.caches.flavors.get(splitKey(key).name);
  if (!flavor) return; // its instancetypes are owned by it: garbage collection removes them
  const name = flavor.metadata.name ?? '';
  const gen = flavor.metadata.generation;
  const { spec, unsupported } = instancetypeFor(flavor.spec, ctx.cfg);
  const isPublic = flavor.spec.isPublic !== false;
  const instancetype = { kind: isPublic ? 'VirtualMachineClusterInstancetype' : 'VirtualMachineInstancetype', name };
  let conditions = flavor.status?.conditions;

  if (unsupported.length) {
    const message = unsupported.map((u) => `${u.key}: ${u.reason}`).join('; ');
    conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: 'UnsupportedExtraSpec', message: `unsupported extra specs: ${message}`, observedGeneration: gen });
    await ctx.events.record(flavor, 'Warning', 'UnsupportedExtraSpec', 'Reconcile', message);
    await writeStatus(ctx.client, FLAVORS, flavor, statusOf(flavor, conditions, instancetype));
    return;
  }

  const object = (namespace?: string): Instancetype => ({
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { ...MANAGED_BY, [FLAVOR_LABEL]: name },
      annotations: { [FLAVOR_ID_ANNOTATION]: flavor.spec.id ?? name, [FLAVOR_NAME_ANNOTATION]: flavor.spec.name },
      ownerReferences: [ownerReference(flavor, API_VERSION, 'Flavor')],
    },
    spec,
  });

  if (isPublic) {
    const existing = ctx.caches.clusterInstancetypes.get(name);
    if (existing && controllerOf(existing)?.uid !== flavor.metadata.uid) {
      conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason: 'InstancetypeConflict', message: `VirtualMachineClusterInstancetype ${name} exists and is not managed by this flavor`, observedGeneration: gen });
      await writeStatus(ctx.client, FLAVORS, flavor, statusOf(flavor, conditions, instancetype));
      return;
    }
    await ctx.client.apply(CLUSTER_INSTANCETYPES, object());
  } else {
    // Flavor access: a copy in every project namespace listed, none elsewhere.
    const allowed = new Set(flavor.spec.projects ?? []);
    const wanted = ctx.caches.namespaces.list().filter((ns) => allowed.has(ctx.caches.projectIdOf(ns.metadata.name ?? '') ?? '') || allowed.has(ns.metadata.name ?? ''));
    const wantedNames = new Set(wanted.map((ns) => ns.metadata.name));
    await Promise.all(wanted.map((ns) => ctx.client.apply(INSTANCETYPES, object(ns.metadata.name))));
    const stale = ctx.caches.instancetypes.list().filter((it) => it.metadata.labels?.[FLAVOR_LABEL] === name && !wantedNames.has(it.metadata.namespace));
    await Promise.all(stale.map((it) => ctx.client.delete(INSTANCETYPES, name, it.metadata.namespace)));
  }
  conditions = setCondition(conditions, { type: 'Ready', status: 'True', reason: 'InstancetypeReady', message: `${instancetype.kind} ${name} is up to date`, observedGeneration: gen });
  await writeStatus(ctx.client, FLAVORS, flavor, statusOf(flavor, conditions, instancetype));
}

function statusOf(flavor: Flavor, conditions: FlavorStatus['conditions'], instancetype: { kind: string; name: string }): FlavorStatus {
  return { observedGeneration: flavor.metadata.generation, instancetype, conditions };
}
