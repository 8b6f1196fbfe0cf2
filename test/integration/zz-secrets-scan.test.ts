// Runs last (test files run in name order): after every other integration test, no secret they
// handled — the tokens, admin passwords and user data recorded by test/support/secrets.ts — is found
// anywhere but in Secrets: not in the specs or statuses of Kova's, KubeVirt's, CDI's or Kubernetes'
// objects, not in Events, not in the control plane's, KubeVirt's or Kova's logs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGGREGATES } from '../../src/api/aggregate.ts';
import { FLAVORS } from '../../src/api/flavor.ts';
import { KEYPAIRS } from '../../src/api/keypair.ts';
import { SERVERS } from '../../src/api/server.ts';
import { CONFIG_MAPS, LEASES, NAMESPACES, NODES, PERSISTENT_VOLUME_CLAIMS, PODS, type ResourceType } from '../../src/kube/types.ts';
import { CLUSTER_INSTANCETYPES, DATA_SOURCES, DATA_VOLUMES, INSTANCETYPES, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES } from '../../src/kubevirt/types.ts';
import { client } from '../support/cluster.ts';
import { EVENTS } from '../support/events.ts';
import { recordedSecrets } from '../support/secrets.ts';

const CONTROLLER_REVISIONS: ResourceType = { group: 'apps', version: 'v1', plural: 'controllerrevisions', kind: 'ControllerRevision', namespaced: true };
const WHERE = [SERVERS, FLAVORS, KEYPAIRS, AGGREGATES, VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINE_INSTANCE_MIGRATIONS, DATA_VOLUMES, DATA_SOURCES, CLUSTER_INSTANCETYPES, INSTANCETYPES, CONTROLLER_REVISIONS, PODS, EVENTS, CONFIG_MAPS, NAMESPACES, NODES, PERSISTENT_VOLUME_CLAIMS, LEASES];

/** The forms a secret takes when written down: as is, JSON-escaped, base64. */
const forms = (s: string): string[] => [...new Set([s, JSON.stringify(s).slice(1, -1), Buffer.from(s).toString('base64')])];

test('after the integration suite, no secret a test handled is anywhere but in Secrets', async () => {
  const secrets = recordedSecrets();
  if (!process.env.KOVA_TEST_DIR) return assert.fail('KOVA_TEST_DIR is not set: run through `npm run test:integration`');
  const found: string[] = [];
  const look = (where: string, text: string): void => {
    for (const s of secrets) if (forms(s).some((f) => text.includes(f))) found.push(`${where}: ${s.slice(0, 6)}… (${s.length} chars)`);
  };
  const c = await client();
  try {
    for (const t of WHERE) {
      for (const o of (await c.listAll(t)).items) look(`${t.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, JSON.stringify(o));
    }
  } finally {
    c.close();
  }
  const dir = process.env.KOVA_TEST_DIR;
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
  for (const f of logs) look(`log ${f}`, readFileSync(join(dir, f), 'utf8'));
  assert.deepEqual(found.slice(0, 20), [], `${found.length} places hold a secret (of ${secrets.length} recorded, in ${WHERE.length} kinds of object and ${logs.length} logs)`);
  // The scan saw what it looks for: the suite recorded secrets and Kova's logs.
  if (secrets.length === 0) process.stdout.write('# no secrets were recorded (run with the other integration files)\n');
  assert.ok(logs.some((f) => f.startsWith('kova-')) || secrets.length === 0, 'Kova\'s logs were written beside the control plane\'s');
});
