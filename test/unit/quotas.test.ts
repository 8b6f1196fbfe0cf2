// Nova's quota model (nova/quotas.ts): limits layered class → project → user, the counter table,
// Nova's decision for min..max creates, resize growth, metadata and key pairs, with Nova's messages.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { QuotaSet } from '../../src/api/quotaset.ts';
import type { Server } from '../../src/api/server.ts';
import { USER_ANNOTATION } from '../../src/api/labels.ts';
import {
  awaitsQuotaDecision, checkDeltas, checkMetadataItems, checkNewLimit, COUNTERS, countedServer, DEFAULT_LIMITS, effectiveLimits, QUOTA_CONDITION,
  quotaAdmitted, quotaRefusal, serversThatFit, specOf, usageOf, type Holdings, type QuotaScope,
} from '../../src/nova/quotas.ts';

const qs = (spec: QuotaSet['spec']): QuotaSet => ({ metadata: { name: 'x' }, spec });
const scope = (limits: Partial<typeof DEFAULT_LIMITS>, usage: QuotaScope['usage']): QuotaScope => ({ limits: { ...DEFAULT_LIMITS, ...limits }, usage });
const tiny = { vcpus: 1, ramMiB: 512 };
const quad = { vcpus: 4, ramMiB: 2048 };

describe('limits', () => {
  test("Nova's defaults, then the class, then the project, then the user; unset fields fall through", () => {
    assert.deepEqual(effectiveLimits({}), DEFAULT_LIMITS);
    assert.equal(DEFAULT_LIMITS.instances, 10);
    assert.equal(DEFAULT_LIMITS.ram, 51200);
    const l = effectiveLimits({ klass: qs({ instances: 50, cores: 40 }), project: qs({ cores: 30, ramMiB: 1024 }), user: qs({ userId: 'u', ramMiB: 512 }) });
    assert.deepEqual([l.instances, l.cores, l.ram, l.key_pairs], [50, 30, 512, 100]);
  });

  test('a Nova body becomes QuotaSet fields (only the resources it names)', () => {
    assert.deepEqual(specOf({ instances: 5, ram: 1024, key_pairs: -1 }), { instances: 5, ramMiB: 1024, keyPairs: -1 });
  });
});

describe('counting', () => {
  const h: Holdings = {
    servers: [{ userId: 'a', vcpus: 2, ramMiB: 1024 }, { userId: 'b', vcpus: 4, ramMiB: 2048 }, { vcpus: 1, ramMiB: 512 }],
    keyPairs: [{ userId: 'a' }, { userId: 'a' }, { userId: 'b' }],
    serverGroups: [{ userId: 'b' }],
  };
  test('the counter table counts each resource for the project and for one user', () => {
    assert.deepEqual(usageOf(h), { instances: 3, cores: 7, ram: 3584, key_pairs: 3, server_groups: 1 });
    assert.deepEqual(usageOf(h, 'a'), { instances: 1, cores: 2, ram: 1024, key_pairs: 2, server_groups: 0 });
    assert.deepEqual(Object.keys(COUNTERS).sort(), ['cores', 'instances', 'key_pairs', 'ram', 'server_groups']);
  });

  const srv = (o: { status?: Server['status']; deleting?: boolean; flavor?: string; user?: string } = {}): Server => ({
    metadata: { name: 's', namespace: 'p', uid: 'u1', ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}), annotations: o.user ? { [USER_ANNOTATION]: o.user } : {} },
    spec: { name: 's', flavor: o.flavor ?? 'small', image: 'cirros' },
    ...(o.status ? { status: o.status } : {}),
  });
  const flavors: Record<string, { vcpus: number; ramMiB: number }> = { small: tiny, big: quad };
  const flavorOf = (ref: string) => flavors[ref];

  test('a server counts at the larger of its current and requested flavor; deleting or refused ones do not count', () => {
    assert.deepEqual(countedServer(srv({ user: 'a' }), flavorOf), { userId: 'a', vcpus: 1, ramMiB: 512 });
    assert.deepEqual(countedServer(srv({ flavor: 'big', status: { flavor: { vcpus: 1, ramMiB: 512 } } }), flavorOf), { userId: undefined, vcpus: 4, ramMiB: 2048 });
    assert.deepEqual(countedServer(srv({ flavor: 'small', status: { flavor: { vcpus: 4, ramMiB: 2048 } } }), flavorOf), { userId: undefined, vcpus: 4, ramMiB: 2048 });
    assert.equal(countedServer(srv({ deleting: true }), flavorOf), undefined);
    const refused = srv({ status: { conditions: [{ type: QUOTA_CONDITION, status: 'False', reason: 'QuotaExceeded', message: 'Quota exceeded…', lastTransitionTime: '2026-01-01T00:00:00Z' }] } });
    assert.equal(countedServer(refused, flavorOf), undefined);
    assert.equal(quotaRefusal(refused), 'Quota exceeded…');
    assert.equal(awaitsQuotaDecision(refused), false);
  });

  test('the controller decides once: new servers await it; admitted ones (or built before quotas) count', () => {
    assert.equal(awaitsQuotaDecision(srv()), true);
    assert.equal(quotaAdmitted(srv()), false);
    assert.equal(quotaAdmitted(srv({ status: { instanceName: 's' } })), true);
    assert.equal(awaitsQuotaDecision(srv({ status: { instanceName: 's' } })), false);
    assert.equal(awaitsQuotaDecision(srv({ deleting: true })), false);
    assert.equal(quotaAdmitted(srv({ status: { conditions: [{ type: QUOTA_CONDITION, status: 'True', reason: 'Admitted', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] } })), true);
  });
});

