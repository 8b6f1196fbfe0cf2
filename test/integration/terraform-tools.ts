// OpenTofu and the OpenStack provider, built from the Go modules pinned in test/tools (build.sh
// terraform, cached in ~/.cache/kova like the control plane), and a CLI configuration that installs
// the provider from a local filesystem mirror, so `tofu init` needs no registry.
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../src/controlplane/controlplane.ts';

const exec = promisify(execFile);

export interface TerraformTools {
  tofu: string;
  /** The provider's version, as the fixtures pin it (without the v). */
  providerVersion: string;
  /** Writes a CLI configuration (and the mirror it names) under `dir`; returns its path (TF_CLI_CONFIG_FILE). */
  cliConfig(dir: string): string;
}

/** Builds (once) or finds the binaries; fails saying why when they cannot be built. */
export async function terraformTools(): Promise<TerraformTools> {
  let bin: string;
  try {
    const { stdout } = await exec('bash', [join(REPO_ROOT, 'test', 'tools', 'build.sh'), 'terraform'], { timeout: 1_800_000, maxBuffer: 64 * 1024 * 1024 });
    bin = stdout.trim().split('\n').at(-1) ?? '';
  } catch (e) {
    throw new Error(`cannot build OpenTofu and the OpenStack provider (bash test/tools/build.sh terraform): ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }
  const providerVersion = /openstack-v([\d.]+)\/bin$/.exec(bin)?.[1];
  if (!providerVersion) throw new Error(`unexpected folder from build.sh terraform: ${bin}`);
  const provider = join(bin, `terraform-provider-openstack_v${providerVersion}`);
  return {
    tofu: join(bin, 'tofu'),
    providerVersion,
    cliConfig(dir) {
      // The "unpacked" mirror layout: <hostname>/<namespace>/<type>/<version>/<os>_<arch>/<binary>.
      const mirror = join(dir, 'provider-mirror');
      const platform = `${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`;
      const target = join(mirror, 'registry.opentofu.org', 'terraform-provider-openstack', 'openstack', providerVersion, platform);
      mkdirSync(target, { recursive: true });
      symlinkSync(provider, join(target, `terraform-provider-openstack_v${providerVersion}`));
      const path = join(dir, 'tofurc');
      writeFileSync(path, `provider_installation {\n  filesystem_mirror {\n    path    = "${mirror}"\n    include = ["registry.opentofu.org/terraform-provider-openstack/openstack"]\n  }\n}\n`);
      return path;
    },
  };
}

/** Where Kova's log is, and how far it went: `requestsSince(mark())` lists the requests logged after. */
export interface KovaLog {
  mark(): number;
  /** The requests Kova logged after `from` (a byte offset), each as `req-… METHOD route → status`; failed ones only unless `all`. */
  requestsSince(from: number, all?: boolean): string[];
}

/** Reads `kova dev`'s JSON log (one object per line; a request line is `msg: "request"`). */
export function kovaLog(file: string): KovaLog {
  const size = (): number => (existsSync(file) ? statSync(file).size : 0);
  return {
    mark: size,
    requestsSince(from, all = false) {
      const end = size();
      if (end <= from) return [];
      const buf = Buffer.alloc(end - from);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buf, 0, buf.length, from);
      } finally {
        closeSync(fd);
      }
      const lines: string[] = [];
      for (const line of buf.toString('utf8').split('\n')) {
        let rec: { msg?: string; requestId?: string; method?: string; route?: string; status?: number; project?: string };
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          continue;
        }
        if (rec.msg !== 'request' || (!all && (rec.status ?? 0) < 400)) continue;
        lines.push(`${rec.requestId} ${rec.method} ${rec.route} → ${rec.status}${rec.project ? ` (project ${rec.project})` : ''}`);
      }
      return lines;
    },
  };
}

/**
 * What a failed tofu command prints: the command, its exit code, its output (the provider's own
 * error is in stderr) and the Kova requests that failed while it ran, by request id (the id Kova
 * returns in x-openstack-request-id and logs with the request).
 */
export function tofuFailure(args: string[], r: { code: number; stdout: string; stderr: string }, kovaRequests: string[]): string {
  const ids = kovaRequests.length ? kovaRequests.map((l) => `  ${l}`).join('\n') : '  (none failed: see the provider\'s error above)';
  return `tofu ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}\nKova requests that failed meanwhile (request id, method, route, status):\n${ids}`;
}
