import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Address } from '../../src/api/server.ts';
import type { ObjectMeta } from '../../src/kube/types.ts';
import type {
  DataVolume,
  DataVolumePhase,
  KubeVirtCondition,
  PrintableStatus,
  VirtualMachine,
  VirtualMachineInstance,
  VMIInterface,
  VMIPhase,
} from '../../src/kubevirt/types.ts';
import {
  addressesOf,
  importProgress,
  networksSummary,
  novaStateOf,
  NO_VALID_HOST,
  POWER_STATE_CODES,
  type NovaState,
  type NovaStateInput,
} from '../../src/nova/status.ts';

// ---- fixtures -------------------------------------------------------------------------------

function vm(printableStatus?: PrintableStatus, more: { conditions?: KubeVirtCondition[]; startFailure?: NonNullable<VirtualMachine['status']>['startFailure']; meta?: Partial<ObjectMeta> } = {}): VirtualMachine {
  const status: NonNullable<VirtualMachine['status']> = {};
  if (printableStatus) status.printableStatus = printableStatus;
  if (more.conditions) status.conditions = more.conditions;
  if (more.startFailure) status.startFailure = more.startFailure;
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name: 'web', namespace: 'proj', ...more.meta },
    spec: { template: { spec: { domain: { devices: {} } } } },
    status,
  };
}

function vmi(status: { phase?: VMIPhase; nodeName?: string; interfaces?: VMIInterface[]; conditions?: KubeVirtCondition[] } = {}): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'web', namespace: 'proj' },
    spec: { domain: { devices: {} } },
    status,
  };
}

function dv(name: string, phase?: DataVolumePhase, progress?: string, conditions?: KubeVirtCondition[]): DataVolume {
  const status: NonNullable<DataVolume['status']> = {};
  if (phase !== undefined) status.phase = phase;
  if (progress !== undefined) status.progress = progress;
  if (conditions) status.conditions = conditions;
  return { apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'DataVolume', metadata: { name, namespace: 'proj' }, spec: {}, status };
}

const cond = (type: string, status: 'True' | 'False' | 'Unknown', message?: string, reason?: string): KubeVirtCondition => ({
  type,
  status,
  ...(message !== undefined ? { message } : {}),
  ...(reason !== undefined ? { reason } : {}),
});

const input = (over: Partial<NovaStateInput> = {}): NovaStateInput => ({ desiredPower: 'Running', deleting: false, launched: false, ...over });

/** The state part of a view, with absent fields as undefined, so deepEqual also checks absence. */
const state = (v: NovaState) => ({ status: v.status, vmState: v.vmState, taskState: v.taskState, powerState: v.powerState, progress: v.progress });

type State = ReturnType<typeof state>;
const S = (status: State['status'], vmState: string, taskState: string | undefined, powerState: State['powerState'], progress = 0): State => ({ status, vmState, taskState, powerState, progress });

// ---- the mapping table ------------------------------------------------------------------------

describe('novaStateOf: building', () => {
  test('no VM yet → BUILD / scheduling / NOSTATE', () => {
    const v = novaStateOf(input());
    assert.deepEqual(state(v), S('BUILD', 'building', 'scheduling', 'NOSTATE', 0));
    assert.equal(v.fault, undefined);
    assert.equal(v.running, false);
  });

  test('a VM without printableStatus yet is still scheduling', () => {
    assert.deepEqual(state(novaStateOf(input({ vm: vm() }))), S('BUILD', 'building', 'scheduling', 'NOSTATE', 0));
  });

  test('Provisioning → BUILD / block_device_mapping / NOSTATE with DataVolume progress', () => {
    const v = novaStateOf(input({ vm: vm('Provisioning'), dataVolumes: [dv('web-root', 'ImportInProgress', '42.7%')] }));
    assert.deepEqual(state(v), S('BUILD', 'building', 'block_device_mapping', 'NOSTATE', 42));
    assert.equal(v.fault, undefined);
  });

  test('WaitingForVolumeBinding → BUILD / block_device_mapping / NOSTATE', () => {
    const v = novaStateOf(input({ vm: vm('WaitingForVolumeBinding'), dataVolumes: [dv('web-root', 'WaitForFirstConsumer', '0.0%')] }));
    assert.deepEqual(state(v), S('BUILD', 'building', 'block_device_mapping', 'NOSTATE', 0));
  });

  test('Provisioning progress averages several DataVolumes', () => {
    const v = novaStateOf(input({ vm: vm('Provisioning'), dataVolumes: [dv('a', 'ImportInProgress', '30.0%'), dv('b', 'Succeeded', '100.0%')] }));
    assert.equal(v.progress, 65);
  });

  test('Provisioning without DataVolumes has progress 0', () => {
    assert.equal(novaStateOf(input({ vm: vm('Provisioning') })).progress, 0);
  });

  test('Starting before the first boot (launched=false) → BUILD / spawning / NOSTATE', () => {
    const v = novaStateOf(input({ vm: vm('Starting'), launched: false }));
    assert.deepEqual(state(v), S('BUILD', 'building', 'spawning', 'NOSTATE', 90));
    assert.equal(v.fault, undefined);
  });

  test('WaitingForReceiver is treated like Starting', () => {
    assert.deepEqual(state(novaStateOf(input({ vm: vm('WaitingForReceiver') }))), S('BUILD', 'building', 'spawning', 'NOSTATE', 90));
    assert.deepEqual(state(novaStateOf(input({ vm: vm('WaitingForReceiver'), launched: true }))), S('SHUTOFF', 'stopped', 'powering-on', 'Shutdown'));
  });

  test('Stopped while the spec wants Running and the server never ran → BUILD / spawning', () => {
    assert.deepEqual(state(novaStateOf(input({ vm: vm('Stopped'), desiredPower: 'Running', launched: false }))), S('BUILD', 'building', 'spawning', 'NOSTATE', 90));
  });
});

