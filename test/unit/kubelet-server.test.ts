import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { guestConsoleLog, HOSTNAME_POD_LABEL, limit } from '../../src/sim/kubelet-server.ts';
import type { Pod } from '../../src/kube/types.ts';

describe('limit (the kubelet\'s tailLines and limitBytes)', () => {
  const log = 'one\ntwo\nthree\nprompt: ';

  test('no limits: the whole log', () => {
    assert.equal(limit(log), log);
  });

  test('tailLines counts a last line without a newline as a line', () => {
    assert.equal(limit(log, 1), 'prompt: ');
    assert.equal(limit(log, 2), 'three\nprompt: ');
    assert.equal(limit('a\nb\n', 1), 'b\n');
    assert.equal(limit(log, 99), log);
    assert.equal(limit(log, 0), '');
  });

  test('limitBytes keeps the first bytes of what tailLines left', () => {
    assert.equal(limit(log, undefined, 3), 'one');
    assert.equal(limit(log, 2, 5), 'three');
  });
});

describe('guestConsoleLog', () => {
  const pod = (labels: Record<string, string>, podIP?: string): Pod => ({ metadata: { name: 'virt-launcher-web-1-abcde', labels }, spec: { containers: [] }, status: { podIP } });

  test('a CirrOS boot with the hostname and address, ending at the login prompt', () => {
    const out = guestConsoleLog(pod({ [HOSTNAME_POD_LABEL]: 'vm-1' }, '10.244.0.7'), 'web-1');
    assert.match(out, /^SeaBIOS/);
    assert.match(out, /lease of 10\.244\.0\.7 obtained from 10\.244\.0\.1/);
    assert.match(out, /\nSetting hostname web-1: OK\n/);
    assert.ok(out.endsWith('\nweb-1 login: '));
  });

  test("without a VMI, the pod's hostname label stands in, then the pod name", () => {
    assert.ok(guestConsoleLog(pod({ [HOSTNAME_POD_LABEL]: 'vm-1' })).endsWith('\nvm-1 login: '));
    assert.ok(guestConsoleLog(pod({})).endsWith('\nvirt-launcher-web-1-abcde login: '));
  });
});
