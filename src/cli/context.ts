import type { Readable, Writable } from 'node:stream';
import type { Output } from '../ui/output.js';
import type { Prompter } from '../ui/prompter.js';
import type { Redactor } from '../ui/redact.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { TeamStore } from '../team/team-store.js';
import type { TunnelStarter } from '../tunnel/tunnel-starter.js';

/**
 * Everything a service needs from the outside world, built once per command run
 * (gh's Factory). Heavy pieces are getters that load on first use, so commands
 * that never touch the keychain or the SDK never pay for them. Tests pass fakes.
 */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  tty: { stdin: boolean; stdout: boolean; stderr: boolean };
  out: Output;
  prompter: Prompter;
  redactor: Redactor;
  now(): Date;
  /** The local team store (conf). */
  teamStore(): Promise<TeamStore>;
  /** The OS keychain (with env overrides); throws exit 6 when there is none. */
  secretStore(): Promise<SecretStore>;
  /** Starts tunnels through @ngrok/ngrok. */
  tunnelStarter(): Promise<TunnelStarter>;
  /** The CLI's own version, for session metadata. */
  version: string;
}
