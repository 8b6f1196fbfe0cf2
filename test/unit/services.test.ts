// Nova's services as Kova has them (nova/services.ts) and the bodies built from them: a compute
// service per Node, the scheduler and conductor from their leaders' Leases, the zones.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../../src/kube/types.ts';
import { Version } from '../../src/nova/microversion.ts';
import { computeService, leaseService, type Lease } from '../../src/nova/services.ts';
import { serviceView } from '../../src/nova/views/services.ts';
import { availabilityZoneDetail, availabilityZoneList } from '../../src/nova/views/availability-zones.ts';

const now = new Date('2026-05-01T12:00:00Z');
const lease = (o: { holder?: string; renewedSecondsAgo?: number; duration?: number }): Lease => ({
  metadata: { name: 'kube-scheduler', namespace: 'kube-system', uid: '11111111-2222-3333-4444-555555555555' },
  spec: { holderIdentity: o.holder ?? 'cp-1_0b6a4c1e-aaaa-bbbb-cccc-000000000000', leaseDurationSeconds: o.duration ?? 15, renewTime: new Date(now.getTime() - (o.renewedSecondsAgo ?? 2) * 1000).toISOString().replace('Z', '000Z') },
});
const node = (name: string, o: { zone?: string; cordoned?: boolean } = {}): Node => ({
  metadata: { name, uid: `aaaaaaaa-0000-0000-0000-00000000000${name.length}`, labels: o.zone ? { 'topology.kubernetes.io/zone': o.zone } : {} },
  spec: { unschedulable: o.cordoned },
  status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-05-01T11:59:50Z' }] },
});

describe('services from Leases', () => {
  test('up while the holder renews within the lease duration; on the holder\'s host; in the internal zone', () => {
    const s = leaseService('nova-scheduler', lease({}), now);
    assert.deepEqual([s.binary, s.host, s.zone, s.up, s.disabled, s.forcedDown], ['nova-scheduler', 'cp-1', 'internal', true, false, false]);
    assert.equal(s.updatedAt, '2026-05-01T11:59:58.000000');
    assert.equal(leaseService('nova-scheduler', lease({ renewedSecondsAgo: 20 }), now).up, false, 'expired');
    assert.equal(leaseService('nova-conductor', lease({ holder: '' }), now).up, false, 'released');
  });

  test('the view: Nova\'s fields, an integer id before 2.53 and the Lease uid from it', () => {
    const s = leaseService('nova-scheduler', lease({}), now);
    const old = serviceView(Version.of('2.11'), s);
    assert.deepEqual(Object.keys(old).sort(), ['binary', 'disabled_reason', 'forced_down', 'host', 'id', 'state', 'status', 'updated_at', 'zone']);
    assert.equal(typeof old.id, 'number');
    assert.equal(serviceView(Version.of('2.53'), s).id, '11111111-2222-3333-4444-555555555555');
  });
});

describe('availability zones from the services', () => {
  const services = [leaseService('nova-scheduler', lease({}), now), computeService(node('a', { zone: 'zone-a' })), computeService(node('bb', { zone: 'zone-b', cordoned: true }))];
  test('the list hides the internal zone; a zone with only disabled services is not available', () => {
    assert.deepEqual(availabilityZoneList(services), { availabilityZoneInfo: [{ zoneName: 'zone-a', zoneState: { available: true }, hosts: null }, { zoneName: 'zone-b', zoneState: { available: false }, hosts: null }] });
  });
  test('the detail shows the internal zone\'s scheduler and each available zone\'s hosts', () => {
    const info = (availabilityZoneDetail(services) as { availabilityZoneInfo: { zoneName: string; hosts: Record<string, Record<string, { available: boolean }>> | null }[] }).availabilityZoneInfo;
    assert.deepEqual(info.map((z) => z.zoneName), ['internal', 'zone-a', 'zone-b']);
    assert.equal(info[0]?.hosts?.['cp-1']?.['nova-scheduler']?.available, true);
    assert.ok(info[1]?.hosts?.a?.['nova-compute']);
    assert.equal(info[2]?.hosts, null);
  });
});
