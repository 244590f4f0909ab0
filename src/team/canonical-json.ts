/**
 * Canonical JSON: the one byte-exact form of a value that signatures are computed over.
 *
 * Object keys are sorted recursively (by UTF-16 code units, as Array#sort and RFC 8785 do),
 * there is no whitespace, strings and numbers are written as JSON.stringify writes them.
 * Values JSON cannot round-trip (undefined, NaN/Infinity, bigint, functions, symbols,
 * class instances such as Date or Map, sparse arrays, cycles) are rejected instead of being
 * silently dropped or coerced, because a signer and a verifier must never disagree on the bytes.
 */

/** Serialise `value` canonically. Throws TypeError (a programming error) on values JSON cannot carry. */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

/** The UTF-8 bytes of {@link canonicalJson}; what Ed25519 signs. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

function write(value: unknown, path: string, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: ${path} is a non-finite number`);
      return JSON.stringify(value); // -0 becomes "0", like JSON.stringify
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON: ${path} is ${typeof value}, which JSON cannot represent`);
  }
  if (seen.has(value)) throw new TypeError(`canonical JSON: ${path} is a circular reference`);
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      const parts: string[] = [];
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) throw new TypeError(`canonical JSON: ${path}[${i}] is a hole in a sparse array`);
        parts.push(write(value[i], `${path}[${i}]`, seen));
      }
      return `[${parts.join(',')}]`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`canonical JSON: ${path} is not a plain object`);
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    const parts = keys.map((key) => `${JSON.stringify(key)}:${write(record[key], `${path}.${key}`, seen)}`);
    return `{${parts.join(',')}}`;
  } finally {
    seen.delete(value);
  }
}
