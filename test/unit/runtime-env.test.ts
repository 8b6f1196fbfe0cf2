// The Node.js runtime settings: the chart's Deployments run with the ones src/runtime-env.ts names
// (which the benchmarks start Kova's processes with), so what is measured is what is installed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RUNTIME_ENV } from '../../src/runtime-env.ts';
import { deploymentEnv, helmTemplate } from '../support/helm.ts';

test('the chart runs the API and the controller with the runtime settings the benchmarks measure', () => {
  const docs = helmTemplate();
  for (const deployment of ['kova-api', 'kova-controller']) {
    for (const [name, value] of Object.entries(RUNTIME_ENV)) assert.equal(deploymentEnv(docs, deployment, name), value, `${deployment} ${name}`);
  }
  assert.equal(deploymentEnv(helmTemplate('runtime.mallocArenaMax=4'), 'kova-api', 'MALLOC_ARENA_MAX'), '4', 'an operator can change them');
});
