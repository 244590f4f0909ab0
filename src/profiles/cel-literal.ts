/**
 * Writing values into CEL expressions safely. Everything that ends up between quotes in an
 * expression goes through {@link celString}, so an email such as `o'brien@acme.com` (or a
 * hostile `a'||true||'@x`) stays one string literal and cannot change the expression.
 */

/**
 * A single-quoted CEL string literal for `value`. `\` and `'` are backslash-escaped and every
 * character outside printable ASCII is written as a `\u`/`\U` escape, so the literal is plain
 * ASCII on one line.
 */
export function celString(value: string): string {
  let out = "'";
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '\\' || ch === "'") out += `\\${ch}`;
    else if (cp >= 0x20 && cp <= 0x7e) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}'`;
}

/** A CEL list literal of strings: `['a', 'b']`. */
export function celStringList(values: readonly string[]): string {
  return `[${values.map(celString).join(', ')}]`;
}

/** Escape RE2 metacharacters so `text` matches itself literally inside a regular expression. */
export function re2Escape(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}
