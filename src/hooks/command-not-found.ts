import type { Hook } from '@oclif/core';
import { ExitCode } from '../errors.js';

/** Edit distance, for "did you mean" (commands are short, so the simple table is fine). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known commands closest to what was typed (at most two edits away, or a prefix). */
export function closestCommands(typed: string, commands: readonly string[]): string[] {
  return commands
    .map((c) => ({ c, d: c.startsWith(typed) ? 0 : editDistance(typed, c) }))
    .filter(({ d }) => d <= 2)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, 3)
    .map(({ c }) => c);
}

/**
 * What was typed up to the first word that is neither a command nor a topic: oclif joins every
 * leading argument into the id (`shar 3000` arrives as `shar:3000`).
 */
export function unknownPart(parts: readonly string[], commands: readonly string[]): string {
  const known = new Set(commands.flatMap((c) => c.split(' ').map((_, i, words) => words.slice(0, i + 1).join(' '))));
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join(' ');
    if (!known.has(prefix)) return prefix;
  }
  return parts.join(' ');
}

/**
 * An unknown command is a usage error (exit 2) like any other: a "did you mean", and with
 * --json the same `{"error":…}` object on stdout that every command prints.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const commands = opts.config.commandIDs.map((id) => id.replace(/:/g, ' '));
  const typed = unknownPart(opts.id.split(':'), commands);
  const near = closestCommands(typed, commands);
  const message = `"${typed}" is not a devtunnel command.`;
  const suggestions = [...(near.length ? [`Did you mean: ${near.map((c) => `devtunnel ${c}`).join(', ')}?`] : []), 'Run `devtunnel --help` for the list of commands.'];
  process.exitCode = ExitCode.usage;
  if (opts.argv?.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ error: { code: 'unknown_command', message, suggestions, exit_code: ExitCode.usage } })}\n`);
  } else {
    process.stderr.write(`Error: ${message}\n${suggestions.map((s) => `  → ${s}\n`).join('')}`);
  }
};

export default hook;