describe('novaStateOf: power states', () => {
  test('Starting after a stop (launched=true) → SHUTOFF / powering-on / Shutdown', () => {
    const v = novaStateOf(input({ vm: vm('Starting'), launched: true }));
    assert.deepEqual(state(v), S('SHUTOFF', 'stopped', 'powering-on', 'Shutdown'));
    assert.equal(v.fault, undefined);
  });

  test('Running → ACTIVE / no task / Running', () => {
    const v = novaStateOf(input({ vm: vm('Running'), vmi: vmi({ phase: 'Running', nodeName: 'node-1' }), launched: true }));
    assert.deepEqual(state(v), S('ACTIVE', 'active', undefined, 'Running'));
    assert.equal('taskState' in v, false, 'no task_state key at all');
    assert.equal(v.fault, undefined);
    assert.equal(v.running, true);
  });

  test('Running while the spec wants Shutoff → ACTIVE / powering-off / Running', () => {
    const v = novaStateOf(input({ vm: vm('Running'), vmi: vmi({ phase: 'Running' }), desiredPower: 'Shutoff', launched: true }));
    assert.deepEqual(state(v), S('ACTIVE', 'active', 'powering-off', 'Running'));
  });

  test('Paused → PAUSED / no task / Paused', () => {
    const v = novaStateOf(input({ vm: vm('Paused'), vmi: vmi({ phase: 'Running' }), launched: true }));
    assert.deepEqual(state(v), S('PAUSED', 'paused', undefined, 'Paused'));
    assert.equal(POWER_STATE_CODES[v.powerState], 3);
  });

  test('pause and unpause in flight: ACTIVE / pausing, PAUSED / unpausing (only for a pause by a user)', () => {
    const running = novaStateOf(input({ vm: vm('Running'), vmi: vmi({ phase: 'Running' }), desiredPower: 'Paused', launched: true }));
    assert.deepEqual(state(running), S('ACTIVE', 'active', 'pausing', 'Running'));
    const byUser = vmi({ phase: 'Running', conditions: [{ type: 'Paused', status: 'True', reason: 'PausedByUser' }] });
    assert.deepEqual(state(novaStateOf(input({ vm: vm('Paused'), vmi: byUser, desiredPower: 'Running', launched: true }))), S('PAUSED', 'paused', 'unpausing', 'Paused'));
    const ioError = vmi({ phase: 'Running', conditions: [{ type: 'Paused', status: 'True', reason: 'PausedIOError' }] });
    assert.deepEqual(state(novaStateOf(input({ vm: vm('Paused'), vmi: ioError, desiredPower: 'Running', launched: true }))), S('PAUSED', 'paused', undefined, 'Paused'));
    assert.deepEqual(state(novaStateOf(input({ vm: vm('Paused'), vmi: byUser, desiredPower: 'Paused', launched: true }))), S('PAUSED', 'paused', undefined, 'Paused'));
  });

  test('suspend is a pause shown as SUSPENDED / Suspended; resume shows SUSPENDED / resuming', () => {
    const byUser = vmi({ phase: 'Running', conditions: [{ type: 'Paused', status: 'True', reason: 'PausedByUser' }] });
    assert.deepEqual(state(novaStateOf(input({ vm: vm('Running'), vmi: vmi({ phase: 'Running' }), desiredPower: 'Suspended', launched: true }))), S('ACTIVE', 'active', 'suspending', 'Running'));
    const suspended = novaStateOf(input({ vm: vm('Paused'), vmi: byUser, desiredPower: 'Suspended', launched: true }));
    assert.deepEqual(state(suspended), S('SUSPENDED', 'suspended', undefined, 'Suspended'));
    assert.equal(POWER_STATE_CODES[suspended.powerState], 7);
    const resuming = novaStateOf(input({ vm: vm('Paused'), vmi: byUser, desiredPower: 'Running', launched: true, previous: { status: 'SUSPENDED', vmState: 'suspended' } }));
    assert.deepEqual(state(resuming), S('SUSPENDED', 'suspended', 'resuming', 'Suspended'));
  });

  test('Paused while the spec wants Shutoff → PAUSED / powering-off', () => {
    assert.deepEqual(state(novaStateOf(input({ vm: vm('Paused'), desiredPower: 'Shutoff', launched: true }))), S('PAUSED', 'paused', 'powering-off', 'Paused'));
  });

  test('Stopping → ACTIVE / powering-off / Running', () => {
    for (const desiredPower of ['Running', 'Shutoff'] as const) {
      const v = novaStateOf(input({ vm: vm('Stopping'), desiredPower, launched: true }));
      assert.deepEqual(state(v), S('ACTIVE', 'active', 'powering-off', 'Running'), desiredPower);
    }
  });

  test('Stopped with desiredPower Shutoff → SHUTOFF / no task / Shutdown', () => {
    for (const launched of [true, false]) {
      const v = novaStateOf(input({ vm: vm('Stopped'), desiredPower: 'Shutoff', launched }));
      assert.deepEqual(state(v), S('SHUTOFF', 'stopped', undefined, 'Shutdown'), `launched=${launched}`);
      assert.equal(POWER_STATE_CODES[v.powerState], 4);
    }
  });

  test('Stopped with desiredPower Running after a first boot → SHUTOFF / powering-on / Shutdown', () => {
    assert.deepEqual(state(novaStateOf(input({ vm: vm('Stopped'), desiredPower: 'Running', launched: true }))), S('SHUTOFF', 'stopped', 'powering-on', 'Shutdown'));
  });

  test('Migrating → MIGRATING / migrating / Running', () => {
    const v = novaStateOf(input({ vm: vm('Migrating'), vmi: vmi({ phase: 'Running', nodeName: 'node-1' }), launched: true }));
    assert.deepEqual(state(v), S('MIGRATING', 'active', 'migrating', 'Running'));
    assert.equal(POWER_STATE_CODES[v.powerState], 1);
  });

  test('Unknown → UNKNOWN / NOSTATE, keeping the previous vm_state', () => {
    assert.deepEqual(state(novaStateOf(input({ vm: vm('Unknown') }))), S('UNKNOWN', 'active', undefined, 'NOSTATE'));
    assert.deepEqual(state(novaStateOf(input({ vm: vm('Unknown'), previous: { status: 'SHUTOFF', vmState: 'stopped' } }))), S('UNKNOWN', 'stopped', undefined, 'NOSTATE'));
  });
});

