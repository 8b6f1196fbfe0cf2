// Nova's personality files (server create and rebuild, up to 2.56): checked against Nova's limits
// (its injected_files quotas, 403 as Nova answers), and delivered to the guest by cloud-init: a
// cloud-config part that writes them, after the user's own data in one MIME multipart user data. Pure.
import { forbidden } from './faults.ts';
import { DEFAULT_LIMITS, type Limits } from './quotas.ts';

/** One personality entry: where and what (base64, as the request gives it). */
export interface InjectedFile {
  path: string;
  contents: string;
}

/**
 * Nova's checks (compute API _check_injected_file_quota): at most `injected_files` files, then
 * the longest path and the longest contents (as given, base64) within their limits (the project's
 * quotas); the path is reported first.
 */
export function checkInjectedFiles(files: readonly InjectedFile[], limits: Limits = DEFAULT_LIMITS): void {
  if (!files.length) return;
  if (files.length > limits.injected_files) throw forbidden('Personality file limit exceeded');
  const longestPath = Math.max(...files.map((f) => f.path.length));
  const longestContents = Math.max(...files.map((f) => f.contents.length));
  if (longestPath > limits.injected_file_path_bytes) throw forbidden(`Personality file path exceeds maximum ${limits.injected_file_path_bytes}`);
  if (longestContents > limits.injected_file_content_bytes) throw forbidden(`Personality file content exceeds maximum ${limits.injected_file_content_bytes}`);
}

/**
 * The cloud-config that writes the files. Its merge rule appends its write_files to any the user's
 * own cloud-config has (cloud-init replaces lists by default).
 */
export function writeFilesConfig(files: readonly InjectedFile[]): string {
  // Decoded as Nova decodes (leniently: what is not base64 is skipped), written back plain.
  const entries = files.map((f) => `- path: ${JSON.stringify(f.path)}\n  encoding: b64\n  content: ${Buffer.from(f.contents, 'base64').toString('base64')}\n`).join('');
  return `#cloud-config\nmerge_how:\n- name: list\n  settings: [append]\n- name: dict\n  settings: [no_replace, recurse_list]\nwrite_files:\n${entries}`;
}

/**
 * The user data a guest gets (base64, for the user-data Secret): the user's own (base64, if any)
 * and a cloud-config part writing the files, in a MIME multipart cloud-init reads part by part.
 * The user's part keeps its meaning: a MIME document nests as it is, gzip stays gzip, anything else
 * is typed by cloud-init from its first line.
 */
export function userDataWithFiles(userData: string | undefined, files: readonly InjectedFile[], boundary: string): string {
  const config = writeFilesConfig(files);
  if (!userData) return Buffer.from(config).toString('base64');
  const raw = Buffer.from(userData, 'base64');
  const text = raw.toString('utf8');
  let userPart: string;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    userPart = `Content-Type: application/x-gzip\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64\n\n${wrap(userData)}\n`;
  } else if (text.slice(0, 4096).toLowerCase().includes('mime-version:')) {
    userPart = text.endsWith('\n') ? text : `${text}\n`;
  } else {
    userPart = `Content-Type: text/x-not-multipart\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64\n\n${wrap(raw.toString('base64'))}\n`;
  }
  const configPart = `Content-Type: text/cloud-config; charset="utf-8"\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="personality.cfg"\n\n${wrap(Buffer.from(config).toString('base64'))}\n`;
  const doc = `Content-Type: multipart/mixed; boundary="${boundary}"\nMIME-Version: 1.0\n\n--${boundary}\n${userPart}--${boundary}\n${configPart}--${boundary}--\n`;
  return Buffer.from(doc).toString('base64');
}

/** Base64 in MIME's 76-character lines. */
const wrap = (b64: string): string => b64.replace(/(.{76})/g, '$1\n').replace(/\n$/, '');
