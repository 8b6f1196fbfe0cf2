// `kova dev` started by a test as a user starts it (a child process in a folder of its own), on a
// port the kernel picks (`--port 0`: a port found free beforehand can be taken by one of the
// sandbox's own connections before the API listens). Waits for "Kova sandbox is up."; if the
// sandbox exits or does not come up, fails with everything it printed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/controlplane/controlplane.ts';
import { sleep } from '../../src/kube/informer.ts';

export interface Sandbox {
  /** All it printed so far (stdout and stderr). */
  output(): string;
  /** Ctrl-C; resolves with its exit code. */
  stop(): Promise<number | null>;
}

export async function startSandbox(cwd: string, args: string[] = [], timeoutMs = 180_000): Promise<Sandbox> {
  let out = '';
  const child = spawn(process.execPath, [join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'dev', '--port', '0', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r((code = c))));
  // Up, or exited, or out of time: whichever comes first.
  const deadline = Date.now() + timeoutMs;
  while (!out.includes('Kova sandbox is up.')) {
    if (code !== undefined || Date.now() > deadline) {
      child.kill('SIGINT');
      throw new Error(`${code !== undefined ? `kova dev exited (${code}) before it was up` : `kova dev was not up after ${timeoutMs / 1000} s`}; it printed:\n${out}`);
    }
    await sleep(100);
  }
  return {
    output: () => out,
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
