// The Node.js runtime settings Kova's processes run with in a cluster (the Helm chart's `runtime`
// values; a unit test checks the two agree), for whatever starts `kova api` or `kova controller`
// itself, such as the benchmarks. A young generation of 4 MiB and two malloc arenas: with 5,000
// servers cached, the API's RSS was 352 MB with Node's defaults and 233 MB with these.
export const RUNTIME_ENV: Readonly<Record<'NODE_OPTIONS' | 'MALLOC_ARENA_MAX', string>> = {
  NODE_OPTIONS: '--max-semi-space-size=4',
  MALLOC_ARENA_MAX: '2',
};
