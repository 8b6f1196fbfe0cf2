// The façade under a property-based fuzzer (fast-check): ≥ 10,000 requests built from its own route
// table and Nova's request samples, then broken — wrong types, missing and extra fields, huge and
// deeply nested bodies, bad JSON and unicode, bad microversions and content types, another project's
// ids, path tricks, bad tokens. Whatever comes in: never a 5xx, every error in the fault body of the
// API it reached, the process alive and its memory flat.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { createServer, project, TEST_PUBLIC_KEY } from '../support/fixtures.ts';
import { people, type People } from '../support/people.ts';
import { fillTemplate, parseTemplate, samplesRoot } from '../conformance/samples.ts';

const RUNS = Number(process.env.KOVA_FUZZ_RUNS ?? 10_000);

/** Every request template in Nova's samples (a body some route takes), parsed, wildcards filled. */
function sampleBodies(): unknown[] {
  const out: unknown[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.json.tpl') && !f.includes('resp') && !f.includes('-list') && !f.includes('-show') && !f.includes('-get')) {
        try {
          out.push(fillTemplate(parseTemplate(readFileSync(p, 'utf8')), (w) => (w.kind === 'scalar' ? 1 : 'x')));
        } catch {
          // not a request body
        }
      }
    }
  };
  walk(samplesRoot());
  return out;
}

/** A value with one change: a key dropped, a key added, or a leaf replaced by another kind of value. */
function mutate(body: unknown, how: { op: number; pick: number; value: unknown; key: string }): unknown {
  const copy = structuredClone(body);
  const nodes: Record<string, unknown>[] = [];
  const collect = (v: unknown): void => {
    if (v && typeof v === 'object') {
      nodes.push(v as Record<string, unknown>);
      for (const c of Object.values(v)) collect(c);
    }
  };
  collect(copy);
  const node = nodes[how.pick % Math.max(1, nodes.length)];
  if (!node) return how.value;
  const keys = Object.keys(node);
  const key = keys[how.pick % Math.max(1, keys.length)];
  if (how.op === 0 && key !== undefined) delete node[key];
  // (An array's `length` set to a non-length would throw here, in the generator, not in the API.)
  else if (how.op === 1 && !(Array.isArray(node) && how.key === 'length')) node[how.key] = how.value;
  else if (key !== undefined) node[key] = how.value;
  return copy;
}