describe('novaStateOf: errors', () => {
  test('ErrorUnschedulable → ERROR with "No valid host was found", code 500, details from PodScheduled', () => {
    const msg = '0/3 nodes are available: 3 Insufficient memory.';
    const v = novaStateOf(input({ vm: vm('ErrorUnschedulable', { conditions: [cond('Ready', 'False', 'not ready'), cond('PodScheduled', 'False', msg, 'Unschedulable')] }) }));
    assert.deepEqual(state(v), S('ERROR', 'error', undefined, 'NOSTATE'));
    assert.deepEqual(v.fault, { code: 500, message: 'No valid host was found. There are not enough hosts available.', details: msg });
    assert.equal(NO_VALID_HOST, 'No valid host was found. There are not enough hosts available.');
  });

  test('ErrorUnschedulable takes the PodScheduled message from the VMI when the VM lacks it', () => {
    const msg = '0/1 nodes are available: 1 node(s) didn\'t match Pod\'s node affinity/selector.';
    const v = novaStateOf(input({ vm: vm('ErrorUnschedulable'), vmi: vmi({ phase: 'Scheduling', conditions: [cond('PodScheduled', 'False', msg, 'Unschedulable')] }) }));
    assert.equal(v.fault?.message, NO_VALID_HOST);
    assert.equal(v.fault?.details, msg);
  });

  test('ErrorUnschedulable prefers the VM condition over the VMI condition', () => {
    const v = novaStateOf(
      input({
        vm: vm('ErrorUnschedulable', { conditions: [cond('PodScheduled', 'False', 'from vm')] }),
        vmi: vmi({ conditions: [cond('PodScheduled', 'False', 'from vmi')] }),
      }),
    );
    assert.equal(v.fault?.details, 'from vm');
  });

  test('ErrorUnschedulable without any PodScheduled condition has no details', () => {
    const v = novaStateOf(input({ vm: vm('ErrorUnschedulable') }));
    assert.equal(v.fault?.code, 500);
    assert.equal(v.fault?.message, NO_VALID_HOST);
    assert.equal(v.fault?.details, undefined);
  });

  test('CrashLoopBackOff → ERROR / Crashed with the start failures as details', () => {
    const v = novaStateOf(input({ vm: vm('CrashLoopBackOff', { startFailure: { consecutiveFailCount: 3, retryAfterTimestamp: '2030-01-01T00:00:00Z' } }), launched: true }));
    assert.deepEqual(state(v), S('ERROR', 'error', undefined, 'Crashed'));
    assert.equal(POWER_STATE_CODES[v.powerState], 6);
    assert.equal(v.fault?.code, 500);
    assert.match(v.fault?.message ?? '', /CrashLoopBackOff/);
    assert.equal(v.fault?.details, 'consecutive start failures: 3, next retry after 2030-01-01T00:00:00Z');
  });

  test('CrashLoopBackOff without startFailure has a fault without details', () => {
    const v = novaStateOf(input({ vm: vm('CrashLoopBackOff') }));
    assert.equal(v.status, 'ERROR');
    assert.ok(v.fault);
    assert.equal(v.fault.details, undefined);
  });

  test('CrashLoopBackOff with a start failure but no retry time', () => {
    const v = novaStateOf(input({ vm: vm('CrashLoopBackOff', { startFailure: { consecutiveFailCount: 1 } }) }));
    assert.equal(v.fault?.details, 'consecutive start failures: 1');
  });

  for (const printable of ['ErrImagePull', 'ImagePullBackOff'] as const) {
    test(`${printable} → ERROR with a fault naming it, details from the VMI Synchronized condition`, () => {
      const v = novaStateOf(
        input({
          vm: vm(printable, { conditions: [cond('Synchronized', 'False', 'vm says so', printable)] }),
          vmi: vmi({ phase: 'Scheduling', conditions: [cond('Synchronized', 'False', 'rpc error: pull access denied', printable)] }),
        }),
      );
      assert.deepEqual(state(v), S('ERROR', 'error', undefined, 'NOSTATE'));
      assert.equal(v.fault?.code, 500);
      assert.ok(v.fault?.message.includes(`(${printable})`), v.fault?.message);
      assert.equal(v.fault?.details, 'rpc error: pull access denied');
    });
  }

  test('ErrImagePull falls back to the VM Synchronized condition without a VMI', () => {
    const v = novaStateOf(input({ vm: vm('ErrImagePull', { conditions: [cond('Synchronized', 'False', 'from the vm')] }) }));
    assert.equal(v.fault?.details, 'from the vm');
  });

  test('ErrorPvcNotFound → ERROR with a fault', () => {
    const v = novaStateOf(input({ vm: vm('ErrorPvcNotFound'), vmi: vmi({ conditions: [cond('Synchronized', 'False', 'PVC proj/web-root does not exist', 'FailedPvcNotFound')] }) }));
    assert.deepEqual(state(v), S('ERROR', 'error', undefined, 'NOSTATE'));
    assert.equal(v.fault?.code, 500);
    assert.match(v.fault?.message ?? '', /ErrorPvcNotFound/);
    assert.equal(v.fault?.details, 'PVC proj/web-root does not exist');
  });

  test('DataVolumeError → ERROR with the failing DataVolume named in the details', () => {
    const v = novaStateOf(
      input({
        vm: vm('DataVolumeError'),
        dataVolumes: [
          dv('web-ok', 'Succeeded', '100.0%'),
          dv('web-root', 'ImportInProgress', '12.0%', [cond('Running', 'False', 'Unable to connect to http data source', 'Error')]),
        ],
      }),
    );
    assert.deepEqual(state(v), S('ERROR', 'error', undefined, 'NOSTATE'));
    assert.equal(v.fault?.code, 500);
    assert.match(v.fault?.message ?? '', /DataVolumeError/);
    assert.equal(v.fault?.details, 'web-root: Unable to connect to http data source');
  });

  // CDI leaves Running=False (reason Completed, message "Import Complete") on a DataVolume that
  // finished importing; such a DataVolume is not the failing one.
  test('DataVolumeError does not blame a DataVolume that completed', () => {
    const v = novaStateOf(
      input({
        vm: vm('DataVolumeError'),
        dataVolumes: [
          dv('web-data', 'Succeeded', '100.0%', [cond('Running', 'False', 'Import Complete', 'Completed')]),
          dv('web-root', 'ImportInProgress', '12.0%', [cond('Running', 'False', 'Unable to connect to http data source', 'Error')]),
        ],
      }),
    );
    assert.equal(v.fault?.details, 'web-root: Unable to connect to http data source');
  });

  test('DataVolumeError with a Failed DataVolume without a message says "import failed"', () => {
    const v = novaStateOf(input({ vm: vm('DataVolumeError'), dataVolumes: [dv('web-root', 'Failed')] }));
    assert.equal(v.fault?.details, 'web-root: import failed');
  });

  test('DataVolumeError without DataVolumes still yields a fault', () => {
    const v = novaStateOf(input({ vm: vm('DataVolumeError') }));
    assert.equal(v.status, 'ERROR');
    assert.equal(v.fault?.code, 500);
    assert.equal(v.fault?.details, undefined);
  });

  test('every error printableStatus yields ERROR with a code-500 fault', () => {
    for (const p of ['CrashLoopBackOff', 'ErrorUnschedulable', 'ErrImagePull', 'ImagePullBackOff', 'ErrorPvcNotFound', 'DataVolumeError'] as const) {
      const v = novaStateOf(input({ vm: vm(p) }));
      assert.equal(v.status, 'ERROR', p);
      assert.equal(v.vmState, 'error', p);
      assert.equal(v.taskState, undefined, p);
      assert.equal(v.fault?.code, 500, p);
      assert.ok(v.fault?.message, p);
    }
  });

  test('a referenceFault → ERROR with exactly that fault', () => {
    const fault = { code: 400, message: 'Flavor m1.huge could not be found.' };
    const v = novaStateOf(input({ referenceFault: fault }));
    assert.deepEqual(state(v), S('ERROR', 'error', undefined, 'NOSTATE'));
    assert.deepEqual(v.fault, fault);
  });

  test('a referenceFault wins over the VM status', () => {
    const fault = { code: 404, message: 'Image cirros could not be found.', details: 'DataSource kova-images/cirros' };
    const v = novaStateOf(input({ referenceFault: fault, vm: vm('Running') }));
    assert.equal(v.status, 'ERROR');
    assert.deepEqual(v.fault, fault);
  });
});

