// node --test global setup: one real control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) for all integration test files, with Kova's CRDs and KubeVirt's and CDI's real CRDs
// (generated from their Go modules by test/tools/build.sh kubevirt-crds, or $KOVA_KUBEVIRT_CRDS).
// Test files find it through KOVA_TEST_KUBECONFIG; teardown always stops every process.
// Also fetches Nova's API-sample templates the conformance suites read (test/tools/nova-samples.ts).
import { ensureBinaries, type ControlPlane } from '../../src/controlplane/controlplane.ts';
import { kubevirtBuild, startKubeVirt } from '../../src/controlplane/kubevirt.ts';
import { startControlPlane } from './controlplane.ts';
import { prepareNovaSamples } from '../tools/nova-samples.ts';

let cp: ControlPlane | undefined;

export async function globalSetup(): Promise<void> {
  prepareNovaSamples();
  const progress = (line: string): void => void process.stderr.write(line + '\n');
  // Both builds side by side on a cold machine (docs/adr/024-cold-start.md); instant once cached.
  const [kv] = await Promise.all([kubevirtBuild(progress), ensureBinaries(progress)]);
  cp = await startControlPlane({ prefix: 'kova-test-', progress, log: (l) => process.stderr.write(`control plane: ${l}\n`) });
  // Real virt-api (its webhooks check every VM and VMI; it serves subresources.kubevirt.io) and real
  // virt-controller (VM → VMI → launcher pod, printableStatus, migrations); the simulator plays the Nodes.
  const components = await startKubeVirt(cp, kv);
  process.env.KOVA_TEST_KUBEVIRT_HANDLER = components.handlerRef;
  process.env.KOVA_TEST_KUBECONFIG = cp.kubeconfigPath;
  // Test files add JWT authenticators (an OIDC issuer they serve) by rewriting this file.
  process.env.KOVA_TEST_AUTHENTICATION_CONFIG = cp.authenticationConfigPath;
  process.env.KOVA_TEST_BIN = cp.binDir;
  process.env.KOVA_TEST_DIR = cp.dir; // the components' logs, for test/support/diagnostics.ts
}

export async function globalTeardown(): Promise<void> {
  await cp?.stop();
}
