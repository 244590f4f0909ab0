import { afterEach, describe, expect, it } from 'vitest';
import { waitForStopSignal } from '../../../src/cli/signals.js';

const listeners = () => [...process.listeners('SIGINT'), ...process.listeners('SIGTERM')];

describe('waitForStopSignal', () => {
  const before = new Set(listeners());
  afterEach(() => {
    for (const l of process.listeners('SIGINT')) if (!before.has(l)) process.removeListener('SIGINT', l);
    for (const l of process.listeners('SIGTERM')) if (!before.has(l)) process.removeListener('SIGTERM', l);
  });

  it('resolves with the first signal; an echo within 500 ms is ignored, a later one forces', async () => {
    let now = 1_000;
    const forced: string[] = [];
    const waiter = waitForStopSignal((s) => forced.push(s), () => now);
    process.emit('SIGINT', 'SIGINT');
    await expect(waiter.wait()).resolves.toBe('SIGINT');
    now += 100;
    process.emit('SIGINT', 'SIGINT'); // conf's when-exit re-raising the same signal
    expect(forced).toEqual([]);
    now += 1_000;
    process.emit('SIGINT', 'SIGINT'); // the user pressing Ctrl-C again
    expect(forced).toEqual(['SIGINT']);
    waiter.release();
  });

  it('reports SIGTERM as such', async () => {
    const waiter = waitForStopSignal(() => undefined);
    process.emit('SIGTERM', 'SIGTERM');
    await expect(waiter.wait()).resolves.toBe('SIGTERM');
    waiter.release();
  });
});
