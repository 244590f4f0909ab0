/**
 * `${ <cel> }` interpolation in action config strings (traffic-policy.md §1.9). A template is
 * split once into literal text and expressions; the expressions are evaluated per request.
 */

export type TemplatePart = { text: string } | { expr: string };

export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
}

/** Split `text` into literal parts and `${…}` expressions; braces inside CEL string literals are skipped. */
export function splitTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '$' && text[i + 1] === '{') {
      const end = findClose(text, i + 2);
      if (end < 0) throw new TemplateSyntaxError(`unterminated "\${" in "${text}"`);
      const expr = text.slice(i + 2, end).trim();
      if (!expr) throw new TemplateSyntaxError(`empty "\${}" in "${text}"`);
      if (literal) parts.push({ text: literal });
      literal = '';
      parts.push({ expr });
      i = end + 1;
    } else {
      literal += text[i];
      i++;
    }
  }
  if (literal || parts.length === 0) parts.push({ text: literal });
  return parts;
}

/** True when the string contains an interpolation. */
export function hasTemplate(text: string): boolean {
  return text.includes('${');
}

function findClose(text: string, from: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}
