// node --test global setup for the robustness suite: only the builds (the control plane's and
// KubeVirt's binaries, KubeVirt's and CDI's CRDs). Each robustness file starts a control plane of
// its own (test/robustness/cluster.ts), because each one breaks it on purpose.
import { ensureBinaries } from '../../src/controlplane/controlplane.ts';
import { kubevirtCrdDir } from '../../src/controlplane/crds.ts';
import { kubevirtBuild } from '../../src/controlplane/kubevirt.ts';

export async function globalSetup(): Promise<void> {
  const progress = (line: string): void => void process.stderr.write(line + '\n');
  // Both builds side by side on a cold machine (docs/adr/024-cold-start.md); instant once cached.
  [process.env.KOVA_TEST_BIN] = await Promise.all([ensureBinaries(progress), kubevirtBuild(progress)]);
  process.env.KOVA_ROBUSTNESS_KUBEVIRT_CRDS = await kubevirtCrdDir(progress);
}
