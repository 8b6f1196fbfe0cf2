// npm run bench: every benchmark, each in its own process (so each measures its own memory), merged
// into one JSON document on stdout. Options: --servers N (the controller benchmark's server count:
// 200 by default; 1,000 and 5,000 are the larger runs), --only facade|controller|scale; KOVA_BENCH_SCALE_SERVERS sets the
// scale benchmark's 10,000.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { servers: { type: 'string' }, only: { type: 'string' } } });
const BENCHES: Record<string, { file: string; env?: Record<string, string> }> = {
  facade: { file: 'facade.bench.ts' },
  controller: { file: 'controller.bench.ts', env: values.servers ? { KOVA_BENCH_THROUGHPUT_SERVERS: values.servers } : {} },
  scale: { file: 'scale.bench.ts' },
};

function run(file: string, env: Record<string, string> = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(import.meta.dirname, file)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${file} exited with ${code}`));
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`${file} printed no JSON document:\n${out.slice(0, 500)}`));
      }
    });
  });
}

const result: Record<string, unknown> = { benchmark: 'kova', date: new Date().toISOString(), node: process.version, cores: (await import('node:os')).availableParallelism() };
for (const [name, b] of Object.entries(BENCHES)) {
  if (values.only && values.only !== name) continue;
  result[name] = await run(b.file, b.env);
}
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
