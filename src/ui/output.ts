import type { Writable } from 'node:stream';

/**
 * Where a command's words go. stdout carries data (or JSON); notices, progress and
 * errors go to stderr so a pipe only ever sees data.
 */
export interface Output {
  readonly json: boolean;
  /** Data line for humans (suppressed in --json mode). */
  data(line: string): void;
  /** One JSON value per line, used for --json results and streamed events. */
  jsonLine(value: unknown): void;
  /** Human notice on stderr (always shown, also in --json mode, since stderr is not data). */
  notice(line: string): void;
  /** Warning on stderr. */
  warn(line: string): void;
}

export interface OutputOptions {
  stdout: Writable;
  stderr: Writable;
  json: boolean;
  color: boolean;
}

const paint = (enabled: boolean, code: string, text: string) => (enabled ? `\u001B[${code}m${text}\u001B[0m` : text);

export function createOutput(opts: OutputOptions): Output & { bold(text: string): string; dim(text: string): string } {
  return {
    json: opts.json,
    data(line) {
      if (!opts.json) opts.stdout.write(`${line}\n`);
    },
    jsonLine(value) {
      opts.stdout.write(`${JSON.stringify(value)}\n`);
    },
    notice(line) {
      opts.stderr.write(`${line}\n`);
    },
    warn(line) {
      opts.stderr.write(`${paint(opts.color, '33', 'Warning:')} ${line}\n`);
    },
    bold: (text) => paint(opts.color, '1', text),
    dim: (text) => paint(opts.color, '2', text),
  };
}

/** Colour is on only for a TTY, and never when NO_COLOR is set or --no-color was passed. */
export function colorEnabled(env: NodeJS.ProcessEnv, isTTY: boolean, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR === '0') return false;
  return isTTY;
}

/** Aligned columns on a TTY; tab-separated lines when piped, so scripts can `cut -f`. */
export function formatTable(rows: string[][], isTTY: boolean): string[] {
  if (!isTTY) return rows.map((row) => row.join('\t'));
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}
