// A real, local Kubernetes control plane: etcd, kube-apiserver (RBAC on), kube-controller-manager
// (garbage collection, namespaces, node lifecycle) and kube-scheduler, built from the Go modules
// pinned in test/tools and started on free loopback ports. Used by the tests and by `kova dev`.
//
// Every child runs under a small shell guard that kills it when this Node process goes away, even
// by SIGKILL, so no etcd or apiserver outlives the test run or the sandbox.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { request } from 'node:https';
import { stringify } from 'yaml';
import { sleep } from '../kube/informer.ts';
import { frontProxyArgs, kubeletClientArgs } from './certs.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** Builds (once) or finds the control-plane binaries; returns their directory. */
export const ensureBinaries = (onProgress: (line: string) => void = () => {}): Promise<string> => runBuildScript([], onProgress);

/** Runs test/tools/build.sh with args; resolves with the last line it prints (the directory built). */
export function runBuildScript(args: string[], onProgress: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(REPO_ROOT, 'test', 'tools', 'build.sh'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      for (const line of d.toString().split('\n')) if (line.startsWith('kova:')) onProgress(line);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(out.trim().split('\n').pop() ?? '');
      else reject(new Error(`test/tools/build.sh ${args.join(' ')} failed (exit ${code}):\n${err.slice(-4000)}`));
    });
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

// Runs "$@" (from $2 on) and kills it when process $1 (the Node parent) is gone or on TERM/INT.
const GUARD = 'parent=$1; shift; "$@" & child=$!; trap \'kill -TERM $child 2>/dev/null\' TERM INT; ' +
  'while kill -0 $parent 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done; kill -TERM $child 2>/dev/null; wait $child';

/**
 * Writes an AuthenticationConfiguration with these JWT authenticators (apiserver.config.k8s.io/v1
 * `jwt` entries, e.g. an OIDC issuer); the apiserver picks up a rewrite by itself. Atomic (rename),
 * so the apiserver never reads half a file.
 */
