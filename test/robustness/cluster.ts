// A control plane of the robustness file's own, with real virt-api and virt-controller, pointed at by
// the same environment the integration helpers read (test/support/cluster.ts), so a file can use
// startKova, startApi and spawnController unchanged — and then break this control plane.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane, ensureBinaries } from '../../src/controlplane/controlplane.ts';
import { crdsInDir, installCrds, kovaCrds, kubevirtCrdDir } from '../../src/controlplane/crds.ts';
import { kubevirtBuild, startKubeVirt } from '../../src/controlplane/kubevirt.ts';
import { KubeClient } from '../../src/kube/client.ts';

export async function startOwnControlPlane(o: { apiServerArgs?: string[] } = {}): Promise<ControlPlane> {
  const binDir = await ensureBinaries();
  const crds = await kubevirtCrdDir();
  const kv = await kubevirtBuild();
  const cp = new ControlPlane({
    dir: mkdtempSync(join(tmpdir(), 'kova-robust-')),
    binDir,
    apiServerArgs: o.apiServerArgs,
    log: (l) => process.stderr.write(`control plane: ${l}\n`),
    beforeControllers: async (kubeconfig) => {
      const client = await KubeClient.load(kubeconfig);
      await installCrds(client, [...kovaCrds(), ...crdsInDir(crds)]);
      client.close();
    },
  });
  await cp.start();
  const components = await startKubeVirt(cp, kv, { controller: true });
  process.env.KOVA_TEST_KUBEVIRT_HANDLER = components.handlerRef;
  process.env.KOVA_TEST_KUBECONFIG = cp.kubeconfigPath;
  process.env.KOVA_TEST_BIN = binDir;
  process.env.KOVA_TEST_DIR = cp.dir;
  return cp;
}

/** Runs `n` tasks, at most `limit` at a time. */
export async function pool(n: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) await task(next++);
  }));
}
