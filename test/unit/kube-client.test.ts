import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceOfPath } from '../../src/kube/client.ts';
import { compact } from '../../src/kube/informer.ts';
import { lastWriteAt, specUpdatedAt } from '../../src/nova/timestamps.ts';

test('a request path names its resource, with any subresource, for core and group APIs in any scope', () => {
  assert.equal(resourceOfPath('/api/v1/namespaces/demo/pods/p1/status'), 'pods/status');
  assert.equal(resourceOfPath('/api/v1/namespaces/demo/secrets'), 'secrets');
  assert.equal(resourceOfPath('/api/v1/namespaces/demo'), 'namespaces');
  assert.equal(resourceOfPath('/api/v1/nodes/n1'), 'nodes');
  assert.equal(resourceOfPath('/apis/compute.kova.io/v1alpha1/namespaces/demo/servers/web/status'), 'servers/status');
  assert.equal(resourceOfPath('/apis/kubevirt.io/v1/namespaces/demo/virtualmachines?fieldManager=x'), 'virtualmachines');
  assert.equal(resourceOfPath('/apis/authorization.k8s.io/v1/subjectaccessreviews'), 'subjectaccessreviews');
});

test('a cached object keeps of managedFields only the last spec write and the last write', () => {
  const obj = {
    metadata: {
      name: 'web',
      managedFields: [
        { manager: 'kova-api', operation: 'Update', time: '2026-11-30T01:00:00Z', fieldsV1: { 'f:spec': { 'f:flavor': {}, 'f:metadata': { 'f:role': {} } } } },
        { manager: 'kubectl', operation: 'Update', time: '2026-11-30T01:00:02Z', fieldsV1: { 'f:metadata': { 'f:labels': {} } } },
        { manager: 'kova-controller', operation: 'Update', time: '2026-11-30T01:00:05Z', subresource: 'status', fieldsV1: { 'f:status': { 'f:status': {} } } },
        { manager: 'kova-old', operation: 'Update', time: '2026-11-29T01:00:00Z', fieldsV1: { 'f:spec': { 'f:image': {} } } },
      ],
    },
    spec: { flavor: 'm1.tiny' },
  };
  const c = compact(obj);
  assert.deepEqual(c.metadata.managedFields, [
    { time: '2026-11-30T01:00:00Z', fieldsV1: { 'f:spec': {} } },
    { time: '2026-11-30T01:00:05Z', subresource: 'status' },
  ]);
  assert.equal(lastWriteAt(c), '2026-11-30T01:00:05Z', 'the last write of anything is still known');
  assert.equal(specUpdatedAt({ ...c, metadata: { ...c.metadata, generation: 2 } }), '2026-11-30T01:00:00Z', 'the spec\'s last writer is still known');
  assert.equal(c.spec, obj.spec);
});
