/**
 * Float literals survive a config.json rewrite: Python reads 2.0 as a float and 2 as an int, and
 * transformers 5's strict configs refuse the int (see src/core/checkpoint/jsonFloats.ts).
 */
import * as assert from 'node:assert/strict';
import { floatLiteralPaths, stringifyKeepingFloats } from '../../../src/core/checkpoint/jsonFloats';

describe('config.json float literals', () => {
  const text = `{"a": 2.0, "b": 2, "c": 0.02, "d": 1e3, "e": -0.0, "f": "x \\" 3.0", "g": {"h/i": [1, 4.0, {"j": 160000.0}]}, "k": 1E-5, "l": true, "m": null}`;

  it('finds the whole-valued numbers written as floats, nested and in arrays', () => {
    assert.deepEqual([...floatLiteralPaths(text)].sort(), ['/a', '/d', '/e', '/g/h~1i/1', '/g/h~1i/2/j']);
  });

  it('writes them back as floats and leaves every other value as JSON.stringify does', () => {
    const value = JSON.parse(text);
    value.added = 7;
    const out = stringifyKeepingFloats(value, floatLiteralPaths(text));
    assert.deepEqual(JSON.parse(out), value);
    assert.match(out, /"a": 2\.0,/);
    assert.match(out, /"b": 2,/);
    assert.match(out, /"d": 1000\.0,/);
    assert.match(out, /"j": 160000\.0\n/);
    assert.match(out, /"added": 7\n/);
    assert.equal(stringifyKeepingFloats(value, new Set()), JSON.stringify(value, null, 2));
  });
});
