// Nova's console rules (src/nova/consoles.ts) and the signed token kinds console URLs use.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { consoleChoices, consoleRefusal, novncUrl, type ConsoleTarget } from '../../src/nova/consoles.ts';
import { Version } from '../../src/nova/microversion.ts';
import { TokenIssuer } from '../../src/identity/tokens.ts';

const running: ConsoleTarget = { id: 'uuid-1', host: 'node-1', taskState: null, powerState: 'Running' };
const answer = (s: Partial<ConsoleTarget>, protocol = 'vnc', type = 'novnc'): string | undefined => {
  const e = consoleRefusal({ ...running, ...s }, protocol, type);
  return e && `${e.code} ${e.message}`;
};

describe('which console a request may have', () => {
  test('noVNC on a running or paused server', () => {
    assert.equal(answer({}), undefined);
    assert.equal(answer({ powerState: 'Paused' }), undefined);
  });

  test('a server without a running guest is not ready (409)', () => {
    for (const powerState of ['Shutdown', 'NOSTATE', 'Suspended', 'Crashed', undefined]) assert.equal(answer({ powerState }), '409 Instance uuid-1 is not ready');
    assert.equal(answer({ host: undefined }), '409 Instance uuid-1 is not ready');
  });

  test('consoles are refused while the server is deleted or migrated', () => {
    assert.equal(answer({ taskState: 'deleting' }), "409 Cannot 'get_vnc_console' instance uuid-1 while it is in task_state deleting");
    assert.equal(answer({ taskState: 'migrating' }, 'spice', 'spice-html5'), "409 Cannot 'get_spice_console' instance uuid-1 while it is in task_state migrating");
    assert.equal(answer({ taskState: 'powering-off' }), undefined, 'other tasks do not matter');
  });

  test('consoles other than noVNC are unavailable (400), as in a Nova with only [vnc] enabled', () => {
    assert.equal(answer({}, 'spice', 'spice-html5'), '400 Unavailable console type spice-html5.');
    assert.equal(answer({}, 'spice', 'spice-direct'), '400 Unavailable console type spice-direct.');
    assert.equal(answer({}, 'serial', 'serial'), '400 Unavailable console type serial.');
    assert.equal(answer({}, 'mks', 'webmks'), '400 Unavailable console type webmks.');
    assert.equal(answer({}, 'vnc', 'xvpvnc'), '400 Invalid console type xvpvnc');
    assert.equal(answer({}, 'vnc', 'serial'), '400 Invalid console type serial');
  });

  test('Nova\'s order: RDP (removed) first, then the host, the task, the type, the guest', () => {
    assert.equal(answer({ host: undefined, taskState: 'deleting' }, 'rdp', 'rdp-html5'), '400 Unavailable console type rdp.');
    assert.equal(answer({ host: undefined }, 'spice', 'spice-html5'), '409 Instance uuid-1 is not ready');
    assert.equal(answer({ taskState: 'deleting', powerState: 'Shutdown' }, 'vnc', 'xvpvnc'), "409 Cannot 'get_vnc_console' instance uuid-1 while it is in task_state deleting");
    assert.equal(answer({ powerState: 'Shutdown' }, 'spice', 'spice-html5'), '400 Unavailable console type spice-html5.');
    assert.equal(answer({ powerState: 'Shutdown' }, 'vnc', 'xvpvnc'), '400 Invalid console type xvpvnc');
  });

  test('the schema\'s choices grow with mks (2.8) and spice-direct (2.99)', () => {
    assert.deepEqual(consoleChoices(Version.of('2.6')), { protocols: ['vnc', 'spice', 'serial', 'rdp'], types: ['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5'] });
    assert.deepEqual(consoleChoices(Version.of('2.8')).protocols.at(-1), 'mks');
    assert.deepEqual(consoleChoices(Version.of('2.98')).types.at(-1), 'webmks');
    assert.deepEqual(consoleChoices(Version.of('2.99')).types.at(-1), 'spice-direct');
  });

  test('the URL is the noVNC page with the websocket\'s path, as novncproxy hands it out', () => {
    assert.equal(novncUrl('https://cloud/novnc/vnc_lite.html', '/novnc/websockify', 'kovavnc1.ab-_.c'), 'https://cloud/novnc/vnc_lite.html?path=novnc%2Fwebsockify%3Ftoken%3Dkovavnc1.ab-_.c');
  });
});

describe('token kinds', () => {
  const key = randomBytes(32);
  const keystone = new TokenIssuer(key);
  const consoles = keystone.kind<{ server: string }>('kovavnc1', 600);

  test('a kind is checked by any issuer with the same key, and by no other', () => {
    const { token } = consoles.issue({ server: 'a' });
    assert.equal(new TokenIssuer(key).kind<{ server: string }>('kovavnc1', 1).verify(token)?.server, 'a');
    assert.equal(new TokenIssuer(randomBytes(32)).kind<{ server: string }>('kovavnc1', 600).verify(token), undefined);
  });

  test('one kind never passes for another, even under the other\'s prefix', () => {
    const c = consoles.issue({ server: 'a' }).token;
    const k = keystone.issue({ user: 'alice', groups: [] }).token;
    assert.equal(keystone.verify(c), undefined);
    assert.equal(keystone.verify(c.replace(/^kovavnc1\./, 'kova1.')), undefined);
    assert.equal(consoles.verify(k), undefined);
    assert.equal(consoles.verify(k.replace(/^kova1\./, 'kovavnc1.')), undefined);
    assert.throws(() => keystone.kind('kova1', 1));
  });

  test('a token expires after its kind\'s lifetime', () => {
    const now = Date.now();
    const { token, claims } = consoles.issue({ server: 'a' }, now);
    assert.equal(claims.exp - claims.iat, 600);
    assert.ok(consoles.verify(token, now + 599_000));
    assert.equal(consoles.verify(token, now + 601_000), undefined);
  });
});
