/**
 * Durations as admins and developers write them: `8h`, `30m`, `1h30m`, `90s`, `2d`.
 * Units must appear in descending order, each at most once, so every text has one meaning.
 */
import { usageError } from '../errors.js';

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const UNIT_MS = [86_400_000, 3_600_000, 60_000, 1_000] as const;

/** Milliseconds in `text`, or undefined when it is not a positive duration. */
export function tryParseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  let total = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = match[i + 1];
    if (part !== undefined) total += Number(part) * (UNIT_MS[i] ?? 0);
  }
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

/** Milliseconds in `text`; throws a usage error (exit 2) naming `what` when it is not a positive duration. */
export function parseDuration(text: string, what = 'duration'): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) {
    throw usageError('duration_invalid', `${what}: "${text}" is not a duration.`, ['Write durations like 8h, 30m, 1h30m or 90s.']);
  }
  return ms;
}

/** Format milliseconds back into the shortest `1h30m` form (whole seconds; sub-second parts are dropped). */
export function formatDuration(ms: number): string {
  let rest = Math.floor(ms / 1000);
  if (rest <= 0) return '0s';
  const out: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out.push(`${n}${unit}`);
    rest -= n * size;
  }
  return out.join('');
}
