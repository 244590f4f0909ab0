import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonBytes } from '../../../src/team/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys recursively and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('is independent of key insertion order', () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it('sorts by UTF-16 code units and escapes strings like JSON', () => {
    expect(canonicalJson({ é: 1, Z: 2, a: 3, '\n': 'line\nbreak "q"' })).toBe('{"\\n":"line\\nbreak \\"q\\"","Z":2,"a":3,"é":1}');
  });

  it('writes numbers as JSON does', () => {
    expect(canonicalJson([1, 1.5, -0, 1e21, 0.1])).toBe('[1,1.5,0,1e+21,0.1]');
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['undefined', undefined],
    ['undefined in an object', { a: undefined }],
    ['undefined in an array', [1, undefined]],
    ['a bigint', 1n],
    ['a function', () => 1],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a sparse array', [1, , 3]],
  ])('rejects %s', (_label, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });

  it('rejects cycles but accepts shared references', () => {
    const shared = { a: 1 };
    expect(canonicalJson({ x: shared, y: shared })).toBe('{"x":{"a":1},"y":{"a":1}}');
    const cyc: Record<string, unknown> = {};
    cyc['self'] = cyc;
    expect(() => canonicalJson(cyc)).toThrow(/circular/);
  });

  it('gives UTF-8 bytes', () => {
    expect(Buffer.from(canonicalJsonBytes({ k: 'ü' })).toString('hex')).toBe(Buffer.from('{"k":"ü"}').toString('hex'));
  });
});
