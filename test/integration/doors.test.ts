// The two doors onto a Server — the Compute API and a spec written with kubectl — give the same
// answer to the same request, because both ask compute/ and the action catalog: a refusal through
// the API (400 / 409 at once) is a refusal through the spec (ERROR with the same fault, or
// Accepted=False with the same state message), and what one accepts the other does too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { createServer, ensureFlavor, project, uniq } from '../support/fixtures.ts';
import { people } from '../support/people.ts';
import { eventually, serverStatusIs, serverWhere } from '../support/waiting.ts';

describe('the Compute API and the spec door agree', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let zone: string;
  let admin: string;
  let member: string;
  let imageId: string;
  let projectId: string;

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client));
    const { namespace: other } = await project(kova.client);
    await ensureFlavor(kova.client, { id: 'door-1', name: 'door.tiny', vcpus: 1, ramMiB: 256, diskGiB: 1 });
    await ensureImage(kova.client, 'kova-images', 'cirros');
    api = await startApi(kova);
    ({ admin, member } = await people(kova, api, ns, other));
    imageId = (await eventually('image in cache', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
    projectId = api.facade.caches.projectIdOf(ns) ?? ns;
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  const boot = (token: string, flavorRef: string) =>
    api.call('POST', '/v2.1/servers', { token, version: '2.37', body: { server: { name: uniq('door'), flavorRef, imageRef: imageId, networks: 'auto', availability_zone: zone } } });

  test('a private flavor without access: 400 from the API for a member AND an admin; ERROR "could not be found" from the spec', async () => {
    const id = uniq('priv');
    await ensureFlavor(kova.client, { id, name: id, vcpus: 1, ramMiB: 256, diskGiB: 1, isPublic: false, projects: ['someone-else'] });
    for (const [who, token] of [['member', member], ['admin', admin]] as const) {
      const r = await boot(token, id);
      assert.equal(r.status, 400, `${who}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.badRequest.message, `Flavor ${id} could not be found.`);
    }
    assert.equal((await kova.client.list<Server>(SERVERS, { namespace: ns })).items.filter((s) => s.spec.flavor === id).length, 0, 'nothing half-made');
    const name = uniq('spec');
    await createServer(kova.client, ns, name, { flavor: id, availabilityZone: zone });
    const s = await serverStatusIs(kova.client, ns, name, 'ERROR');
    assert.equal(s.status?.fault?.message, `Flavor ${id} could not be found.`);
  });

  test('the same private flavor shared with the project: accepted by both doors, and both servers run', async () => {
    const id = uniq('shared');
    await ensureFlavor(kova.client, { id, name: id, vcpus: 1, ramMiB: 256, diskGiB: 1, isPublic: false, projects: [projectId] });
    await eventually('flavor ready in the API cache', async () => api.facade.caches.flavor(id)?.status?.instancetype);
    const r = await boot(member, id);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const viaApi = await eventually('server in the cache', async () => api.facade.caches.servers.byIndex('uid', r.body.server.id)[0]);
    await serverStatusIs(kova.client, ns, viaApi.metadata.name ?? '', 'ACTIVE', undefined);
    const name = uniq('spec');
    await createServer(kova.client, ns, name, { flavor: id, availabilityZone: zone });
    await serverStatusIs(kova.client, ns, name, 'ACTIVE');
  });

  test('a state the rules refuse (SOFT reboot of a stopped server): 409 from the API, Accepted=False with the same message from the spec', async () => {
    const name = uniq('stopped');
    const made = await createServer(kova.client, ns, name, { flavor: 'door.tiny', availabilityZone: zone, powerState: 'Shutoff' });
    const s = await serverStatusIs(kova.client, ns, name, 'SHUTOFF');
    // The API decides from its cache: wait until it shows the stopped server too.
    await eventually('the API shows SHUTOFF', async () => (await api.call('GET', `/v2.1/servers/${s.metadata.uid}`, { token: member })).body.server?.status === 'SHUTOFF');
    const r = await api.call('POST', `/v2.1/servers/${s.metadata.uid}/action`, { token: member, body: { reboot: { type: 'SOFT' } } });
    assert.equal(r.status, 409);
    const apiMessage: string = r.body.conflictingRequest.message;
    assert.equal(apiMessage, `Cannot 'reboot' instance ${made.metadata.uid} while it is in vm_state stopped`);
    await kova.client.mergePatch(SERVERS, name, ns, { spec: { reboot: { type: 'SOFT', requestId: 'by-kubectl-1' } } });
    const refused = await serverWhere(kova.client, ns, name, 'Accepted=False', (x) => x.status?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'False') === true);
    const message = refused.status?.conditions?.find((c) => c.type === 'Accepted')?.message ?? '';
    assert.equal(message, `reboot by-kubectl-1: ${apiMessage}`);
  });
});
