import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceOfPath } from '../../src/kube/client.ts';

test('a request path names its resource, with any subresource, for core and group APIs in any scope', () => {
  assert.equal(resourceOfPath('/api/v1/namespaces/demo/pods/p1/status'), 'pods/status');
  assert.equal(resourceOfPath('/api/v1/namespaces/demo/secrets'), 'secrets');
  assert.equal(resourceOfPath('/api/v1/namespaces/demo'), 'namespaces');
  assert.equal(resourceOfPath('/api/v1/nodes/n1'), 'nodes');
  assert.equal(resourceOfPath('/apis/compute.kova.io/v1alpha1/namespaces/demo/servers/web/status'), 'servers/status');
  assert.equal(resourceOfPath('/apis/kubevirt.io/v1/namespaces/demo/virtualmachines?fieldManager=x'), 'virtualmachines');
  assert.equal(resourceOfPath('/apis/authorization.k8s.io/v1/subjectaccessreviews'), 'subjectaccessreviews');
});