describe("Nova's decision", () => {
  test("the brief's example: 4 cores asked with 18 of 20 used", () => {
    assert.deepEqual(serversThatFit([scope({}, { instances: 5, cores: 18, ram: 0 })], quad, 1, 1), { refusal: 'Quota exceeded for cores: Requested 4, but already used 18 of 20 cores' });
  });

  test('instances at the limit', () => {
    assert.deepEqual(serversThatFit([scope({}, { instances: 10, cores: 10, ram: 0 })], tiny, 1, 1), { refusal: 'Quota exceeded for instances: Requested 1, but already used 10 of 10 instances' });
  });

  test('min..max: as many as fit up to max; refused (naming every resource over at max) when fewer than min fit', () => {
    const s = [scope({ instances: 10 }, { instances: 7, cores: 7, ram: 0 })];
    assert.deepEqual(serversThatFit(s, tiny, 1, 2), { count: 2 });
    assert.deepEqual(serversThatFit(s, tiny, 2, 5), { count: 3 });
    assert.deepEqual(serversThatFit(s, tiny, 4, 5), { refusal: 'Quota exceeded for instances: Requested 4-5, but already used 7 of 10 instances' });
    assert.deepEqual(serversThatFit([scope({ instances: 10, cores: 8 }, { instances: 7, cores: 7, ram: 0 })], tiny, 4, 4),
      { refusal: 'Quota exceeded for instances, cores: Requested 4, 4, but already used 7, 7 of 10, 8 instances, cores' });
  });

  test('-1 is unlimited; a user scope limits its user as well', () => {
    assert.deepEqual(serversThatFit([scope({ instances: -1, cores: -1, ram: -1 }, { instances: 1000, cores: 1000, ram: 1 << 30 })], quad, 50, 50), { count: 50 });
    const project = scope({}, { instances: 2, cores: 2, ram: 1024 });
    const user = scope({ instances: 1 }, { instances: 1, cores: 1, ram: 512 });
    assert.deepEqual(serversThatFit([project, user], tiny, 1, 1), { refusal: 'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances' });
  });

  test("a resize's growth is what is checked; a smaller flavor always fits", () => {
    const s = [scope({}, { instances: 3, cores: 19, ram: 4096 })];
    assert.equal(checkDeltas(s, { cores: 2, ram: 1024 }), 'Quota exceeded for cores: Requested 2, but already used 19 of 20 cores');
    assert.equal(checkDeltas(s, { cores: 1, ram: 1024 }), undefined);
    assert.equal(checkDeltas(s, { cores: -3, ram: -1024 }), undefined);
  });

  test('key pairs and metadata items', () => {
    assert.ok(checkDeltas([scope({ key_pairs: 2 }, { key_pairs: 2 })], { key_pairs: 1 }));
    assert.equal(checkDeltas([scope({ key_pairs: 2 }, { key_pairs: 1 })], { key_pairs: 1 }), undefined);
    assert.equal(checkMetadataItems(DEFAULT_LIMITS, 129), 'Maximum number of metadata items exceeds 128');
    assert.equal(checkMetadataItems(DEFAULT_LIMITS, 128), undefined);
    assert.equal(checkMetadataItems({ ...DEFAULT_LIMITS, metadata_items: -1 }, 10_000), undefined);
  });

  test("a new limit: not below what is used (unless forced), a user's not above the project's", () => {
    assert.equal(checkNewLimit('instances', 5, 8), 'Quota limit 5 for instances must be greater than or equal to already used and reserved 8.');
    assert.equal(checkNewLimit('instances', -1, 8), undefined);
    assert.equal(checkNewLimit('instances', 8, 8), undefined);
    assert.equal(checkNewLimit('cores', 30, 0, 20), 'Quota limit 30 for cores must be less than or equal to 20.');
    assert.equal(checkNewLimit('cores', 20, 0, -1), undefined);
  });
});
