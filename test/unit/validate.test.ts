// Request validation messages as Nova's jsonschema writes them (Python's repr of the value), and
// a missing body as Nova sees it (None).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NovaError } from '../../src/nova/faults.ts';
import { compile, pyRepr, validate } from '../../src/facade/validate.ts';
import { actionOf, knownAction } from '../../src/facade/action-body.ts';

const refused = (fn: () => unknown, message: string): void => {
  assert.throws(fn, (e: unknown) => e instanceof NovaError && e.code === 400 && e.message === message);
};

describe('validate', () => {
  const schema = compile({
    type: 'object', required: ['thing'], additionalProperties: false,
    properties: { thing: { type: 'object', properties: { size: { type: 'integer', minimum: 1 }, kind: { enum: ['a', 'b'] }, name: { type: ['string', 'null'], pattern: '^x' } } } },
  });

  test('no body is None, as Nova sees an empty request body', () => {
    refused(() => validate(schema, undefined), "None is not of type 'object'");
    refused(() => validate(schema, null), "None is not of type 'object'");
  });

  test('values are shown as Python shows them', () => {
    refused(() => validate(schema, { thing: { size: 'big' } }), "Invalid input for field/attribute size. Value: big. 'big' is not of type 'integer'");
    refused(() => validate(schema, { thing: { size: true } }), "Invalid input for field/attribute size. Value: True. True is not of type 'integer'");
    refused(() => validate(schema, { thing: { kind: 'c' } }), "Invalid input for field/attribute kind. Value: c. 'c' is not one of ['a', 'b']");
    refused(() => validate(schema, { thing: { name: 7 } }), "Invalid input for field/attribute name. Value: 7. 7 is not of type 'string', 'null'");
    refused(() => validate(schema, { thing: { size: 0 } }), 'Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1');
  });

  test('pyRepr', () => {
    assert.equal(pyRepr(null), 'None');
    assert.equal(pyRepr(false), 'False');
    assert.equal(pyRepr("it's"), '"it\'s"');
    assert.equal(pyRepr({ a: [1, 'b'] }), "{'a': [1, 'b']}");
  });
});

describe('action bodies', () => {
  test('exactly one key, else Malformed request body; an unknown one is no such action', () => {
    for (const b of [undefined, null, {}, { a: 1, b: 2 }, [], 'x']) refused(() => actionOf(b), 'Malformed request body');
    assert.deepEqual(actionOf({ pause: null }), { name: 'pause', arg: null });
    refused(() => knownAction({ fly: {} }, ['add_host']), 'There is no such action: fly');
    assert.equal(knownAction({ add_host: { host: 'h' } }, ['add_host']), 'add_host');
  });
});