describe('novaStateOf: deleting', () => {
  const previous = { status: 'ACTIVE', vmState: 'active', host: 'node-1' } as const;

  test('Terminating → the previous status with task deleting', () => {
    const v = novaStateOf(input({ vm: vm('Terminating'), previous, launched: true }));
    assert.deepEqual(state(v), S('ACTIVE', 'active', 'deleting', 'Running'));
    assert.equal(v.fault, undefined);
  });

  test('deleting=true → deleting, whatever the VM says', () => {
    const v = novaStateOf(input({ deleting: true, vm: vm('Running'), vmi: vmi({ phase: 'Running' }), previous, launched: true }));
    assert.deepEqual(state(v), S('ACTIVE', 'active', 'deleting', 'Running'));
  });

  test('a VM with a deletionTimestamp → deleting', () => {
    const v = novaStateOf(input({ vm: vm('Stopped', { meta: { deletionTimestamp: '2030-01-01T00:00:00Z' } }), previous: { status: 'SHUTOFF', vmState: 'stopped' }, desiredPower: 'Shutoff' }));
    assert.deepEqual(state(v), S('SHUTOFF', 'stopped', 'deleting', 'Shutdown'));
  });

  test('the power state follows the previous status', () => {
    const cases = [
      ['PAUSED', 'paused', 'Paused'],
      ['MIGRATING', 'active', 'Running'],
      ['ERROR', 'error', 'NOSTATE'],
      ['BUILD', 'building', 'NOSTATE'],
    ] as const;
    for (const [status, vmState, power] of cases) {
      const v = novaStateOf(input({ deleting: true, previous: { status, vmState } }));
      assert.deepEqual(state(v), S(status, vmState, 'deleting', power), status);
    }
  });

  test('without a previous status, deleting is BUILD / building / deleting', () => {
    assert.deepEqual(state(novaStateOf(input({ deleting: true }))), S('BUILD', 'building', 'deleting', 'NOSTATE'));
  });

  test('deleting wins over a referenceFault and over error states', () => {
    const v1 = novaStateOf(input({ deleting: true, referenceFault: { code: 400, message: 'nope' }, previous: { status: 'ERROR', vmState: 'error' } }));
    assert.equal(v1.taskState, 'deleting');
    assert.equal(v1.fault, undefined);
    const v2 = novaStateOf(input({ deleting: true, vm: vm('CrashLoopBackOff'), previous: { status: 'ERROR', vmState: 'error' } }));
    assert.deepEqual(state(v2), S('ERROR', 'error', 'deleting', 'NOSTATE'));
    assert.equal(v2.fault, undefined);
  });
});

