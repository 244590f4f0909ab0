export type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * A repeat of the first signal this soon is not the user asking again: conf's atomic
 * writer (when-exit) re-raises every SIGINT/SIGTERM it sees at once, which would
 * otherwise look like a second Ctrl-C and skip the clean close.
 */
const ECHO_WINDOW_MS = 500;

/**
 * Resolves on the first Ctrl-C or SIGTERM so a long-running command can close its
 * tunnels before exiting. A second signal while closing exits at once: the user
 * asked twice, and the edge drops the session anyway when the process is gone.
 */
export function waitForStopSignal(
  onSecond: (signal: StopSignal) => void = (s) => process.exit(s === 'SIGINT' ? 130 : 143),
  now: () => number = Date.now,
) {
  let received: { signal: StopSignal; at: number } | undefined;
  // Signal listeners and the SDK's native session do not keep Node's event loop alive;
  // without a handle of our own the process would end (exit 13) right after the URL is shown.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const promise = new Promise<StopSignal>((resolve) => {
    const handler = (signal: StopSignal) => {
      if (received) {
        if (now() - received.at < ECHO_WINDOW_MS) return;
        return onSecond(signal);
      }
      received = { signal, at: now() };
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
  return {
    wait: () => promise,
    /** Lets the process end once the command has cleaned up. */
    release: () => clearInterval(keepAlive),
  };
}