const deep = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** The error envelope each API answers with, by where the request went. */
function faultProblem(path: string, status: number, text: string, type: string): string | undefined {
  if (status < 400) return undefined;
  if (status === 405 && !text) return undefined;
  if (path.startsWith('/image')) return undefined; // Glance's errors are its own (checked in glance's tests)
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${status} with a body that is not JSON (${type}): ${text.slice(0, 120)}`;
  }
  const top = body as Record<string, Record<string, unknown>>;
  const keystoneError = typeof top.error?.code === 'number' && typeof top.error?.message === 'string';
  // keystonemiddleware answers for Neutron (and Glance) before the service sees the request.
  if (status === 401 && !path.startsWith('/v2') && keystoneError) return undefined;
  if (path.startsWith('/identity')) return typeof top.error?.code === 'number' && typeof top.error?.message === 'string' ? undefined : `not a Keystone error: ${text.slice(0, 160)}`;
  if (path.startsWith('/networking')) return top.NeutronError && typeof top.NeutronError.message === 'string' ? undefined : `not a Neutron error: ${text.slice(0, 160)}`;
  const keys = Object.keys(top);
  const inner = keys.length === 1 ? top[keys[0]!] : undefined;
  return inner && inner.code === status && typeof inner.message === 'string' && inner.message.length > 0 ? undefined : `not a Nova fault: ${text.slice(0, 160)}`;
}

interface Sent { method: string; path: string; headers: Record<string, string>; body?: Buffer }

function send(url: string, r: Sent): Promise<{ status: number; text: string; type: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: r.method, path: r.path, headers: { ...r.headers, ...(r.body ? { 'content-length': String(r.body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), type: String(res.headers['content-type'] ?? '') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

describe('the façade under a fuzzer', () => {
  let kova: Kova;
  let api: Api;
  let who: People;
  let ns: string;
  let other: string;
  const ids: { own: string[]; others: string[] } = { own: [], others: [] };

  before(async () => {
    // No controllers: created servers stay requests, so the fuzzer's creates cost the cluster nothing.
    kova = await startKova({ controller: false });
    ({ namespace: ns } = await project(kova.client));
    ({ namespace: other } = await project(kova.client));
    api = await startApi(kova);
    who = await people(kova, api, ns, other);
    const mine = await createServer(kova.client, ns, 'fuzz-mine', {});
    const theirs = await createServer(kova.client, other, 'fuzz-theirs', {});
    ids.own.push(mine.metadata.uid ?? '', 'fuzz-key');
    ids.others.push(theirs.metadata.uid ?? '', 'fuzz-their-key', api.facade.caches.projectIdOf(other) ?? other);
    await api.call('POST', '/v2.1/os-keypairs', { token: who.member, version: '2.92', body: { keypair: { name: 'fuzz-key', public_key: TEST_PUBLIC_KEY } } });
    await api.call('POST', '/v2.1/os-keypairs', { token: who.stranger, version: '2.92', body: { keypair: { name: 'fuzz-their-key', public_key: TEST_PUBLIC_KEY } } });
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  test(`${RUNS} requests: no 5xx, every error a fault body, alive, memory flat`, async () => {
    const routes = [...new Map(api.facade.app.routeTable.filter((r) => r.method !== 'HEAD' && !r.url.includes('*')).map((r) => [`${r.method} ${r.url}`, r])).values()];
    const bodies = sampleBodies();
    assert.ok(routes.length > 300 && bodies.length > 200, `${routes.length} routes, ${bodies.length} sample bodies`);
    const tokens = [who.member, who.member, who.member, who.reader, who.stranger, '', 'not-a-token', 'kova1.e30.x', 'a'.repeat(10_000)];
    const pathValue = fc.oneof(
      fc.constantFrom(...ids.own, ...ids.others),
      fc.uuid(),
      fc.string({ maxLength: 40 }).map(encodeURIComponent),
      fc.constantFrom('..', '%2e%2e%2f%2e%2e', '%00', '%ff%fe', '%F0%9F%98%80', '-1', '0', '99999999999999999999999', 'null', '__proto__', 'constructor', 'a'.repeat(3000), '%20', 'detail', 'action'),
    );
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const body = fc.oneof(
      { weight: 5, arbitrary: fc.record({ sample: fc.constantFrom(...bodies), op: fc.nat(2), pick: fc.nat(), value: anyJson, key: fc.string({ maxLength: 12 }) }).map((m) => Buffer.from(JSON.stringify(mutate(m.sample, m)))) },
      { weight: 2, arbitrary: fc.constantFrom(...bodies).map((b) => Buffer.from(JSON.stringify(b))) },
      { weight: 2, arbitrary: anyJson.map((v) => Buffer.from(JSON.stringify(v))) },
      { weight: 1, arbitrary: fc.constantFrom(deep(64), deep(5000), `{"server": {"name": "${'x'.repeat(2 ** 20)}"}}`, '{"server": {"name": "\\ud800"}}', '{"a":', '', 'null', '[]', '"x"', '{"__proto__": {"admin": true}}').map((t) => Buffer.from(t)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
    );
    const version = fc.oneof(
      fc.integer({ min: 1, max: 104 }).map((n) => `2.${n}`),
      fc.constantFrom('latest', '2.0', '2.105', '2.999', '3.0', '2.01', '2', '', 'compute', '2.1.1', '-2.1'),
      fc.string({ maxLength: 10 }),
    );
    const request = fc.record({
      route: fc.constantFrom(...routes),
      params: fc.array(pathValue, { minLength: 4, maxLength: 4 }),
      body: fc.option(body, { nil: undefined, freq: 4 }),
      version: fc.option(version, { nil: undefined }),
      header: fc.constantFrom('openstack-api-version', 'x-openstack-nova-api-version'),
      type: fc.oneof(fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1'), fc.string({ maxLength: 20 }).filter((s) => /^[\x21-\x7e]*$/.test(s))),
      token: fc.constantFrom(...tokens),
      query: fc.option(fc.dictionary(fc.constantFrom('limit', 'marker', 'sort_key', 'sort_dir', 'all_tenants', 'changes-since', 'name', 'status', 'host', 'tenant_id', 'user_id', 'fields', 'deleted', 'flavor', 'image'), fc.string({ maxLength: 20 })), { nil: undefined }),
    });

    const gc = (): void => {
      setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
    };
    let sent = 0;
    let heapAfterWarmUp = 0;
    const problems = new Map<string, string>();
    const seed = Number(process.env.KOVA_FUZZ_SEED ?? Date.now() % 2 ** 31);
    await fc.assert(fc.asyncProperty(request, async (r) => {
      let i = 0;
      const path = r.route.url.replace(/:[A-Za-z_]+/g, () => r.params[i++] ?? 'x') + (r.query ? `?${new URLSearchParams(r.query)}` : '');
      const headers: Record<string, string> = {};
      if (r.token) headers['x-auth-token'] = r.token;
      if (r.version !== undefined) headers[r.header] = r.header === 'openstack-api-version' ? `compute ${r.version}` : r.version;
      if (r.body) headers['content-type'] = r.type;
      const res = await send(api.url, { method: r.route.method, path, headers, body: r.body });
      sent++;
      if (sent === 1000) {
        gc();
        heapAfterWarmUp = process.memoryUsage().heapUsed;
      }
      const problem = res.status >= 500 ? `${res.status}: ${res.text.slice(0, 200)}` : faultProblem(path, res.status, res.text, res.type);
      if (problem) problems.set(`${r.route.method} ${r.route.url}`, `${problem} ← ${r.route.method} ${path.slice(0, 160)} ${r.body?.toString('utf8').slice(0, 160) ?? ''}`);
      // Every problem is collected (one per route), so one run names them all.
    }), { numRuns: RUNS, seed });
    assert.deepEqual([...problems].map(([k, v]) => `${k}: ${v}`), [], `seed ${seed}`);
    assert.ok(sent >= RUNS, `${sent} requests sent`);
    // Alive, and memory flat: live heap after the run within 32 MiB of the heap after warming up.
    assert.equal((await api.call('GET', '/v2.1/', {})).status, 200);
    gc();
    const grown = (process.memoryUsage().heapUsed - heapAfterWarmUp) / 2 ** 20;
    assert.ok(grown < 32, `live heap grew by ${grown.toFixed(1)} MiB over ${sent - 1000} requests`);
  });
});
