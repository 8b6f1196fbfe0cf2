// Kova and kubectl as separate processes: `kova controller` spawned (so a test can kill it for
// real), and the kubectl built with the control plane, run against it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../src/controlplane/controlplane.ts';
import { kubeconfig } from './cluster.ts';

/** Starts `kova controller` as a child process (so a test can kill it for real). */
export function spawnController(o: { leaderElect?: boolean; metricsPort?: number; env?: Record<string, string> } = {}): ChildProcess {
  const args = ['controller', '--kubeconfig', kubeconfig(), '--metrics-port', String(o.metricsPort ?? 0), '--host', '127.0.0.1'];
  if (!o.leaderElect) args.push('--no-leader-elect');
  return spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'main.ts'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KOVA_LOG_LEVEL: 'error', ...o.env },
  });
}

const exec = promisify(execFile);

/** Runs the kubectl built with the control plane against it. */
export async function kubectl(...args: string[]): Promise<string> {
  const bin = process.env.KOVA_TEST_BIN;
  if (!bin) throw new Error('KOVA_TEST_BIN is not set');
  const { stdout } = await exec(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig(), ...args]);
  return stdout;
}
