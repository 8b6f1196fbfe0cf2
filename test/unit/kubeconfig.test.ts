// Loading kubeconfigs (src/kube/kubeconfig.ts): what each kind of user and cluster entry becomes.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { loadConnection } from '../../src/kube/kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'kova-kubeconfig-'));
const write = (name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string => {
  const path = join(dir, name);
  writeFileSync(path, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'here',
    clusters: [{ name: 'other', cluster: { server: 'https://other:1' } }, { name: 'c', cluster }],
    users: [{ name: 'other', user: { token: 'wrong' } }, { name: 'u', user }],
    contexts: [{ name: 'elsewhere', context: { cluster: 'other', user: 'other' } }, { name: 'here', context: { cluster: 'c', user: 'u' } }],
  }));
  return path;
};

test('the current context\'s cluster and user: inline CA and client certificate, TLS server name', async () => {
  const c = await loadConnection(write('inline', { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from('CA').toString('base64'), 'tls-server-name': 'kubernetes' }, { 'client-certificate-data': Buffer.from('CERT').toString('base64'), 'client-key-data': Buffer.from('KEY').toString('base64') }));
  assert.equal(c.server.href, 'https://127.0.0.1:6443/');
  assert.deepEqual([String(c.options.ca), String(c.options.cert), String(c.options.key), c.options.servername], ['CA', 'CERT', 'KEY', 'kubernetes']);
  assert.equal((c.options.headers as Record<string, string>).authorization, undefined);
});

test('files named relative to the kubeconfig, a token file, skip-verify', async () => {
  writeFileSync(join(dir, 'ca.crt'), 'CA-FILE');
  writeFileSync(join(dir, 'token'), 'sekret-token\n');
  const c = await loadConnection(write('files', { server: 'https://api:443', 'certificate-authority': 'ca.crt', 'insecure-skip-tls-verify': true }, { tokenFile: join(dir, 'token') }));
  assert.equal(String(c.options.ca), 'CA-FILE');
  assert.equal(c.options.rejectUnauthorized, false);
  assert.equal((c.options.headers as Record<string, string>).authorization, 'Bearer sekret-token');
});

test('a bearer token, and basic credentials', async () => {
  const t = await loadConnection(write('token', { server: 'http://127.0.0.1:8080' }, { token: 'abc' }));
  assert.equal((t.options.headers as Record<string, string>).authorization, 'Bearer abc');
  const b = await loadConnection(write('basic', { server: 'https://x' }, { username: 'ann', password: 'pw' }));
  assert.equal((b.options.headers as Record<string, string>).authorization, `Basic ${Buffer.from('ann:pw').toString('base64')}`);
});

test('an exec plugin goes to client-node (which runs it)', async () => {
  const c = await loadConnection(write('exec', { server: 'https://x:6443' }, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'sh', args: ['-c', 'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}\''], interactiveMode: 'Never' } }));
  assert.equal(c.server.href, 'https://x:6443/');
  assert.equal((c.options.headers as Record<string, string>).Authorization ?? (c.options.headers as Record<string, string>).authorization, 'Bearer from-exec');
});

test('a kubeconfig without a cluster for its context is an error that says so', async () => {
  await assert.rejects(loadConnection(write('none', {}, { token: 'x' })), /no current cluster/);
});
