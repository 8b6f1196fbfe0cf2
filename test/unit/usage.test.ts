// os-simple-tenant-usage (nova/views/usage.ts) and server diagnostics (nova/views/diagnostics.ts),
// against Nova's rules: hours within the period, states, paging links; diagnostics' two forms.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from '../../src/api/server.ts';
import type { VirtualMachineInstance } from '../../src/kubevirt/types.ts';
import { NovaError } from '../../src/nova/faults.ts';
import { Version } from '../../src/nova/microversion.ts';
import type { ViewContext } from '../../src/nova/views/links.ts';
import { activeDuring, tenantUsageList, tenantUsageShown, usagePeriod, type UsageServer } from '../../src/nova/views/usage.ts';
import { diagnosticsView } from '../../src/nova/views/diagnostics.ts';

const now = new Date('2026-05-02T00:00:00Z');
const vc = (v: string): ViewContext => ({ version: Version.of(v), origin: 'http://kova', prefix: '/v2.1', bookmarkPrefix: '', admin: true });
const srv = (id: string, o: Partial<UsageServer> = {}): UsageServer => ({ id, name: id, projectId: 'p1', flavor: 'm1.tiny', vcpus: 2, memoryMiB: 512, localGiB: 1, vmState: 'active', launchedAt: '2026-05-01T00:00:00Z', ...o });

describe('simple tenant usage', () => {
  const period = usagePeriod('2026-05-01T12:00:00', '2026-05-01T18:00:00', now);

  test('hours within the period, totals per project, a terminated server\'s state', () => {
    const list = activeDuring([srv('a'), srv('b', { launchedAt: '2026-05-01T15:00:00Z', terminatedAt: '2026-05-01T16:30:00Z' }), srv('c', { projectId: 'p2' })], period);
    const body = tenantUsageList(vc('2.1'), list, { period, now, detailed: true, limit: 0, query: {} }) as { tenant_usages: Record<string, any>[] };
    const p1 = body.tenant_usages[0]!;
    assert.equal(p1.tenant_id, 'p1');
    assert.equal(p1.total_hours, 7.5);
    assert.equal(p1.total_vcpus_usage, 15);
    assert.equal(p1.total_memory_mb_usage, 512 * 7.5);
    assert.equal(p1.start, '2026-05-01T12:00:00');
    assert.deepEqual(p1.server_usages.map((u: { instance_id: string; state: string; hours: number }) => [u.instance_id, u.state, u.hours]), [['a', 'active', 6], ['b', 'terminated', 1.5]]);
    assert.equal(p1.server_usages[1].uptime, 5400);
    assert.equal(body.tenant_usages[1]!.tenant_id, 'p2');
    assert.equal('server_usages' in (tenantUsageList(vc('2.1'), list, { period, now, detailed: false, limit: 0, query: {} }) as { tenant_usages: object[] }).tenant_usages[0]!, false);
  });

  test('servers not launched, launched after the end or terminated before the start do not count', () => {
    const list = activeDuring([srv('x', { launchedAt: undefined }), srv('y', { launchedAt: '2026-05-01T19:00:00Z' }), srv('z', { terminatedAt: '2026-05-01T11:00:00Z' })], period);
    assert.deepEqual(list, []);
    assert.deepEqual(tenantUsageShown(vc('2.1'), 'p1', list, { period, now, limit: 0, query: {} }), { tenant_usage: {} });
  });

  test('2.40: a full page links to the next, the query\'s keys sorted and the last server as marker', () => {
    const list = activeDuring([srv('a'), srv('b')], period).slice(0, 1);
    const body = tenantUsageList(vc('2.40'), list, { period, now, detailed: true, limit: 1, query: { start: '2026-05-01T12:00:00', end: '2026-05-01T18:00:00', limit: '1', detailed: '1' } }) as { tenant_usages_links: { href: string }[] };
    assert.equal(body.tenant_usages_links[0]!.href, 'http://kova/v2.1/os-simple-tenant-usage?detailed=1&end=2026-05-01T18%3A00%3A00&limit=1&marker=a&start=2026-05-01T12%3A00%3A00');
    assert.equal('tenant_usages_links' in tenantUsageList(vc('2.39'), list, { period, now, detailed: true, limit: 1, query: {} }), false);
  });

  test('periods: Nova\'s formats, start before end, the end no later than now', () => {
    assert.throws(() => usagePeriod('yesterday', undefined, now), (e: NovaError) => e.code === 400 && e.message === 'Invalid datetime string: Datetime is in invalid format');
    assert.throws(() => usagePeriod('2026-05-01T18:00:00', '2026-05-01T12:00:00', now), (e: NovaError) => e.message === 'Invalid start time. The start time cannot occur after the end time.');
    assert.equal(usagePeriod('2026-05-01 12:00:00.5', '2027-01-01T00:00:00', now).stop.getTime(), now.getTime());
  });
});

describe('server diagnostics', () => {
  const server = (powerState: string): Server => ({ metadata: { name: 'web', uid: 'u' }, spec: { name: 'web', flavor: 'f', image: 'i' }, status: { powerState: powerState as 'Running', host: 'n1', flavor: { vcpus: 2, ramMiB: 1024 } } });
  const vmi: VirtualMachineInstance = {
    metadata: { name: 'web' },
    spec: { domain: { devices: { disks: [{ name: 'root' }, { name: 'config-drive' }], interfaces: [{ name: 'default' }] } } },
    status: { phase: 'Running', phaseTransitionTimestamps: [{ phase: 'Scheduled', phaseTransitionTimestamp: '2026-05-01T23:00:00Z' }, { phase: 'Running', phaseTransitionTimestamp: '2026-05-01T23:59:00Z' }], interfaces: [{ name: 'default', mac: '02:00:00:00:00:01' }] },
  };

  test('2.48: what the VMI tells, counters null', () => {
    const d = diagnosticsView(Version.of('2.48'), server('Running'), vmi, { metadata: {}, status: { nodeInfo: { operatingSystem: 'linux' } } }, now);
    assert.deepEqual([d.state, d.driver, d.hypervisor, d.hypervisor_os, d.uptime, d.num_cpus, d.num_disks, d.num_nics, d.config_drive], ['running', 'libvirt', 'kvm', 'linux', 60, 2, 2, 1, true]);
    assert.deepEqual(d.memory_details, { maximum: 1024, used: null });
    assert.deepEqual((d.nic_details as { mac_address: string }[])[0]?.mac_address, '02:00:00:00:00:01');
    assert.deepEqual(d.cpu_details, [{ id: 0, time: null, utilisation: null }, { id: 1, time: null, utilisation: null }]);
  });

  test('a stopped server has no VMI: its state and flavor only', () => {
    const d = diagnosticsView(Version.of('2.48'), server('Shutdown'), undefined, undefined, now);
    assert.deepEqual([d.state, d.uptime, d.num_disks, d.num_nics, d.cpu_details], ['shutdown', null, null, null, []]);
  });

  test('before 2.48: the driver\'s own dictionary, with the memory libvirt reports (KiB)', () => {
    assert.deepEqual(diagnosticsView(Version.of('2.47'), server('Running'), vmi, undefined, now), { memory: 1024 * 1024 });
  });
});
