import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { consoleOutput, MAX_CONSOLE_BYTES, tailLines } from '../../src/nova/console-output.ts';
import { NovaError } from '../../src/nova/faults.ts';

describe('tailLines', () => {
  test('no length, null and -1 ask for everything Nova would return', () => {
    for (const l of [undefined, null, -1, '-1']) assert.equal(tailLines(l), MAX_CONSOLE_BYTES);
  });

  test('a length asks for that many lines, integer or numeric string', () => {
    assert.equal(tailLines(0), 0);
    assert.equal(tailLines(5), 5);
    assert.equal(tailLines('50'), 50);
    assert.equal(tailLines('007'), 7);
  });

  test('more lines than fit in the byte limit are never asked for', () => {
    assert.equal(tailLines(MAX_CONSOLE_BYTES + 1), MAX_CONSOLE_BYTES);
    assert.equal(tailLines('99999999999999999999999'), MAX_CONSOLE_BYTES);
  });

  test('a numeric string below -1 is a 400 like an integer below -1', () => {
    assert.throws(() => tailLines('-2'), (e: unknown) => e instanceof NovaError && e.code === 400 && e.message === 'Invalid input for field/attribute length. Value: -2. -2 is less than the minimum of -1');
    assert.throws(() => tailLines(-7), (e: unknown) => e instanceof NovaError && e.code === 400);
  });
});

describe('consoleOutput', () => {
  test('a short log is returned as it is, newlines and tabs kept', () => {
    assert.equal(consoleOutput('FAKE CONSOLE OUTPUT\nANOTHER\tTAB\nLAST LINE'), 'FAKE CONSOLE OUTPUT\nANOTHER\tTAB\nLAST LINE');
    assert.equal(consoleOutput(''), '');
  });

  test('control characters other than tab and newline are removed, as Nova does', () => {
    assert.equal(consoleOutput('boot\r\n\x1b[0mok\x07\x00\x0b\x0c\x1f\n\x7f'), 'boot\n[0mok\n\x7f');
  });

  test('only the last 100 KiB are returned', () => {
    const log = 'x'.repeat(10) + 'y'.repeat(MAX_CONSOLE_BYTES);
    assert.equal(consoleOutput(log), 'y'.repeat(MAX_CONSOLE_BYTES));
    const exact = 'z'.repeat(MAX_CONSOLE_BYTES);
    assert.equal(consoleOutput(exact), exact);
  });

  test('the limit counts bytes, not characters', () => {
    const out = consoleOutput('é'.repeat(MAX_CONSOLE_BYTES));
    assert.equal(Buffer.byteLength(out), MAX_CONSOLE_BYTES);
  });
});
