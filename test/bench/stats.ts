// Latency samples → the summary every benchmark prints, and timing one call.
import { performance } from 'node:perf_hooks';

/** The wall time of one call, in ms. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export function stats(samples: number[]): { runs: number; median_ms: number; p99_ms: number; min_ms: number; max_ms: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? 0;
  const r = (x: number): number => Math.round(x * 100) / 100;
  return { runs: s.length, median_ms: r(at(0.5)), p99_ms: r(at(0.99)), min_ms: r(s[0] ?? 0), max_ms: r(s.at(-1) ?? 0) };
}
