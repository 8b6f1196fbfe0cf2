// Remote consoles end to end: a member asks for a noVNC URL, opens its websocket on the façade and
// speaks RFB with the guest's display, which the façade reaches through the kube-apiserver's
// proxy to KubeVirt's VNC subresource (the simulator's virt-api behind a real APIService), as the
// caller. Tokens are bound to one server, expire, and work on any replica sharing the key.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { roleBinding } from '../../src/api/rbac.ts';
import { SERVERS, type Server } from '../../src/api/server.ts';
import { VIRTUAL_MACHINES, type VirtualMachine } from '../../src/kubevirt/types.ts';
import { ROLE_BINDING_TYPE } from '../../src/kube/types.ts';
import { HOLD } from '../../src/sim/injections.ts';
import { ensureImage } from '../../src/sim/seed.ts';
import { compareShape, loadTemplate } from '../conformance/samples.ts';
import { startApi, startKova, type Api, type Kova } from '../support/cluster.ts';
import { grant, people, type People } from '../support/people.ts';
import { eventually } from '../support/waiting.ts';
import { ensureFlavor, project } from '../support/fixtures.ts';

/** The websocket a noVNC page would open for a console URL: the page's host joined with `path`. */
function websocketUrl(consoleUrl: string, host?: string): string {
  const u = new URL(consoleUrl);
  const path = u.searchParams.get('path') ?? '';
  return `${u.protocol === 'https:' ? 'wss' : 'ws'}://${host ?? u.host}/${path}`;
}

/** Bytes from a websocket, read in the sizes the caller asks for. */
class Reader {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  constructor(ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, data]);
      this.waiting?.();
    });
  }
  async read(n: number): Promise<Buffer> {
    const deadline = Date.now() + 10_000;
    while (this.buffered.length < n) {
      if (Date.now() > deadline) throw new Error(`timed out reading ${n} bytes (have ${this.buffered.length})`);
      await new Promise<void>((r) => {
        this.waiting = r;
        setTimeout(r, 200);
      });
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }
}

type Opened = { ok: true; ws: WebSocket; reader: Reader } | { ok: false; status: number; body: any };

/** Opens a console URL's websocket; a refusal is the HTTP answer the façade gave instead of upgrading. */
function open(url: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const reader = new Reader(ws);
    ws.once('open', () => resolve({ ok: true, ws, reader }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ ok: false, status: res.statusCode ?? 0, body });
      });
    });
    ws.on('error', (e) => reject(e));
  });
}

/** The client's side of RFB 3.8's opening; returns the desktop name the server announces. */
async function rfbDesktopName(o: Opened): Promise<string> {
  assert.ok(o.ok, `websocket refused: ${JSON.stringify(!o.ok && o)}`);
  const { ws, reader } = o;
  assert.equal((await reader.read(12)).toString('latin1'), 'RFB 003.008\n', 'the RFB greeting comes first');
  ws.send(Buffer.from('RFB 003.008\n'));
  assert.deepEqual([...(await reader.read(2))], [1, 1], 'one security type: None');
  ws.send(Buffer.from([1]));
  assert.equal((await reader.read(4)).readUInt32BE(0), 0, 'SecurityResult OK');
  ws.send(Buffer.from([1]));
  const init = await reader.read(24);
  const name = (await reader.read(init.readUInt32BE(20))).toString('utf8');
  ws.close();
  return name;
}