describe('novaStateOf: host, addresses and running', () => {
  test('host comes from the VMI node', () => {
    const v = novaStateOf(input({ vm: vm('Running'), vmi: vmi({ phase: 'Running', nodeName: 'node-2' }), previous: { host: 'node-1' } }));
    assert.equal(v.host, 'node-2');
  });

  test('host falls back to the previous host when there is no VMI', () => {
    const v = novaStateOf(input({ vm: vm('Stopped'), desiredPower: 'Shutoff', launched: true, previous: { status: 'ACTIVE', vmState: 'active', host: 'node-1' } }));
    assert.equal(v.host, 'node-1');
  });

  test('host falls back to the previous host when the VMI has no node yet', () => {
    const v = novaStateOf(input({ vm: vm('Starting'), vmi: vmi({ phase: 'Pending' }), launched: true, previous: { host: 'node-1' } }));
    assert.equal(v.host, 'node-1');
  });

  test('no host at all → no host key', () => {
    const v = novaStateOf(input({ vm: vm('Starting'), vmi: vmi({ phase: 'Pending' }) }));
    assert.equal('host' in v, false);
  });

  test('addresses come from the VMI interfaces under the configured network name', () => {
    const v = novaStateOf(
      input({
        vm: vm('Running'),
        vmi: vmi({ phase: 'Running', nodeName: 'node-1', interfaces: [{ name: 'default', ipAddress: '10.244.0.7', ipAddresses: ['10.244.0.7', 'fd10:244::7'], mac: '02:00:00:aa:bb:cc' }] }),
        networkName: 'pod-net',
      }),
    );
    assert.deepEqual(v.addresses, {
      'pod-net': [
        { addr: '10.244.0.7', version: 4, type: 'fixed', macAddr: '02:00:00:aa:bb:cc' },
        { addr: 'fd10:244::7', version: 6, type: 'fixed', macAddr: '02:00:00:aa:bb:cc' },
      ],
    });
  });

  test('the network name defaults to "default"', () => {
    const v = novaStateOf(input({ vm: vm('Running'), vmi: vmi({ phase: 'Running', interfaces: [{ name: 'default', ipAddresses: ['10.0.0.3'] }] }) }));
    assert.deepEqual(v.addresses, { default: [{ addr: '10.0.0.3', version: 4, type: 'fixed' }] });
  });

  test('addresses fall back to the previous addresses when there is no VMI', () => {
    const prevAddresses: Record<string, Address[]> = { default: [{ addr: '10.0.0.9', version: 4, type: 'fixed', macAddr: '02:00:00:00:00:09' }] };
    const v = novaStateOf(input({ vm: vm('Stopped'), desiredPower: 'Shutoff', launched: true, previous: { status: 'ACTIVE', vmState: 'active', addresses: prevAddresses } }));
    assert.deepEqual(v.addresses, prevAddresses);
  });

  test('addresses fall back to the previous addresses when the VMI reports no IP', () => {
    const prevAddresses: Record<string, Address[]> = { default: [{ addr: '10.0.0.9', version: 4, type: 'fixed' }] };
    const v = novaStateOf(input({ vm: vm('Starting'), vmi: vmi({ phase: 'Scheduled', interfaces: [{ name: 'default', mac: '02:00:00:00:00:09' }] }), launched: true, previous: { addresses: prevAddresses } }));
    assert.deepEqual(v.addresses, prevAddresses);
  });

  test('no addresses anywhere → no addresses key', () => {
    const v = novaStateOf(input({ vm: vm('Starting'), vmi: vmi({ phase: 'Scheduled' }) }));
    assert.equal('addresses' in v, false);
    assert.equal('addresses' in novaStateOf(input()), false);
  });

  test('new VMI addresses replace the previous ones', () => {
    const v = novaStateOf(input({ vm: vm('Running'), vmi: vmi({ phase: 'Running', interfaces: [{ name: 'default', ipAddresses: ['10.0.0.4'] }] }), previous: { addresses: { default: [{ addr: '10.0.0.9' }] } } }));
    assert.deepEqual(v.addresses, { default: [{ addr: '10.0.0.4', version: 4, type: 'fixed' }] });
  });

  test('running is true only when the VMI phase is Running', () => {
    assert.equal(novaStateOf(input({ vm: vm('Running'), vmi: vmi({ phase: 'Running' }) })).running, true);
    assert.equal(novaStateOf(input({ vm: vm('Starting'), vmi: vmi({ phase: 'Scheduled' }) })).running, false);
    assert.equal(novaStateOf(input({ vm: vm('Stopped') })).running, false);
  });

  test('host and addresses are kept while the server is in ERROR or deleting', () => {
    const previous: NovaStateInput['previous'] = { status: 'ACTIVE', vmState: 'active', host: 'node-1', addresses: { default: [{ addr: '10.0.0.9' }] } };
    const e = novaStateOf(input({ vm: vm('CrashLoopBackOff'), previous, launched: true }));
    assert.equal(e.host, 'node-1');
    assert.deepEqual(e.addresses, previous.addresses);
    const d = novaStateOf(input({ deleting: true, previous }));
    assert.equal(d.host, 'node-1');
    assert.deepEqual(d.addresses, previous.addresses);
  });
});

