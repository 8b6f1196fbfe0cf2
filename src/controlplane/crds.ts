// Installs CustomResourceDefinitions and waits until the apiserver serves them; finds (generating
// them once) KubeVirt's and CDI's.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject, ResourceType } from '../kube/types.ts';
import { sleep } from '../kube/informer.ts';
import { renderCrds } from '../api/index.ts';
import { runBuildScript } from './controlplane.ts';

export const CRDS: ResourceType = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };

/**
 * KubeVirt's and CDI's CRDs: $KOVA_KUBEVIRT_CRDS when set, else the ones generated from the Go modules
 * pinned in test/tools/kubevirt and test/tools/cdi (virt-operator's and cdi-operator's own code), by
 * `test/tools/build.sh kubevirt-crds` into ~/.cache/kova/kubevirt-<version>-cdi-<version>/crds —
 * generated on the first call (a minute or two; progress lines go to onProgress), reused afterwards.
 */
export async function kubevirtCrdDir(onProgress: (line: string) => void = () => {}): Promise<string> {
  const fromEnv = process.env.KOVA_KUBEVIRT_CRDS;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`KOVA_KUBEVIRT_CRDS=${fromEnv} does not exist`);
    return fromEnv;
  }
  return join(await runBuildScript(['kubevirt-crds'], onProgress), 'crds');
}

export function readYamlObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as KubeObject | null)
    .filter((o): o is KubeObject => !!o && typeof o === 'object');
}

export function crdsInDir(dir: string): KubeObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .flatMap((f) => readYamlObjects(readFileSync(join(dir, f), 'utf8')));
}

/** Kova's own CRDs, rendered from src/api (the same text as crds/*.yaml). */
export const kovaCrds = (): KubeObject[] => [...renderCrds().values()].flatMap(readYamlObjects);

export async function installCrds(client: KubeClient, crds: KubeObject[], timeoutMs = 60_000): Promise<void> {
  await Promise.all(crds.map((crd) => client.apply(CRDS, crd, { fieldManager: 'kova-install' })));
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const live = await client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(CRDS, crd.metadata.name ?? '');
      if (live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not established`);
      await sleep(100);
    }
  }
}
