// A control plane of the robustness file's own, with real virt-api and virt-controller, pointed at by
// the same environment the integration helpers read (test/support/cluster.ts), so a file can use
// startKova, startApi and spawnController unchanged — and then break this control plane.
import type { ControlPlane } from '../../src/controlplane/controlplane.ts';
import { kubevirtBuild, startKubeVirt } from '../../src/controlplane/kubevirt.ts';
import { startControlPlane } from '../support/controlplane.ts';

export async function startOwnControlPlane(o: { apiServerArgs?: string[] } = {}): Promise<ControlPlane> {
  const kv = await kubevirtBuild();
  const cp = await startControlPlane({ prefix: 'kova-robust-', apiServerArgs: o.apiServerArgs, log: (l: string) => process.stderr.write(`control plane: ${l}\n`) });
  const components = await startKubeVirt(cp, kv);
  process.env.KOVA_TEST_KUBEVIRT_HANDLER = components.handlerRef;
  process.env.KOVA_TEST_KUBECONFIG = cp.kubeconfigPath;
  process.env.KOVA_TEST_DIR = cp.dir;
  return cp;
}
