// Nova's API-sample templates (nova/tests/functional/api_sample_tests/api_samples/), the shape
// oracles of the conformance suites, taken from the `nova` wheel on PyPI at the version pinned here.
//
// ensureNovaSamples() downloads the wheel once with pip, checks its sha256, extracts only the
// api_samples tree into a temporary folder beside the cache entry and renames it into place, so
// ${KOVA_CACHE:-~/.cache/kova}/nova-<version>/api_samples either is complete or does not exist.
// prepareNovaSamples() runs as the unit run's --test-global-setup and from the integration set-up
// (test/support/setup.ts); `node test/tools/nova-samples.ts` does it by hand and prints the
// folder. Needs python3 with pip. Nothing is fetched when KOVA_NOVA_SAMPLES points elsewhere.
//
// 34.0.0 is the first release whose samples reach Kova's maximum microversion, 2.104 (33.0.x stop
// at 2.103). To move: change NOVA_VERSION and NOVA_WHEEL_SHA256 together (`pip download` the
// wheel, `sha256sum` it), then run the conformance tests.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const NOVA_VERSION = '34.0.0';
/** sha256 of nova-<NOVA_VERSION>-py3-none-any.whl. */
export const NOVA_WHEEL_SHA256 = '8b46997836961762608e6e46e6d4945325d8a1fb8004e79e552e55839061f10c';

const PREFIX = 'nova/tests/functional/api_sample_tests/api_samples/';

/** Where the pinned version's templates live once fetched: <cache>/nova-<version>/api_samples. */
export function novaSamplesDir(): string {
  return join(process.env['KOVA_CACHE'] ?? join(homedir(), '.cache', 'kova'), `nova-${NOVA_VERSION}`, 'api_samples');
}

// Extracts the members under PREFIX (argv[2]) of a wheel (argv[1]) into a folder (argv[3]) and
// prints how many files it wrote. Refuses names that would leave the folder.
const EXTRACT = `
import os, sys, zipfile
wheel, prefix, dest = sys.argv[1:4]
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith(prefix) or info.is_dir():
            continue
        parts = info.filename[len(prefix):].split('/')
        if any(p in ('', '.', '..') for p in parts):
            sys.exit('unsafe name in wheel: ' + info.filename)
        target = os.path.join(dest, *parts)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, 'wb') as out:
            out.write(src.read())
        n += 1
print(n)
`;

/** Fetches the pinned templates if they are not cached yet; returns their folder. */
export function ensureNovaSamples(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): string {
  const dir = novaSamplesDir();
  if (existsSync(dir)) return dir;
  const parent = join(dir, '..');
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, '.fetch-'));
  try {
    log(`kova: fetching Nova ${NOVA_VERSION}'s API-sample templates with pip (once; cached in ${dir})`);
    const download = join(tmp, 'download');
    try {
      execFileSync(
        'python3',
        ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-input', '--no-deps', '--only-binary=:all:', '--ignore-requires-python', '-d', download, `nova==${NOVA_VERSION}`],
        { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 },
      );
    } catch (err) {
      throw new Error(`could not download nova==${NOVA_VERSION} with pip (python3 -m pip must work; or set KOVA_NOVA_SAMPLES to a copy of ${PREFIX}): ${(err as Error).message}`);
    }
    const wheel = readdirSync(download).find((f) => f.endsWith('.whl'));
    if (wheel === undefined) throw new Error(`pip download nova==${NOVA_VERSION} gave no wheel`);
    const sha256 = createHash('sha256').update(readFileSync(join(download, wheel))).digest('hex');
    if (sha256 !== NOVA_WHEEL_SHA256) throw new Error(`${wheel}: sha256 ${sha256}, expected ${NOVA_WHEEL_SHA256} (test/tools/nova-samples.ts)`);
    const staged = join(tmp, 'api_samples');
    const count = Number(execFileSync('python3', ['-c', EXTRACT, join(download, wheel), PREFIX, staged], { encoding: 'utf8' }).trim());
    if (!(count > 0) || !existsSync(join(staged, 'servers', 'server-get-resp.json.tpl'))) throw new Error(`${wheel} has no ${PREFIX}`);
    try {
      renameSync(staged, dir);
    } catch (err) {
      // Another process put it there first: theirs is as good as ours.
      if (!existsSync(dir)) throw err;
    }
    log(`kova: ${count} Nova ${NOVA_VERSION} templates in ${dir}`);
    return dir;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The templates the tests will read: fetched, unless KOVA_NOVA_SAMPLES names another copy. */
export function prepareNovaSamples(): void {
  const override = process.env['KOVA_NOVA_SAMPLES'];
  if (override === undefined || override === '') ensureNovaSamples();
}

/** The unit run's node --test global setup (package.json `test:unit`). */
export { prepareNovaSamples as globalSetup };

if (import.meta.main) process.stdout.write(ensureNovaSamples() + '\n');
