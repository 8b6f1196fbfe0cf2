// Secrets the integration tests handle — tokens, admin passwords, user data — recorded as they pass
// through the test client, so that the last test file can look for them where no secret belongs
// (object specs and statuses, Events, component and Kova logs). Kova's own logs during the tests
// are written, at info level, beside the control plane's (KOVA_TEST_DIR/kova-<pid>.log).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../src/log.ts';

const file = (): string | undefined => (process.env.KOVA_TEST_DIR ? join(process.env.KOVA_TEST_DIR, 'secrets-seen.txt') : undefined);

/** Records a secret value (long enough to be unmistakable) for the final scan. */
export function recordSecret(value: unknown): void {
  const f = file();
  if (!f || typeof value !== 'string' || value.length < 8) return;
  appendFileSync(f, JSON.stringify(value) + '\n');
}

/** The secrets recorded so far, by every test process of this run. */
export function recordedSecrets(): string[] {
  const f = file();
  if (!f || !existsSync(f)) return [];
  return [...new Set(readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string))];
}

/** Records what a request to the API and its answer carry that is secret. */
export function recordExchange(headers: Record<string, string>, body: unknown, response: unknown, responseHeaders: Headers): void {
  if (!file()) return;
  recordSecret(headers['x-auth-token']);
  recordSecret(responseHeaders.get('x-subject-token') ?? undefined);
  const walk = (keys: string[]) => (v: unknown, key = ''): void => {
    if (typeof v === 'string') {
      if (keys.includes(key)) {
        if (key !== 'user_data' || v.length >= 24) recordSecret(v);
        // User data decoded: only when long enough to be a test's own (a bare `#cloud-config` is everyone's).
        const decoded = key === 'user_data' ? Buffer.from(v, 'base64').toString('utf8') : '';
        if (decoded.length >= 24) recordSecret(decoded);
      }
    } else if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(keys)(c, k);
  };
  // (A response's `password` is os-server-password's: encrypted for the key pair's owner, kept as Nova keeps it.)
  walk(['adminPass', 'admin_pass', 'password', 'user_data', 'secret'])(typeof body === 'string' ? tryJson(body) : body);
  walk(['adminPass', 'secret'])(response);
}

const tryJson = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};

/** The logger Kova's components use in a test: errors on stderr (or KOVA_TEST_LOG's level), everything from info up in the run's log file. */
export function testLogger(): Logger {
  const stderrLevel = (process.env.KOVA_TEST_LOG as 'debug') ?? 'error';
  const f = process.env.KOVA_TEST_DIR ? join(process.env.KOVA_TEST_DIR, `kova-${process.pid}.log`) : undefined;
  const toStderr = createLogger({}, stderrLevel);
  if (!f) return toStderr;
  const ORDER = { debug: 10, info: 20, warn: 30, error: 40 };
  return createLogger({}, stderrLevel === 'debug' ? 'debug' : 'info', (line) => {
    appendFileSync(f, line + '\n');
    const level = (tryJson(line) as { level?: keyof typeof ORDER } | undefined)?.level ?? 'error';
    if (ORDER[level] >= ORDER[stderrLevel]) process.stderr.write(line + '\n');
  });
}
