// The server list's filters and sort keys (facade/server-filters.ts) against Nova's rules: each
// filter Nova honours has a case that a server list ignoring it would fail (two servers that differ
// on that column only, and the filter keeps one).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from '../../src/api/server.ts';
import { ACCESS_IPV4_ANNOTATION, ACCESS_IPV6_ANNOTATION, LAUNCH_INDEX_ANNOTATION } from '../../src/api/labels.ts';
import { NovaError } from '../../src/nova/faults.ts';
import { Version } from '../../src/nova/microversion.ts';
import type { ServerFacts } from '../../src/nova/server-columns.ts';
import { allTenants, checkListQuery, serverFilter, serverOrder } from '../../src/facade/server-filters.ts';
import type { Query } from '../../src/facade/query.ts';

const V = (v: string) => Version.of(v);
const LATEST = V('2.104');
const facts = (): ServerFacts => ({ projectId: 'p1', imageId: 'img-1', zone: 'zone-a' });

let n = 0;
function server(o: { spec?: Partial<Server['spec']>; status?: Server['status']; annotations?: Record<string, string>; created?: string } = {}): Server {
  n++;
  return {
    metadata: { name: `s${n}`, namespace: 'p1', uid: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`, creationTimestamp: o.created ?? `2026-01-0${(n % 9) + 1}T10:00:00Z`, annotations: o.annotations },
    spec: { name: `s${n}`, flavor: 'm1.tiny', image: 'cirros', ...o.spec },
    status: { status: 'ACTIVE', vmState: 'active', powerState: 'Running', launchedAt: '2026-01-01T10:00:00Z', ...o.status },
  };
}

const names = (q: Query, list: Server[], o: { admin?: boolean; v?: Version } = {}): string[] => {
  const v = o.v ?? LATEST;
  checkListQuery(q, v);
  return list.filter(serverFilter(q, o.admin ?? true, v, facts)).map((s) => s.metadata.name ?? '');
};
const refused = (fn: () => unknown, code: number, message: string | RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof NovaError && e.code === code && (typeof message === 'string' ? e.message === message : message.test(e.message)));
};

/** Two servers, `a` and `b`, that differ as given; the query must keep `a` only. */
function keepsFirst(q: Query, a: Server, b: Server, o: { admin?: boolean; v?: Version } = {}): void {
  assert.deepEqual(names(q, [a, b], o), [a.metadata.name], JSON.stringify(q));
}

describe('filters Nova honours (each one a case that fails if it were ignored)', () => {
  test('locked=true / locked=false (2.73) honour the lock', () => {
    const locked = server({ spec: { locked: true, lockedBy: 'owner' } });
    const open = server();
    keepsFirst({ locked: 'true' }, locked, open, { admin: false });
    keepsFirst({ locked: 'false' }, open, locked, { admin: false });
    keepsFirst({ locked: '1' }, locked, open, { admin: false });
    refused(() => names({ locked: 'maybe' }, [locked], { admin: false }), 400, /^Invalid input received: Unrecognized value 'maybe', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'$/);
  });

  test('locked is dropped for a non-admin before 2.73, refused as unknown from 2.75 only when unknown', () => {
    const locked = server({ spec: { locked: true } });
    assert.deepEqual(names({ locked: 'false' }, [locked], { admin: false, v: V('2.72') }), [locked.metadata.name]);
  });

  test('deleted: soft-deleted servers only when deleted=true; hidden otherwise', () => {
    const soft = server({ status: { status: 'SOFT_DELETED', vmState: 'soft-delete' } });
    const live = server();
    keepsFirst({ deleted: 'true' }, soft, live);
    keepsFirst({}, live, soft);
    keepsFirst({ deleted: 'false' }, live, soft);
    keepsFirst({ deleted: 'nonsense' }, live, soft);
  });

  test('soft_deleted: with deleted=false it shows soft-deleted servers too; with deleted=true and soft_deleted=false none', () => {
    const soft = server({ status: { status: 'SOFT_DELETED', vmState: 'soft-delete' } });
    const live = server();
    assert.deepEqual(names({ deleted: 'false', soft_deleted: 'true' }, [soft, live]), [soft.metadata.name, live.metadata.name]);
    assert.deepEqual(names({ soft_deleted: 'true' }, [soft, live]), [soft.metadata.name, live.metadata.name]);
    assert.deepEqual(names({ deleted: 'true', soft_deleted: 'false' }, [soft, live]), []);
  });

  test('status=DELETED and vm_state=deleted are admins\' only', () => {
    refused(() => names({ status: 'DELETED' }, [server()], { admin: false }), 403, 'Only administrators may list deleted instances');
    refused(() => names({ vm_state: 'deleted' }, [server()], { admin: false }), 403, 'Only administrators may list deleted instances');
  });

  test('config_drive matches Nova\'s column ("True": every Kova server has one)', () => {
    const s = server();
    assert.deepEqual(names({ config_drive: 'True' }, [s], { admin: false }), [s.metadata.name]);
    assert.deepEqual(names({ config_drive: '^$' }, [s], { admin: false }), []);
  });

  test('created_at, launched_at, terminated_at match the time as the database writes it', () => {
    const jan = server({ created: '2026-01-05T08:00:00Z', status: { launchedAt: '2026-01-05T08:01:00Z', terminatedAt: '2026-02-01T00:00:00Z' } });
    const feb = server({ created: '2026-02-07T08:00:00Z', status: { launchedAt: '2026-02-07T09:00:00Z' } });
    keepsFirst({ created_at: '^2026-01-05 08:00' }, jan, feb, { admin: false });
    keepsFirst({ launched_at: '2026-01-05 08:01:00' }, jan, feb, { admin: false });
    keepsFirst({ terminated_at: '2026-02' }, jan, feb, { admin: false });
  });

  test('launch_index (admin) matches the index within a multi-create', () => {
    keepsFirst({ launch_index: '^1$' }, server({ annotations: { [LAUNCH_INDEX_ANNOTATION]: '1' } }), server({ annotations: { [LAUNCH_INDEX_ANNOTATION]: '0' } }));
  });

  test('kernel_id, ramdisk_id, root_device_name (admin) match Nova\'s values for a KubeVirt guest', () => {
    const s = server();
    assert.deepEqual(names({ kernel_id: 'aki' }, [s]), []);
    assert.deepEqual(names({ ramdisk_id: 'ari' }, [s]), []);
    assert.deepEqual(names({ root_device_name: '/dev/vda' }, [s]), [s.metadata.name]);
    assert.deepEqual(names({ root_device_name: 'sda' }, [s]), []);
  });

  test('access_ip_v4 / access_ip_v6 (admin) match what the user set', () => {
    const a = server({ annotations: { [ACCESS_IPV4_ANNOTATION]: '192.0.2.10', [ACCESS_IPV6_ANNOTATION]: '2001:db8::10' } });
    keepsFirst({ access_ip_v4: '192\\.0\\.2\\.10' }, a, server());
    keepsFirst({ access_ip_v6: '2001:db8::' }, a, server());
  });

  test('auto_disk_config (admin) matches the boolean column as 1/0', () => {
    const s = server();
    assert.deepEqual(names({ auto_disk_config: '1' }, [s]), [s.metadata.name]);
    assert.deepEqual(names({ auto_disk_config: '0' }, [s]), []);
  });

  test('locked_by (admin) matches who locked it', () => {
    keepsFirst({ locked_by: 'admin' }, server({ spec: { locked: true, lockedBy: 'admin' } }), server({ spec: { locked: true, lockedBy: 'owner' } }));
  });

  test('display_description (admin) matches the description; description is no column and is ignored', () => {
    const a = server({ spec: { description: 'web tier' } });
    const b = server({ spec: { description: 'db tier' } });
    keepsFirst({ display_description: '^web' }, a, b);
    assert.equal(names({ description: '^web' }, [a, b]).length, 2);
  });

  test('admin-only filters are dropped for a non-admin, not refused', () => {
    const a = server({ spec: { description: 'web tier' } });
    const b = server({ spec: { description: 'db tier' } });
    assert.equal(names({ display_description: '^web' }, [a, b], { admin: false }).length, 2);
    assert.equal(names({ metadata: 'x', _secret: 'y' }, [a, b], { admin: false }).length, 2);
    refused(() => names({ metadata: 'x' }, [a]), 400, 'Invalid filter field: metadata.');
    refused(() => names({ _secret: 'x' }, [a]), 400, 'Invalid filter field: _secret.');
  });

  test('key_name, availability_zone, power_state, reservation_id and name are regular expressions', () => {
    keepsFirst({ key_name: '^dev' }, server({ spec: { keyName: 'devkey' } }), server({ spec: { keyName: 'prodkey' } }), { admin: false });
    keepsFirst({ power_state: '^4$' }, server({ status: { powerState: 'Shutdown' } }), server(), { admin: false });
    keepsFirst({ name: 'we.' }, server({ spec: { name: 'web' } }), server({ spec: { name: 'db' } }), { admin: false });
  });

  test('a bad regular expression or an empty one is Nova\'s 400, for everyone', () => {
    refused(() => checkListQuery({ name: '(' }, LATEST), 400, "Invalid input for query parameters name. Value: (. '(' is not a 'regex'");
    refused(() => checkListQuery({ kernel_id: '' }, V('2.1')), 400, "Invalid input for query parameters kernel_id. Value: . '' is not a 'regex'");
  });

  test('from 2.75 a key Nova does not know is a 400; one it knows but the caller may not use is dropped', () => {
    refused(() => checkListQuery({ nonsense: '1' }, V('2.75')), 400, "Invalid input for query parameters nonsense. Value: 1. Additional properties are not allowed ('nonsense' was unexpected)");
    checkListQuery({ nonsense: '1' }, V('2.74'));
    checkListQuery({ host: 'x' }, V('2.75'));
  });

  test('all_tenants: present, or a word for true; anything else is Nova\'s 400', () => {
    assert.equal(allTenants({}), false);
    assert.equal(allTenants({ all_tenants: '' }), true);
    assert.equal(allTenants({ all_tenants: 'True' }), true);
    assert.equal(allTenants({ all_tenants: '0' }), false);
    refused(() => allTenants({ all_tenants: 'everyone' }), 400, /^Invalid input received: Unrecognized value 'everyone'/);
  });

  test('status: any of several; none valid is a 400 from 2.38 and nothing before', () => {
    const a = server();
    const b = server({ status: { status: 'SHUTOFF', vmState: 'stopped', powerState: 'Shutdown' } });
    assert.deepEqual(names({ status: ['active', 'SHUTOFF'] }, [a, b]), [a.metadata.name, b.metadata.name]);
    refused(() => names({ status: 'bogus' }, [a]), 400, 'Invalid status value');
    assert.deepEqual(names({ status: 'bogus' }, [a], { v: V('2.37') }), []);
  });
});

describe('sort keys', () => {
  const sorted = (q: Query, list: Server[], o: { admin?: boolean; v?: Version } = {}): string[] => {
    const v = o.v ?? LATEST;
    checkListQuery(q, v);
    return [...list].sort(serverOrder(q, o.admin ?? true, v, facts)).map((s) => s.metadata.name ?? '');
  };

  test('a key Nova never knew is a 400 at every version (never a 500: own keys only)', () => {
    for (const k of ['__proto__', 'constructor', 'toString', 'bogus']) {
      for (const v of ['2.1', '2.74', '2.75']) refused(() => sorted({ sort_key: k }, [server()], { v: V(v) }), 400, new RegExp(`^Invalid input for query parameters sort_key\\. Value: ${k}\\. '${k}' is not one of \\[`));
    }
  });

  test('keys Nova ignores before 2.75 are ignored; from 2.75 refused; locked sorts from 2.73', () => {
    const a = server({ created: '2026-01-01T00:00:00Z', spec: { locked: true } });
    const b = server({ created: '2026-01-02T00:00:00Z' });
    assert.deepEqual(sorted({ sort_key: 'vcpus' }, [a, b], { v: V('2.74') }), [b.metadata.name, a.metadata.name]);
    refused(() => sorted({ sort_key: 'vcpus' }, [a, b], { v: V('2.75') }), 400, /is not one of/);
    assert.deepEqual(sorted({ sort_key: 'locked', sort_dir: 'desc' }, [b, a], { v: V('2.73') }), [a.metadata.name, b.metadata.name]);
    assert.deepEqual(sorted({ sort_key: 'locked', sort_dir: 'asc' }, [a, b], { v: V('2.72') }), [b.metadata.name, a.metadata.name], 'ignored with its direction: newest first');
  });

  test('host and node are admins\' only; sort_dir must be asc or desc and no more than the keys', () => {
    refused(() => sorted({ sort_key: 'node' }, [server()], { admin: false }), 403, 'Only administrators can sort servers by node');
    refused(() => sorted({ sort_key: 'display_name', sort_dir: 'up' }, [server()]), 400, "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'");
    refused(() => sorted({ sort_key: 'display_name', sort_dir: ['asc', 'desc'] }, [server()]), 400, 'Invalid input received: Sort direction size exceeds sort key size');
  });

  test('sorting by a column Kova keeps (display_description, launch_index, access_ip_v4)', () => {
    const a = server({ spec: { description: 'a' }, annotations: { [LAUNCH_INDEX_ANNOTATION]: '2', [ACCESS_IPV4_ANNOTATION]: '10.0.0.2' } });
    const b = server({ spec: { description: 'b' }, annotations: { [LAUNCH_INDEX_ANNOTATION]: '1', [ACCESS_IPV4_ANNOTATION]: '10.0.0.1' } });
    assert.deepEqual(sorted({ sort_key: 'display_description', sort_dir: 'asc' }, [b, a]), [a.metadata.name, b.metadata.name]);
    assert.deepEqual(sorted({ sort_key: 'launch_index', sort_dir: 'asc' }, [a, b]), [b.metadata.name, a.metadata.name]);
    assert.deepEqual(sorted({ sort_key: 'access_ip_v4', sort_dir: 'asc' }, [a, b]), [b.metadata.name, a.metadata.name]);
  });
});