describe('addressesOf', () => {
  test('IPv4 and IPv6 versions are detected and macAddr is set from the interface', () => {
    const out = addressesOf(vmi({ interfaces: [{ name: 'default', ipAddresses: ['192.168.1.5', '2001:db8::5', '::1'], mac: 'aa:bb:cc:dd:ee:ff' }] }), 'net1');
    assert.deepEqual(out, {
      net1: [
        { addr: '192.168.1.5', version: 4, type: 'fixed', macAddr: 'aa:bb:cc:dd:ee:ff' },
        { addr: '2001:db8::5', version: 6, type: 'fixed', macAddr: 'aa:bb:cc:dd:ee:ff' },
        { addr: '::1', version: 6, type: 'fixed', macAddr: 'aa:bb:cc:dd:ee:ff' },
      ],
    });
  });

  test('without a mac there is no macAddr key', () => {
    const out = addressesOf(vmi({ interfaces: [{ name: 'default', ipAddresses: ['10.0.0.1'] }] }), 'n');
    assert.deepEqual(out, { n: [{ addr: '10.0.0.1', version: 4, type: 'fixed' }] });
    assert.equal('macAddr' in (out.n?.[0] ?? {}), false);
  });

  test('ipAddress is used when ipAddresses is absent or empty', () => {
    assert.deepEqual(addressesOf(vmi({ interfaces: [{ name: 'default', ipAddress: '10.0.0.2' }] }), 'n'), { n: [{ addr: '10.0.0.2', version: 4, type: 'fixed' }] });
    assert.deepEqual(addressesOf(vmi({ interfaces: [{ name: 'default', ipAddress: 'fd00::2', ipAddresses: [] }] }), 'n'), { n: [{ addr: 'fd00::2', version: 6, type: 'fixed' }] });
  });

  test('ipAddresses wins over ipAddress (no duplicates)', () => {
    const out = addressesOf(vmi({ interfaces: [{ name: 'default', ipAddress: '10.0.0.2', ipAddresses: ['10.0.0.2', 'fd00::2'] }] }), 'n');
    assert.deepEqual(out.n?.map((a) => a.addr), ['10.0.0.2', 'fd00::2']);
  });

  test('an interface without a name counts as the pod network; other names are kept', () => {
    const out = addressesOf(
      vmi({
        interfaces: [
          { ipAddresses: ['10.0.0.3'] },
          { name: 'storage', ipAddresses: ['172.16.0.3'], mac: '02:00:00:00:00:03' },
        ],
      }),
      'pods',
    );
    assert.deepEqual(out, {
      pods: [{ addr: '10.0.0.3', version: 4, type: 'fixed' }],
      storage: [{ addr: '172.16.0.3', version: 4, type: 'fixed', macAddr: '02:00:00:00:00:03' }],
    });
  });

  test('two interfaces on the same network are merged', () => {
    const out = addressesOf(vmi({ interfaces: [{ name: 'default', ipAddresses: ['10.0.0.3'] }, { ipAddresses: ['10.0.0.4'] }] }), 'n');
    assert.deepEqual(out.n?.map((a) => a.addr), ['10.0.0.3', '10.0.0.4']);
  });

  test('interfaces without IPs and VMIs without status yield no networks', () => {
    assert.deepEqual(addressesOf(vmi({ interfaces: [{ name: 'default', mac: '02:00:00:00:00:01' }] }), 'n'), {});
    assert.deepEqual(addressesOf(vmi(), 'n'), {});
    assert.deepEqual(addressesOf({ metadata: { name: 'x' }, spec: { domain: { devices: {} } } }, 'n'), {});
  });
});

