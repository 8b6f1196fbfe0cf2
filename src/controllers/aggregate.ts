// Aggregate → labels on its Nodes: membership, the availability zone (topology.kubernetes.io/zone)
// and one label per metadata pair. Labels are server-side applied with one field manager per
// aggregate, so removing a host, a key or the aggregate removes exactly the labels it had set, and
// two aggregates that disagree on a label conflict instead of overwriting each other.
import { AGGREGATES, type Aggregate } from '../api/aggregate.ts';
import { setCondition } from '../kube/conditions.ts';
import { KubeError, isConflict } from '../kube/client.ts';
import { NODES, splitKey, type Condition } from '../kube/types.ts';
import type { ControllerDeps } from './deps.ts';
import { AGGREGATE_FINALIZER, aggregateMetadataLabel, memberLabel, ZONE_LABEL } from '../api/labels.ts';
import { writeStatus } from '../kube/status.ts';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const fieldManager = (a: Aggregate): string => `kova-aggregate-${a.metadata.uid}`;

export async function reconcileAggregate(ctx: ControllerDeps, key: string): Promise<void> {
  const agg = ctx.caches.aggregates.get(splitKey(key).name);
  if (!agg) return;
  const name = agg.metadata.name ?? '';
  const member = memberLabel(name);
  const labelledNodes = ctx.caches.nodes.list().filter((n) => n.metadata.labels?.[member] !== undefined);

  if (agg.metadata.deletionTimestamp) {
    await Promise.all(labelledNodes.map((n) => releaseLabels(ctx, agg, n.metadata.name ?? '')));
    if (agg.metadata.finalizers?.includes(AGGREGATE_FINALIZER)) await removeFinalizer(ctx, agg);
    return;
  }
  if (agg.spec.id === undefined) {
    // Nova aggregate ids are integers handed out once; the lowest never used above the rest.
    const used = ctx.caches.aggregates.list().map((a) => a.spec.id ?? 0);
    await ctx.client.mergePatch(AGGREGATES, name, undefined, { metadata: { resourceVersion: agg.metadata.resourceVersion }, spec: { id: Math.max(0, ...used) + 1 } });
    return;
  }
  if (!agg.metadata.finalizers?.includes(AGGREGATE_FINALIZER)) {
    await ctx.client.jsonPatch(AGGREGATES, name, undefined, [
      { op: 'test', path: '/metadata/resourceVersion', value: agg.metadata.resourceVersion },
      agg.metadata.finalizers ? { op: 'add', path: '/metadata/finalizers/-', value: AGGREGATE_FINALIZER } : { op: 'add', path: '/metadata/finalizers', value: [AGGREGATE_FINALIZER] },
    ]);
    return;
  }

  const gen = agg.metadata.generation;
  const problems: string[] = [];
  const labels: Record<string, string> = { [member]: 'true' };
  if (agg.spec.availabilityZone) labels[ZONE_LABEL] = agg.spec.availabilityZone;
  for (const [k, v] of Object.entries(agg.spec.metadata ?? {})) {
    if (LABEL_VALUE.test(v) && v.length <= 63) labels[aggregateMetadataLabel(k)] = v;
    else problems.push(`metadata ${k}: "${v}" cannot be a node label value (at most 63 letters, digits, "-", "_" or ".")`);
  }
  const hosts = new Set(agg.spec.hosts ?? []);
  for (const host of hosts) {
    if (!ctx.caches.nodes.get(host)) {
      problems.push(`host ${host} is not a Node`);
      continue;
    }
    try {
      await ctx.client.apply(NODES, { metadata: { name: host, labels } }, { fieldManager: fieldManager(agg), force: false });
    } catch (e) {
      if (!isConflict(e)) throw e;
      problems.push(`host ${host}: ${(e as KubeError).status?.message ?? 'label conflict'}`);
    }
  }
  await Promise.all(labelledNodes.filter((n) => !hosts.has(n.metadata.name ?? '')).map((n) => releaseLabels(ctx, agg, n.metadata.name ?? '')));

  const ready: Omit<Condition, 'lastTransitionTime'> = problems.length
    ? { type: 'Ready', status: 'False', reason: 'HostsNotLabelled', message: problems.join('; '), observedGeneration: gen }
    : { type: 'Ready', status: 'True', reason: 'HostsLabelled', message: `${hosts.size} host(s) labelled`, observedGeneration: gen };
  if (problems.length) await ctx.events.record(agg, 'Warning', ready.reason, 'Reconcile', ready.message);
  await writeStatus(ctx.client, AGGREGATES, agg, { observedGeneration: gen, conditions: setCondition(agg.status?.conditions, ready) });
}

/** Gives up every label this aggregate applied to `node`. */
async function releaseLabels(ctx: ControllerDeps, agg: Aggregate, node: string): Promise<void> {
  try {
    await ctx.client.apply(NODES, { metadata: { name: node } }, { fieldManager: fieldManager(agg), force: false });
  } catch (e) {
    if (!(e instanceof KubeError && e.code === 404)) throw e;
  }
}

async function removeFinalizer(ctx: ControllerDeps, agg: Aggregate): Promise<void> {
  const finalizers = (agg.metadata.finalizers ?? []).filter((f) => f !== AGGREGATE_FINALIZER);
  await ctx.client.jsonPatch(AGGREGATES, agg.metadata.name ?? '', undefined, [
    { op: 'test', path: '/metadata/resourceVersion', value: agg.metadata.resourceVersion },
    { op: 'replace', path: '/metadata/finalizers', value: finalizers },
  ]);
}
