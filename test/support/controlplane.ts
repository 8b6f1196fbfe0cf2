// A fresh control plane with Kova's, KubeVirt's and CDI's CRDs installed before its controllers
// start (so the garbage collector knows them from the start): what the integration set-up, the
// robustness files and the benchmarks each start.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane, ensureBinaries } from '../../src/controlplane/controlplane.ts';
import { crdsInDir, installCrds, kovaCrds, kubevirtCrdDir } from '../../src/controlplane/crds.ts';
import { KubeClient } from '../../src/kube/client.ts';

export async function startControlPlane(o: { prefix: string; apiServerArgs?: string[]; progress?: (line: string) => void; log?: (line: string) => void }): Promise<ControlPlane> {
  const binDir = await ensureBinaries(o.progress);
  const kubevirt = await kubevirtCrdDir(o.progress);
  const cp = new ControlPlane({
    dir: mkdtempSync(join(tmpdir(), o.prefix)),
    binDir,
    apiServerArgs: o.apiServerArgs,
    log: o.log,
    beforeControllers: async (kubeconfig) => {
      const client = await KubeClient.load(kubeconfig);
      await installCrds(client, [...kovaCrds(), ...crdsInDir(kubevirt)]);
      client.close();
    },
  });
  await cp.start();
  return cp;
}
