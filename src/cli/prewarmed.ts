import type { SecretStore } from '../secrets/secret-store.js';
import type { TunnelStarter } from '../tunnel/tunnel-starter.js';

/**
 * What `bin/run.js` started before loading oclif, for the command's context to reuse instead of
 * starting it again (src/tunnel/warmup.ts, docs/decisions.md). Each part is optional: the warm-up
 * gives up silently wherever the command itself would fail or decide, and the command then does
 * that part as it always did.
 */
export interface Prewarmed {
  /**
   * The secret store as the command would have opened it (or that attempt's failure), with the
   * notice about the store it would have shown, if any. Settles like `openSecretStore()`.
   */
  secretStore?: Promise<{ store: SecretStore; notice: string | undefined }>;
  /** A tunnel starter that may already hold a connected agent session. */
  tunnelStarter?: TunnelStarter;
  /** Closes whatever was started and not used (a session no tunnel took). Idempotent; never throws. */
  release(): Promise<void>;
}

// The one hand-off from the entry point to the command it runs: oclif builds the command itself,
// so there is no argument to pass it through. Taken once; later takers get nothing.
let handedOver: Prewarmed | undefined;

/** Called by the entry point before it loads oclif. */
export function handOverPrewarmed(prewarmed: Prewarmed): void {
  handedOver = prewarmed;
}

/** Takes what the entry point started (once), or undefined. */
export function takePrewarmed(): Prewarmed | undefined {
  const taken = handedOver;
  handedOver = undefined;
  return taken;
}
