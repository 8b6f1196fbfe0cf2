// `kova dev` (what `npm run dev` runs), tried as a new user would: it comes up, writes its
// kubeconfig, serves the samples, and Ctrl-C stops every process it started.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FLAVORS, type Flavor } from '../../src/api/flavor.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { REPO_ROOT } from '../../src/controlplane/controlplane.ts';
import { kubevirtBuild } from '../../src/controlplane/kubevirt.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { NODES } from '../../src/kube/types.ts';
import { startSandbox } from '../support/sandbox.ts';
import { eventually } from '../support/waiting.ts';

test('kova dev: a sandbox cloud that runs the samples and stops cleanly on Ctrl-C', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kova-dev-'));
  const dev = await startSandbox(cwd, ['--step-ms', '50']);
  let code: number | null;
  try {
    const out = dev.output();
    // Real virt-api and virt-controller (there is no fallback), with their logs where it says.
    const logs = /KubeVirt's virt-api and virt-controller are running \(logs: (\S+), (\S+)\)/.exec(out);
    assert.ok(logs, `kova dev runs real KubeVirt:\n${out}`);
    assert.doesNotMatch(out, /the simulator plays it/);
    for (const f of [logs[1]!, logs[2]!]) assert.ok(existsSync(f) && statSync(f).size > 0, `${f} is written`);
    assert.match(logs[1]!, /\.kova\/dev\/state\/virt-api\.log$/, 'where the README says');
    assert.match(logs[2]!, /\.kova\/dev\/state\/virt-controller\.log$/);
    assert.match(out, /export KUBECONFIG=\.kova\/dev\/kubeconfig/);
    assert.match(out, /kubectl apply -k config\/samples\//);
    const kubeconfig = join(cwd, '.kova', 'dev', 'kubeconfig');
    assert.ok(existsSync(kubeconfig));
    const c = await KubeClient.load(kubeconfig);
    try {
      const nodes = await c.list(NODES);
      assert.deepEqual(nodes.items.map((n) => n.metadata.name).sort(), ['compute-1', 'compute-2', 'compute-3']);
      // Availability zones are aggregates, whose controller labels the Nodes.
      await eventually('two zones on the Nodes', async () => {
        const l = await c.list(NODES);
        return new Set(l.items.map((n) => n.metadata.labels?.['topology.kubernetes.io/zone']).filter(Boolean)).size === 2;
      });
      const flavors = await eventually('classic flavors Ready', async () => {
        const l = await c.list<Flavor>(FLAVORS);
        return l.items.length === 5 && l.items.every((f) => f.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) ? l.items : undefined;
      });
      assert.deepEqual(flavors.map((f) => f.spec.name).sort(), ['m1.large', 'm1.medium', 'm1.small', 'm1.tiny', 'm1.xlarge']);

      // The README's next step, with the kubectl built alongside the control plane.
      const bin = /export PATH=(\S+):\$PATH/.exec(out)?.[1] ?? '';
      execFileSync(join(bin, 'kubectl'), ['apply', '-k', join(REPO_ROOT, 'config', 'samples')], { cwd, env: { ...process.env, KUBECONFIG: kubeconfig } });
      const web = await eventually('web-1 ACTIVE', async () => {
        const s = await c.find<Server>(SERVERS, 'web-1', 'demo');
        return s?.status?.status === 'ACTIVE' ? s : undefined;
      }, 60_000);
      assert.match(web.status?.host ?? '', /^compute-[12]$/, 'zone-a holds compute-1 and compute-2');
      const table = execFileSync(join(bin, 'kubectl'), ['get', 'servers', '-n', 'demo'], { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8' });
      assert.match(table, /web-1\s+web-1\s+ACTIVE\s+Running\s+default=/);
    } finally {
      c.close();
    }
  } finally {
    code = await dev.stop();
  }
  assert.equal(code, 0, dev.output());
  assert.match(dev.output(), /kova dev: stopped\./);
  // "[.]kova" keeps pgrep from matching the shell that runs it.
  const left = execFileSync('bash', ['-c', `pgrep -f '${cwd}/[.]kova' || true`], { encoding: 'utf8' }).trim();
  assert.equal(left, '', 'no process of the sandbox is left');
});

test('kova dev: when real KubeVirt cannot start it stops, says why and where the logs are; nothing falls back', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kova-dev-'));
  // virt-api and virt-controller that fail at once, as a broken build would.
  const bin = join(cwd, 'broken-bin');
  mkdirSync(bin);
  for (const b of ['virt-api', 'virt-controller']) writeFileSync(join(bin, b), '#!/bin/sh\necho "cannot start (test)" >&2\nexit 3\n', { mode: 0o755 });
  const { installDir } = await kubevirtBuild();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'dev', '--port', '0'], {
    cwd, env: { ...process.env, KOVA_KUBEVIRT_BIN: bin, KOVA_KUBEVIRT_INSTALL: installDir }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('Kova sandbox is up.')) child.kill('SIGINT'); // a fallback: stop it, and fail below
  });
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 1, out);
  assert.match(out, /starting KubeVirt's virt-api and virt-controller failed: virt-api (exited during start|did not become ready within \d+s)\n.*The sandbox needs real KubeVirt/, out);
  assert.match(out, /Logs: \.kova\/dev\/kova\.log, \.kova\/dev\/virt-api\.log/);
  assert.doesNotMatch(out, /Kova sandbox is up|the simulator plays it/);
  assert.match(readFileSync(join(cwd, '.kova', 'dev', 'virt-api.log'), 'utf8'), /cannot start \(test\)/, 'virt-api\'s log is kept where the message says');
  assert.match(readFileSync(join(cwd, '.kova', 'dev', 'kova.log'), 'utf8'), /starting KubeVirt's virt-api and virt-controller failed/);
  const left = execFileSync('bash', ['-c', `pgrep -f '${cwd}/[.]kova' || true`], { encoding: 'utf8' }).trim();
  assert.equal(left, '', 'no process of the sandbox is left');
});