describe('remote consoles (VNC through KubeVirt\'s subresource)', () => {
  let kova: Kova;
  let api: Api;
  let ns: string;
  let zone: string;
  let other: string;
  let who: People;
  let imageId: string;
  let serverId: string;
  let vmName: string;
  const tokenKey = randomBytes(32);

  const create = async (name: string): Promise<string> => {
    const r = await api.call('POST', '/v2.1/servers', { token: who.member, version: '2.37', body: { server: { name, flavorRef: '1', imageRef: imageId, networks: 'auto', availability_zone: zone } } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.server.id;
  };
  const settled = (id: string, want: string) => eventually(`server ${want}`, async () => {
    const s = (await api.call('GET', `/v2.1/servers/${id}`, { token: who.member })).body.server;
    return s?.status === want && s['OS-EXT-STS:task_state'] === null ? s : undefined;
  }, 60_000);
  const ask = (id: string, token: string, body: unknown = { remote_console: { protocol: 'vnc', type: 'novnc' } }, version = '2.6') =>
    api.call('POST', `/v2.1/servers/${id}/remote-consoles`, { token, version, body });
  const consoleUrl = async (id: string, token = who.member): Promise<string> => {
    const r = await ask(id, token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.remote_console.url;
  };
  const tokenOf = (url: string): string => new URLSearchParams(new URL(websocketUrl(url)).search).get('token') ?? '';

  before(async () => {
    kova = await startKova();
    ({ namespace: ns, zone } = await project(kova.client));
    ({ namespace: other } = await project(kova.client));
    await ensureFlavor(kova.client, { id: '1', name: 'm1.tiny', vcpus: 1, ramMiB: 512, diskGiB: 1 });
    await ensureImage(kova.client, 'kova-images', 'cirros');
    api = await startApi(kova, { tokenKey });
    who = await people(kova, api, ns, other);
    imageId = (await eventually('image in cache', async () => api.facade.caches.image('cirros')?.metadata.uid))!;
    serverId = await create('desk');
    await settled(serverId, 'ACTIVE');
    vmName = api.facade.caches.servers.byIndex('uid', serverId)[0]?.status?.instanceName ?? '';
  });
  after(async () => {
    await api?.stop();
    await kova?.stop();
  });

  test('a member gets a noVNC URL (2.6) whose websocket on the façade reaches the server\'s display', async () => {
    const r = await ask(serverId, who.member);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['remote_console']);
    assert.deepEqual({ ...r.body.remote_console, url: undefined }, { protocol: 'vnc', type: 'novnc', url: undefined });
    assert.deepEqual(compareShape(r.body, loadTemplate('os-remote-consoles', 'create-vnc-console-resp.json.tpl', '2.6')?.value), []);
    const url: string = r.body.remote_console.url;
    assert.match(url, new RegExp(`^${api.url}/novnc/vnc_lite\\.html\\?path=novnc%2Fwebsockify%3Ftoken%3D`));
    assert.equal(await rfbDesktopName(await open(websocketUrl(url))), `${ns}/${vmName}`);
  });

  test('the URL opens a console page on the façade, with noVNC\'s client beside it', async () => {
    const url = await consoleUrl(serverId);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /import RFB from '\.\/core\/rfb\.js'/);
    const rfb = await fetch(new URL('core/rfb.js', url));
    assert.equal(rfb.status, 200);
    assert.match(rfb.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await rfb.text(), /export default class RFB/);
    for (const path of ['/novnc/core/..%2f..%2fpackage.json', '/novnc/vendor/..%2fcore%2f..%2f..%2fLICENSE.txt', '/novnc/core/missing.js']) {
      assert.equal((await fetch(api.url + path)).status, 404, path);
    }
  });

  test('other protocols and types answer as a Nova whose only console is noVNC', async () => {
    const refused = async (body: unknown, version: string, code: number, message: string | RegExp) => {
      const r = await ask(serverId, who.member, body, version);
      assert.equal(r.status, code, `${JSON.stringify(body)} @ ${version}: ${JSON.stringify(r.body)}`);
      const fault = Object.values(r.body as Record<string, { message: string }>)[0];
      if (typeof message === 'string') assert.equal(fault?.message, message);
      else assert.match(fault?.message ?? '', message);
    };
    const rc = (protocol: string, type: string) => ({ remote_console: { protocol, type } });
    await refused(rc('vnc', 'novnc'), '2.5', 404, 'The resource could not be found.');
    await refused(rc('telnet', 'novnc'), '2.6', 400, /^Invalid input for field\/attribute protocol\. Value: telnet\./);
    await refused(rc('mks', 'webmks'), '2.7', 400, /^Invalid input for field\/attribute protocol\. Value: mks\./);
    await refused(rc('vnc', 'spice-direct'), '2.98', 400, /^Invalid input for field\/attribute type\. Value: spice-direct\./);
    await refused({ remote_console: { protocol: 'vnc' } }, '2.6', 400, "'type' is a required property");
    await refused(rc('rdp', 'rdp-html5'), '2.6', 400, 'Unavailable console type rdp.');
    await refused(rc('spice', 'spice-html5'), '2.6', 400, 'Unavailable console type spice-html5.');
    await refused(rc('serial', 'serial'), '2.6', 400, 'Unavailable console type serial.');
    await refused(rc('mks', 'webmks'), '2.8', 400, 'Unavailable console type webmks.');
    await refused(rc('spice', 'spice-direct'), '2.99', 400, 'Unavailable console type spice-direct.');
    await refused(rc('vnc', 'xvpvnc'), '2.6', 400, 'Invalid console type xvpvnc');
    await refused(rc('vnc', 'spice-html5'), '2.6', 400, 'Invalid console type spice-html5');
    const missing = await ask('00000000-0000-0000-0000-000000000000', who.member);
    assert.equal(missing.status, 404);
  });

  test('Nova\'s policy is RBAC on the VNC subresource: a reader gets 403, another project\'s member 404', async () => {
    const r = await ask(serverId, who.reader);
    assert.equal(r.status, 403);
    assert.equal(r.body.forbidden.message, "Policy doesn't allow os_compute_api:os-remote-consoles to be performed.");
    const s = await ask(serverId, who.stranger);
    assert.equal(s.status, 404);
    assert.equal(s.body.itemNotFound.message, `Instance ${serverId} could not be found.`);
    // The admin may open any project's console.
    assert.equal(await rfbDesktopName(await open(websocketUrl(await consoleUrl(serverId, who.admin)))), `${ns}/${vmName}`);
  });

  test('the websocket is opened as the caller: a URL stops working when its owner loses the role', async () => {
    await grant(kova.client, 'carol', 'kova-member', ns);
    const carol = api.token('carol', ns);
    const url = await eventually('carol\'s console URL', async () => {
      const r = await ask(serverId, carol);
      return r.status === 200 ? (r.body.remote_console.url as string) : undefined;
    });
    await kova.client.delete(ROLE_BINDING_TYPE, 'kova-member-carol', ns);
    const refused = await eventually('the apiserver to refuse carol', async () => {
      const o = await open(websocketUrl(url));
      if (o.ok) o.ws.close();
      // virt-api behind the aggregator can answer a passing 401 while it reloads who may ask; the
      // refusal that counts is the authorization's.
      return o.ok || o.status === 401 ? undefined : o;
    });
    assert.equal(refused.status, 403);
    assert.match(refused.body.forbidden.message, /virtualmachineinstances\/vnc/);
    // A role held through a group: the groups travel in the token and are impersonated too.
    await kova.client.apply(ROLE_BINDING_TYPE, roleBinding(ns, 'kova-member-console-team', 'kova-member', { kind: 'Group', name: 'console-team' }));
    const project = api.facade.caches.projectByIdOrName(ns);
    const dave = api.facade.issuer.issue({ user: 'dave', groups: ['staff', 'console-team'], ...(project ? { project } : {}) }).token;
    const viaGroup = await eventually('dave\'s console URL', async () => {
      const r = await ask(serverId, dave);
      return r.status === 200 ? (r.body.remote_console.url as string) : undefined;
    });
    assert.equal(await rfbDesktopName(await open(websocketUrl(viaGroup))), `${ns}/${vmName}`);
  });

  test('a token opens only the server it was issued for, and only as issued', async () => {
    const url = await consoleUrl(serverId);
    const token = tokenOf(url);
    const [prefix, payload, sig] = token.split('.') as [string, string, string];
    const withToken = (t: string) => websocketUrl(url).replace(/token=.*$/, `token=${t}`);
    // Another server's uid in the claims, or a changed signature: not a token the façade issued.
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...claims, server: { ...claims.server, uid: randomUUID() } })).toString('base64url');
    for (const t of [`${prefix}.${forged}.${sig}`, `${prefix}.${payload}.${sig.slice(0, -2)}AA`, '', api.token('alice', ns)]) {
      const o = await open(withToken(t));
      assert.equal(o.ok, false);
      assert.equal(!o.ok && o.status, 401);
      assert.equal(!o.ok && o.body.unauthorized.message, "The token '***' is invalid or has expired");
    }
    // A console token is no API token either.
    assert.equal((await api.call('GET', '/v2.1/servers', { token })).status, 401);
    // A server deleted and made again under the same name is another server: the old token does not open it.
    const id = await create('reborn');
    await settled(id, 'ACTIVE');
    const old = await consoleUrl(id);
    assert.equal((await api.call('DELETE', `/v2.1/servers/${id}`, { token: who.member })).status, 204);
    await eventually('the server gone', async () => (await kova.client.find<Server>(SERVERS, 'reborn', ns)) === undefined, 60_000);
    const again = await create('reborn');
    await settled(again, 'ACTIVE');
    const o = await open(websocketUrl(old));
    assert.equal(!o.ok && o.status, 404);
    assert.equal(!o.ok && o.body.itemNotFound.message, `Instance ${id} could not be found.`);
    assert.equal(await rfbDesktopName(await open(websocketUrl(await consoleUrl(again)))), `${ns}/${api.facade.caches.servers.byIndex('uid', again)[0]?.status?.instanceName}`);
  });

  test('any replica sharing the key opens a URL; an expired token is refused', async () => {
    const replica = await startApi(kova, { tokenKey, consoleTokenTtlSeconds: 1 });
    try {
      const host = new URL(replica.url).host;
      assert.equal(await rfbDesktopName(await open(websocketUrl(await consoleUrl(serverId), host))), `${ns}/${vmName}`);
      const r = await replica.call('POST', `/v2.1/servers/${serverId}/remote-consoles`, { token: who.member, version: '2.6', body: { remote_console: { protocol: 'vnc', type: 'novnc' } } });
      assert.equal(r.status, 200);
      await new Promise((done) => setTimeout(done, 1500));
      const o = await open(websocketUrl(r.body.remote_console.url));
      assert.equal(!o.ok && o.status, 401);
      const lookup = await api.call('GET', `/v2.1/os-console-auth-tokens/${tokenOf(r.body.remote_console.url)}`, { token: who.admin, version: '2.31' });
      assert.equal(lookup.status, 404);
      assert.equal(lookup.body.itemNotFound.message, 'Token not found');
    } finally {
      await replica.stop();
    }
  });

  test('os-console-auth-tokens: an admin sees where the proxy connects (2.31+); a member gets 403', async () => {
    const token = tokenOf(await consoleUrl(serverId));
    const r = await api.call('GET', `/v2.1/os-console-auth-tokens/${token}`, { token: who.admin, version: '2.31' });
    assert.equal(r.status, 200);
    assert.deepEqual(compareShape(r.body, loadTemplate('os-console-auth-tokens', 'get-console-connect-info-get-resp.json.tpl', '2.31')?.value), []);
    const apiserver = kova.client.server;
    assert.deepEqual(r.body.console, {
      instance_uuid: serverId,
      host: apiserver.hostname,
      port: Number(apiserver.port),
      internal_access_path: `/apis/subresources.kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances/${vmName}/vnc`,
    });
    const latest = await api.call('GET', `/v2.1/os-console-auth-tokens/${token}`, { token: who.admin, version: 'latest' });
    assert.deepEqual(latest.body, r.body, 'tls_port is for spice-direct only');
    assert.equal((await api.call('GET', `/v2.1/os-console-auth-tokens/${token}`, { token: who.member, version: '2.31' })).status, 403);
    const early = await api.call('GET', `/v2.1/os-console-auth-tokens/${token}`, { token: who.admin, version: '2.30' });
    assert.equal(early.status, 400, 'before 2.31 the API served RDP tokens only, and RDP is gone');
    for (const t of ['nonsense', api.token('root')]) {
      const bad = await api.call('GET', `/v2.1/os-console-auth-tokens/${t}`, { token: who.admin, version: '2.31' });
      assert.equal(bad.status, 404);
      assert.equal(bad.body.itemNotFound.message, 'Token not found');
    }
  });

  test('a stopped server, or one being deleted, has no console: 409', async () => {
    const id = await create('stops');
    await settled(id, 'ACTIVE');
    const url = await consoleUrl(id);
    assert.equal((await api.call('POST', `/v2.1/servers/${id}/action`, { token: who.member, body: { 'os-stop': null } })).status, 202);
    await settled(id, 'SHUTOFF');
    const r = await ask(id, who.member);
    assert.equal(r.status, 409);
    assert.equal(r.body.conflictingRequest.message, `Instance ${id} is not ready`);
    const o = await open(websocketUrl(url));
    assert.equal(o.ok, false, 'a URL from before the stop no longer opens');
    assert.ok(!o.ok && [404, 409].includes(o.status), JSON.stringify(o));
    // Held while terminating (and deleted in the foreground, so the Server waits for its VM), the
    // server shows task_state deleting.
    const name = api.facade.caches.servers.byIndex('uid', id)[0]?.metadata.name ?? '';
    await kova.client.mergePatch(SERVERS, name, ns, { metadata: { annotations: { [HOLD]: 'terminating' } }, spec: { powerState: 'Running' } });
    await settled(id, 'ACTIVE');
    await eventually('the hold on the VM', async () => (await kova.client.find<VirtualMachine>(VIRTUAL_MACHINES, name, ns))?.metadata.annotations?.[HOLD] === 'terminating');
    await kova.client.delete(SERVERS, name, ns, { propagationPolicy: 'Foreground' });
    await eventually('task_state deleting', async () => (await api.call('GET', `/v2.1/servers/${id}`, { token: who.member })).body.server?.['OS-EXT-STS:task_state'] === 'deleting');
    const d = await ask(id, who.member);
    assert.equal(d.status, 409);
    assert.equal(d.body.conflictingRequest.message, `Cannot 'get_vnc_console' instance ${id} while it is in task_state deleting`);
    await kova.client.mergePatch(VIRTUAL_MACHINES, name, ns, { metadata: { annotations: { [HOLD]: null } } });
    await eventually('the server gone', async () => !(await kova.client.find(SERVERS, name, ns)), 60_000);
  });

  // Passes once server-actions.ts dispatches os-getVNCConsole to getVncConsoleAction (see the
  // report of the console branch); until then the action is unknown there (400).
  test('os-getVNCConsole (≤ 2.5) answers Nova\'s legacy body', async () => {
    const act = (body: unknown, version?: string) => api.call('POST', `/v2.1/servers/${serverId}/action`, { token: who.member, body, version });
    const r = await act({ 'os-getVNCConsole': { type: 'novnc' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(compareShape(r.body, loadTemplate('os-remote-consoles', 'get-vnc-console-post-resp.json.tpl', '2.1')?.value), []);
    assert.equal(await rfbDesktopName(await open(websocketUrl(r.body.console.url))), `${ns}/${vmName}`);
    assert.equal((await act({ 'os-getVNCConsole': { type: 'spice' } })).status, 400);
    assert.equal((await act({ 'os-getVNCConsole': { type: 'novnc' } }, '2.6')).status, 404);
  });
});
