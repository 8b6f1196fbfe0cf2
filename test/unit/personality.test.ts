// Personality files (≤ 2.56): Nova's limits and how the files reach the guest through cloud-init.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NovaError } from '../../src/nova/faults.ts';
import { checkInjectedFiles, userDataWithFiles, writeFilesConfig } from '../../src/nova/personality.ts';
import { parse } from 'yaml';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const file = (path: string, text = 'hello'): { path: string; contents: string } => ({ path, contents: b64(text) });
const forbidden = (fn: () => unknown, message: string): void => {
  assert.throws(fn, (e: unknown) => e instanceof NovaError && e.code === 403 && e.message === message);
};

describe('Nova\'s limits (403, as Nova answers a quota)', () => {
  test('at most 5 files', () => {
    checkInjectedFiles([1, 2, 3, 4, 5].map((i) => file(`/f${i}`)));
    forbidden(() => checkInjectedFiles([1, 2, 3, 4, 5, 6].map((i) => file(`/f${i}`))), 'Personality file limit exceeded');
  });
  test('paths up to 255, contents (as given, base64) up to 10240; the path is reported first', () => {
    checkInjectedFiles([{ path: `/${'p'.repeat(254)}`, contents: 'A'.repeat(10240) }]);
    forbidden(() => checkInjectedFiles([{ path: `/${'p'.repeat(255)}`, contents: 'A'.repeat(10241) }]), 'Personality file path exceeds maximum 255');
    forbidden(() => checkInjectedFiles([{ path: '/x', contents: 'A'.repeat(10241) }]), 'Personality file content exceeds maximum 10240');
  });
});

/** The parts of a MIME multipart user data: [headers, body] per part. */
function parts(userDataB64: string): { type: string; body: string }[] {
  const doc = Buffer.from(userDataB64, 'base64').toString('utf8');
  const boundary = /boundary="([^"]+)"/.exec(doc)?.[1] ?? '';
  return doc.split(`--${boundary}`).slice(1, -1).map((p) => {
    const [head = '', ...rest] = p.replace(/^\n/, '').split('\n\n');
    const body = rest.join('\n\n');
    return { type: /Content-Type: ([^;\n]+)/.exec(head)?.[1] ?? '', body: /base64/.test(head) ? Buffer.from(body.replace(/\n/g, ''), 'base64').toString('utf8') : body };
  });
}

describe('delivery through cloud-init', () => {
  test('contents decoded as Nova decodes them (lines and spaces in the base64 are skipped)', () => {
    const config = parse(writeFilesConfig([{ path: '/etc/banner', contents: `${b64('hello world').slice(0, 8)} \n${b64('hello world').slice(8)}` }]));
    assert.equal(Buffer.from(config.write_files[0].content, 'base64').toString(), 'hello world');
  });
  test('alone: a cloud-config that writes each file (base64, as given)', () => {
    const config = parse(writeFilesConfig([file('/etc/motd', 'hi'), file('/root/a b.txt', 'x')]));
    assert.deepEqual(config.write_files, [{ path: '/etc/motd', encoding: 'b64', content: b64('hi') }, { path: '/root/a b.txt', encoding: 'b64', content: b64('x') }]);
    assert.equal(Buffer.from(userDataWithFiles(undefined, [file('/etc/motd')], 'b'), 'base64').toString().split('\n')[0], '#cloud-config');
  });
  test('with a script: the script first (typed by cloud-init), then the files\' cloud-config, appended to any write_files', () => {
    const p = parts(userDataWithFiles(b64('#!/bin/sh\necho hi\n'), [file('/etc/motd')], '==b=='));
    assert.deepEqual(p.map((x) => x.type), ['text/x-not-multipart', 'text/cloud-config']);
    assert.equal(p[0]?.body, '#!/bin/sh\necho hi\n');
    const config = parse(p[1]?.body ?? '');
    assert.deepEqual(config.merge_how, [{ name: 'list', settings: ['append'] }, { name: 'dict', settings: ['no_replace', 'recurse_list'] }]);
    assert.equal(config.write_files[0].path, '/etc/motd');
  });
  test('a MIME user data nests as it is; gzip stays gzip', () => {
    const mime = 'Content-Type: multipart/mixed; boundary="inner"\nMIME-Version: 1.0\n\n--inner\nContent-Type: text/x-shellscript\n\n#!/bin/sh\n--inner--\n';
    const doc = Buffer.from(userDataWithFiles(b64(mime), [file('/x')], '==outer=='), 'base64').toString();
    assert.ok(doc.includes(mime));
    assert.deepEqual(parts(userDataWithFiles(Buffer.from([0x1f, 0x8b, 8, 0]).toString('base64'), [file('/x')], '==o==')).map((x) => x.type), ['application/x-gzip', 'text/cloud-config']);
  });
});
