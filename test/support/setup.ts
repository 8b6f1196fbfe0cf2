// node --test global setup: one real control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) for all integration test files, with Kova's CRDs and KubeVirt's real CRDs.
// Test files find it through KOVA_TEST_KUBECONFIG; teardown always stops every process.
// Also fetches Nova's API-sample templates the conformance suites read (test/tools/nova-samples.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlane, ensureBinaries } from '../../src/controlplane/controlplane.ts';
import { crdsInDir, installCrds, kovaCrds, kubevirtCrdDir } from '../../src/controlplane/crds.ts';
import { KubeVirtComponents, kubevirtBuild } from '../../src/controlplane/kubevirt.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { prepareNovaSamples } from '../tools/nova-samples.ts';

let cp: ControlPlane | undefined;

export async function globalSetup(): Promise<void> {
  prepareNovaSamples();
  const binDir = await ensureBinaries((line) => process.stderr.write(line + '\n'));
  const kubevirt = kubevirtCrdDir();
  if (!kubevirt) throw new Error('KubeVirt CRDs not found: expected ../shared/kubevirt/crds beside the checkout (or set KOVA_KUBEVIRT_CRDS)');
  cp = new ControlPlane({
    dir: mkdtempSync(join(tmpdir(), 'kova-test-')),
    binDir,
    log: (l) => process.stderr.write(`control plane: ${l}\n`),
    beforeControllers: async (kubeconfig) => {
      const client = await KubeClient.load(kubeconfig);
      await installCrds(client, [...kovaCrds(), ...crdsInDir(kubevirt)]);
      client.close();
    },
  });
  await cp.start();
  // Real virt-api: its webhooks check every VM and VMI, and it serves subresources.kubevirt.io.
  const kv = kubevirtBuild();
  if (kv) {
    const started = cp;
    const components = new KubeVirtComponents({
      dir: started.dir, binDir: kv.binDir, installDir: kv.installDir, controller: false,
      apiServerUrl: started.apiServerUrl, apiServerCa: started.servingCa(), adminToken: started.token,
      launch: (name, bin, args) => started.launch(name, bin, args), exited: (name) => started.hasExited(name),
      log: (l) => process.stderr.write(`kubevirt: ${l}\n`),
    });
    const client = await KubeClient.load(started.kubeconfigPath);
    await components.start(client);
    client.close();
    process.env.KOVA_TEST_KUBEVIRT_HANDLER = components.handlerRef;
  }
  process.env.KOVA_TEST_KUBECONFIG = cp.kubeconfigPath;
  process.env.KOVA_TEST_BIN = binDir;
}

export async function globalTeardown(): Promise<void> {
  await cp?.stop();
}