export function writeAuthenticationConfig(path: string, jwt: unknown[]): void {
  const doc = { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AuthenticationConfiguration', jwt };
  writeFileSync(`${path}.tmp`, JSON.stringify(doc, null, 2));
  renameSync(`${path}.tmp`, path);
}

export interface ControlPlaneOptions {
  /** Where state, certificates, logs and the kubeconfig go. Removed on stop unless `keepDir`. */
  dir: string;
  binDir: string;
  keepDir?: boolean;
  log?: (line: string) => void;
  /**
   * Runs once the apiserver is ready, before kube-controller-manager starts: install CRDs here so
   * the garbage collector knows their types from the start instead of after its next discovery.
   */
  beforeControllers?: (kubeconfigPath: string) => Promise<void>;
  /** More kube-apiserver flags (the robustness suite's watch storm: `--min-request-timeout`). */
  apiServerArgs?: string[];
}

export class ControlPlane {
  readonly dir: string;
  readonly kubeconfigPath: string;
  /**
   * The apiserver's structured authentication configuration (--authentication-config), which it
   * reloads when the file changes: rewrite it (setAuthenticationConfig) to add JWT authenticators.
   */
  readonly authenticationConfigPath: string;
  readonly token: string;
  apiServerUrl = '';
  readonly binDir: string;
  private readonly keepDir: boolean;
  private readonly procs: { name: string; bin: string; args: string[]; child: ChildProcess }[] = [];
  /** How to tell each restartable component is ready again. */
  private readonly readiness = new Map<string, () => Promise<boolean>>();
  private readonly restarting = new Set<string>();
  private readonly restartable = new Set<string>();
  private readonly apiServerArgs: string[];
  private readonly log: (line: string) => void;
  private readonly beforeControllers: ControlPlaneOptions['beforeControllers'];
  private stopping = false;
  private readonly exited = new Set<string>();
  private readonly onExit = (): void => this.killAll('SIGKILL');

  constructor(o: ControlPlaneOptions) {
    this.dir = o.dir;
    this.binDir = o.binDir;
    this.keepDir = o.keepDir ?? false;
    this.log = o.log ?? (() => {});
    this.beforeControllers = o.beforeControllers;
    this.apiServerArgs = o.apiServerArgs ?? [];
    this.kubeconfigPath = join(this.dir, 'kubeconfig');
    this.authenticationConfigPath = join(this.dir, 'authentication.yaml');
    this.token = randomBytes(24).toString('hex');
  }

  /** Starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler and waits until ready. */
  async start(): Promise<this> {
    mkdirSync(this.dir, { recursive: true });
    process.once('exit', this.onExit);
    const d = this.dir;
    try {
      mkdirSync(join(d, 'certs'), { recursive: true });
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(join(d, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
      writeFileSync(join(d, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
      writeFileSync(join(d, 'tokens.csv'), `${this.token},kova-admin,kova-admin,"system:masters"\n`);
      writeAuthenticationConfig(this.authenticationConfigPath, []);
      const aggregation = await frontProxyArgs(join(d, 'front-proxy'));
      if (!aggregation.length) this.log('openssl not found: no aggregation layer (the simulator cannot serve subresources.kubevirt.io)');
      const kubelet = await kubeletClientArgs(join(d, 'kubelet-client'));

      const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
      this.spawn('etcd', [
        `--name=kova`,
        `--data-dir=${join(d, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=kova=http://127.0.0.1:${etcdPeer}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ]);
      this.readiness.set('etcd', () => httpOk(`http://127.0.0.1:${etcdClient}/health`));
      await this.waitFor('etcd', this.readiness.get('etcd')!, 30_000);

      this.apiServerUrl = `https://127.0.0.1:${apiPort}`;
      this.spawn('kube-apiserver', [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        `--cert-dir=${join(d, 'certs')}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // The kubernetes Service endpoint cannot point at loopback; nothing here needs it.
        '--endpoint-reconciler-type=none',
        '--authorization-mode=RBAC',
        `--token-auth-file=${join(d, 'tokens.csv')}`,
        `--authentication-config=${this.authenticationConfigPath}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        // No kubelet mints pod service-account tokens here; the launcher pods need none.
        '--disable-admission-plugins=ServiceAccount',
        `--service-account-issuer=https://127.0.0.1:${apiPort}/`,
        `--service-account-key-file=${join(d, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(d, 'sa.key')}`,
        '--event-ttl=1h',
        // Simulated Nodes share this machine's loopback address; their names resolve nowhere.
        '--kubelet-preferred-address-types=InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP',
        '--v=0',
        ...aggregation,
        ...kubelet,
        ...this.apiServerArgs,
      ]);
      this.readiness.set('kube-apiserver', () => httpOk(`${this.apiServerUrl}/readyz`, this.token));
      await this.waitFor('kube-apiserver', this.readiness.get('kube-apiserver')!, 120_000);
      this.writeKubeconfig();
      await this.beforeControllers?.(this.kubeconfigPath);

      const kc = this.kubeconfigPath;
      this.spawn('kube-controller-manager', [
        `--kubeconfig=${kc}`,
        `--authentication-kubeconfig=${kc}`,
        `--authorization-kubeconfig=${kc}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(d, 'certs', 'kcm')}`,
        `--service-account-private-key-file=${join(d, 'sa.key')}`,
        `--root-ca-file=${join(d, 'certs', 'apiserver.crt')}`,
        '--use-service-account-credentials=false',
        // Nodes here are plain objects kept alive by the simulator's heartbeats.
        '--node-monitor-grace-period=60s',
        '--concurrent-gc-syncs=10',
        '--v=0',
      ]);
      this.spawn('kube-scheduler', [
        `--kubeconfig=${kc}`,
        `--authentication-kubeconfig=${kc}`,
        `--authorization-kubeconfig=${kc}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${schedPort}`,
        `--cert-dir=${join(d, 'certs', 'scheduler')}`,
        '--v=0',
      ]);
      await this.waitFor('kube-controller-manager', () => httpOk(`https://127.0.0.1:${kcmPort}/healthz`), 60_000);
      await this.waitFor('kube-scheduler', () => httpOk(`https://127.0.0.1:${schedPort}/healthz`), 60_000);
      return this;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private writeKubeconfig(): void {
    const cfg = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'kova', cluster: { server: this.apiServerUrl, 'certificate-authority-data': readFileSync(join(this.dir, 'certs', 'apiserver.crt')).toString('base64') } }],
      users: [{ name: 'kova-admin', user: { token: this.token } }],
      contexts: [{ name: 'kova', context: { cluster: 'kova', user: 'kova-admin' } }],
      'current-context': 'kova',
    };
    writeFileSync(this.kubeconfigPath, stringify(cfg), { mode: 0o600 });
  }

  private spawn(name: string, args: string[]): void {
    this.launch(name, join(this.binDir, name), args);
  }

  /**
   * Starts a process supervised like the control plane's own (log in `<dir>/<name>.log`, stopped with
   * it). With `restart`, one that exits on its own is started again a second later, as a Deployment's
   * pod would be (virt-controller exits when it loses its leader Lease, e.g. during an apiserver outage).
   */
  launch(name: string, bin: string, args: string[], o: { restart?: boolean } = {}): void {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run test/tools/build.sh`);
    if (o.restart) this.restartable.add(name);
    const out = createWriteStream(join(this.dir, `${name}.log`), { flags: 'a' });
    const child = spawn('bash', ['-c', GUARD, 'kova-guard', String(process.pid), bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    child.on('exit', (code, signal) => {
      this.exited.add(name);
      if (this.stopping || this.restarting.has(name)) return;
      if (this.restartable.has(name)) {
        this.log(`${name} exited (${signal ?? code}); starting it again`);
        setTimeout(() => {
          if (this.stopping || this.restarting.has(name)) return;
          this.exited.delete(name);
          this.launch(name, bin, args);
        }, 1000).unref();
        return;
      }
      this.log(`${name} exited unexpectedly (${signal ?? code}); see ${join(this.dir, `${name}.log`)}`);
    });
    const at = this.procs.findIndex((p) => p.name === name);
    if (at >= 0) this.procs[at] = { name, bin, args, child };
    else this.procs.push({ name, bin, args, child });
  }

  /**
   * Kills components (SIGKILL, as a crash or a node failure would), keeps them down for `downMs`,
   * then starts them again with the same flags and data, in the order they were first started,
   * each once the previous is ready (etcd before kube-apiserver). For the robustness suite.
   */
  async restart(names: string[], o: { downMs?: number } = {}): Promise<void> {
    const targets = this.procs.filter((p) => names.includes(p.name));
    for (const p of targets) this.restarting.add(p.name);
    try {
      for (const p of [...targets].reverse()) {
        if (!p.child.pid || p.child.exitCode !== null || p.child.signalCode !== null) continue;
        const gone = new Promise<void>((r) => p.child.once('exit', () => r()));
        try {
          process.kill(-p.child.pid, 'SIGKILL');
        } catch {
          continue;
        }
        await gone;
      }
      await sleep(o.downMs ?? 0);
      for (const p of targets) {
        this.exited.delete(p.name);
        this.launch(p.name, p.bin, p.args);
        const ready = this.readiness.get(p.name);
        if (ready) await this.waitFor(p.name, ready, 120_000);
      }
    } finally {
      for (const p of targets) this.restarting.delete(p.name);
    }
  }

  /** The apiserver's serving CA (its self-signed certificate). */
  servingCa(): Buffer {
    return readFileSync(join(this.dir, 'certs', 'apiserver.crt'));
  }

  /** Whether a launched process has exited. */
  hasExited(name: string): boolean {
    return this.exited.has(name);
  }

  /** The last lines of a component's log, for failure reports. */
  logTail(name: string, lines = 40): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  private killAll(signal: NodeJS.Signals): void {
    for (const { child } of this.procs) {
      if (child.pid && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    process.removeListener('exit', this.onExit);
    // Stop in reverse order so no component logs errors about a vanished apiserver for long.
    for (const { child } of [...this.procs].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        continue;
      }
      const timeout = sleep(5000).then(() => 'timeout' as const);
      if ((await Promise.race([exited, timeout])) === 'timeout') {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
        await exited;
      }
    }
    if (!this.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await probe()) return;
      if (this.exited.has(what)) throw new Error(`${what} exited during start:\n${this.logTail(what, 15)}`);
      await sleep(250);
    }
    throw new Error(`${what} did not become ready within ${timeoutMs / 1000}s:\n${this.logTail(what, 15)}`);
  }
}

/** True when `url` answers 200 (TLS not verified: this only probes readiness on loopback). */
export function httpOk(url: string, token?: string): Promise<boolean> {
  if (url.startsWith('http:')) return fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
  return new Promise((resolve) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const req = request(url, { rejectUnauthorized: false, headers, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
