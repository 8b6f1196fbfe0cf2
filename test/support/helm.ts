// The Helm chart as `helm template` renders it, for unit tests (helm built once into ~/.cache/kova
// by test/tools/build.sh helm, as for the ship test).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../src/controlplane/controlplane.ts';

interface Rendered { kind?: string; metadata?: { name?: string }; spec?: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } }

/** The chart's objects rendered with `--set` values. */
export function helmTemplate(...set: string[]): Rendered[] {
  const bin = execFileSync('bash', [join(REPO_ROOT, 'test', 'tools', 'build.sh'), 'helm'], { encoding: 'utf8', timeout: 900_000 }).trim().split('\n').pop() ?? '';
  return parseAllDocuments(execFileSync(join(bin, 'helm'), ['template', 'kova', 'charts/kova', ...set.flatMap((x) => ['--set', x])], { cwd: REPO_ROOT, encoding: 'utf8' })).map((d) => d.toJS() as Rendered);
}

/** An environment variable of a Deployment's first container, as rendered. */
export function deploymentEnv(docs: Rendered[], deployment: string, name: string): string | undefined {
  const d = docs.find((x) => x?.kind === 'Deployment' && x.metadata?.name === deployment);
  return d?.spec?.template.spec.containers[0]?.env?.find((e) => e.name === name)?.value;
}