describe('importProgress', () => {
  test('no DataVolumes → 0', () => {
    assert.equal(importProgress(undefined), 0);
    assert.equal(importProgress([]), 0);
  });

  test('parses CDI "NN.N%" strings and floors', () => {
    assert.equal(importProgress([dv('a', 'ImportInProgress', '45.9%')]), 45);
    assert.equal(importProgress([dv('a', 'ImportInProgress', '0.5%')]), 0);
    assert.equal(importProgress([dv('a', 'ImportInProgress', '99.99%')]), 99);
  });

  test('a Succeeded DataVolume counts as 100 whatever its progress string', () => {
    assert.equal(importProgress([dv('a', 'Succeeded')]), 100);
    assert.equal(importProgress([dv('a', 'Succeeded', 'N/A')]), 100);
  });

  test('unparsable or missing progress counts as 0', () => {
    assert.equal(importProgress([dv('a', 'ImportScheduled', 'N/A')]), 0);
    assert.equal(importProgress([dv('a', 'Pending')]), 0);
    assert.equal(importProgress([dv('a')]), 0);
  });

  test('averages over all DataVolumes', () => {
    assert.equal(importProgress([dv('a', 'ImportInProgress', '50.0%'), dv('b', 'Pending')]), 25);
    assert.equal(importProgress([dv('a', 'Succeeded'), dv('b', 'ImportInProgress', '33.3%'), dv('c', 'ImportInProgress', '10%')]), 47);
  });

  test('clamps to 0..100', () => {
    assert.equal(importProgress([dv('a', 'ImportInProgress', '150%')]), 100);
    assert.equal(importProgress([dv('a', 'ImportInProgress', '-20%')]), 0);
  });
});

