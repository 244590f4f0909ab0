import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, tryParseDuration } from '../../../src/team/team-store.js';

describe('durations', () => {
  it.each([
    ['8h', 8 * 3600_000],
    ['30m', 30 * 60_000],
    ['1h30m', 90 * 60_000],
    ['90s', 90_000],
    ['1d2h', 26 * 3600_000],
    [' 2h ', 2 * 3600_000],
  ])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '0s', '0h0m', '8', 'h', '30m1h', '1.5h', '-1h', '1h 30m', '8H', '1w'])('refuses %j', (text) => {
    expect(tryParseDuration(text)).toBeUndefined();
    expect(() => parseDuration(text, '--ttl')).toThrow(/--ttl: ".*" is not a duration/);
  });

  it('formats', () => {
    expect(formatDuration(90 * 60_000)).toBe('1h30m');
    expect(formatDuration(26 * 3600_000 + 5000)).toBe('1d2h5s');
    expect(formatDuration(0)).toBe('0s');
  });
});
