// The real openstack CLI (python-openstackclient from PyPI), installed once into a cached venv,
// the way test/tools/build.sh caches the control plane.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const OSC_VERSION = '10.5.0';

/** Path of the `openstack` binary, installing python-openstackclient first if needed. */
export async function openstackCli(): Promise<string> {
  const venv = join(process.env.KOVA_CACHE ?? join(homedir(), '.cache', 'kova'), `osc-${OSC_VERSION}`);
  const bin = join(venv, 'bin', 'openstack');
  if (existsSync(bin)) return bin;
  process.stderr.write(`installing python-openstackclient ${OSC_VERSION} into ${venv} (once)\n`);
  await exec('python3', ['-m', 'venv', venv]);
  await exec(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `python-openstackclient==${OSC_VERSION}`], { timeout: 600_000 });
  return bin;
}