describe('networksSummary', () => {
  test('undefined or empty → undefined', () => {
    assert.equal(networksSummary(undefined), undefined);
    assert.equal(networksSummary({}), undefined);
  });

  test('one network, as openstack server list prints it', () => {
    assert.equal(networksSummary({ net: [{ addr: '10.0.0.3', version: 4 }, { addr: 'fd00::3', version: 6 }] }), 'net=10.0.0.3, fd00::3');
  });

  test('several networks are separated by "; "', () => {
    assert.equal(networksSummary({ a: [{ addr: '10.0.0.3' }], b: [{ addr: '172.16.0.3' }, { addr: '172.16.0.4' }] }), 'a=10.0.0.3; b=172.16.0.3, 172.16.0.4');
  });

  test('summarises what novaStateOf computed', () => {
    const v = novaStateOf(input({ vm: vm('Running'), vmi: vmi({ phase: 'Running', interfaces: [{ name: 'default', ipAddresses: ['10.0.0.3', 'fd00::3'] }] }), networkName: 'private' }));
    assert.equal(networksSummary(v.addresses), 'private=10.0.0.3, fd00::3');
  });
});

test('POWER_STATE_CODES are Nova\'s numbers', () => {
  assert.deepEqual(POWER_STATE_CODES, { NOSTATE: 0, Running: 1, Paused: 3, Shutdown: 4, Crashed: 6, Suspended: 7 });
});
