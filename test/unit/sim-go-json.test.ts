// The simulated virt-handler's VMI status encoding (src/sim/go-json.ts): what KubeVirt v1.8's Go
// types would write, so real virt-controller's `test`-guarded status patches match what is stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { vmiStatusAsGo } from '../../src/sim/go-json.ts';
import type { VirtualMachineInstance } from '../../src/kubevirt/types.ts';

type Status = NonNullable<VirtualMachineInstance['status']>;

test('a condition loses its empty message and reason (omitempty) and keeps null probe times (metav1.Time)', () => {
  const s = vmiStatusAsGo({ conditions: [{ type: 'AccessCredentialsSynchronized', status: 'True', message: '', reason: '', lastTransitionTime: '2026-01-02T03:04:05Z' }] } as Status);
  assert.deepEqual(s.conditions, [{ type: 'AccessCredentialsSynchronized', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-02T03:04:05Z' }]);
});

test('migrationState: false, empty and unset fields are left out; timestamps in whole seconds, UTC', () => {
  const s = vmiStatusAsGo({
    migrationState: { migrationUid: 'u', targetNode: 'n2', completed: false, failed: false, abortRequested: false, failureReason: '', targetNodeAddress: '', startTimestamp: '2026-01-02T03:04:05.678Z', endTimestamp: null, targetDirectMigrationNodePorts: { '49152': 0 } },
  } as unknown as Status);
  assert.deepEqual(s.migrationState, { migrationUid: 'u', targetNode: 'n2', startTimestamp: '2026-01-02T03:04:05Z', targetDirectMigrationNodePorts: { '49152': 0 } });
});

test('what Go always writes, or what the shapes do not name, is kept as stored', () => {
  const stored = {
    phase: 'Running', runtimeUser: 0, guestOSInfo: {}, machine: { type: 'q35' }, qosClass: 'Burstable',
    migrationState: { migrationUid: 'u', migrationConfiguration: { allowAutoConverge: false, allowPostCopy: false, completionTimeoutPerGiB: 150 } },
    phaseTransitionTimestamps: [{ phase: 'Running', phaseTransitionTimestamp: '2026-01-02T03:04:05Z' }],
  } as unknown as Status;
  assert.deepEqual(vmiStatusAsGo(stored), stored);
});

test('top-level empty values the handler might leave are dropped', () => {
  assert.deepEqual(vmiStatusAsGo({ phase: 'Running', reason: '', interfaces: [], nodeName: '' } as Status), { phase: 'Running' });
});
