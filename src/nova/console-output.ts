// Nova's os-getConsoleOutput, the pure part: which lines the request asks for and the text the
// client gets. Facts from Nova: `length` is an integer or a numeric string, -1 or null meaning
// everything; the libvirt driver returns at most the last 100 KiB of the console log; the API
// strips control characters other than tab and newline from it.
import { badRequest } from './faults.ts';

export const MAX_CONSOLE_BYTES = 100 * 1024;

/**
 * The `tailLines` to ask the pod log API for. Every line takes at least a byte, so the last
 * MAX_CONSOLE_BYTES lines hold the last MAX_CONSOLE_BYTES bytes: asking for more is never needed.
 */
export function tailLines(length: number | string | null | undefined): number {
  const n = length === null || length === undefined ? -1 : Number(length);
  // Nova's schema bounds integers only; a string below -1 is refused too instead of misread.
  if (n < -1) throw badRequest(`Invalid input for field/attribute length. Value: ${length}. ${length} is less than the minimum of -1`);
  return n === -1 ? MAX_CONSOLE_BYTES : Math.min(n, MAX_CONSOLE_BYTES);
}

/** What Nova returns of a console log: its last MAX_CONSOLE_BYTES bytes, without control characters but tab and newline. */
export function consoleOutput(log: string): string {
  const bytes = Buffer.from(log);
  const tail = bytes.length > MAX_CONSOLE_BYTES ? bytes.subarray(bytes.length - MAX_CONSOLE_BYTES).toString() : log;
  return tail.replace(/[\x00-\x08\x0B-\x1F]/g, '');
}
