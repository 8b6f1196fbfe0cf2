// Many requests at a bounded concurrency: the benchmarks' and the robustness suite's bursts.

/** Runs `n` tasks, at most `limit` at a time. */
export async function pool(n: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) await task(next++);
  }));
}
