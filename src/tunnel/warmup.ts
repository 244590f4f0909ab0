/**
 * Start-up warm-up for `share` and `webhook` (docs/decisions.md). `bin/run.js` calls it before it
 * loads oclif: it reads the team login, opens the secret store, reads the authtoken, loads the SDK
 * and starts connecting the agent session, whose metadata depends on no flag. The connect runs in
 * the SDK's native threads while this one loads oclif and the command; the command then finds the
 * opened store and the connected session in its context (src/cli/prewarmed.ts) and only binds.
 *
 * It never prints and never fails: wherever the command itself would fail (not logged in, damaged
 * store, no keychain, no token) it stops and leaves that step to the command, which then reports
 * it exactly as without a warm-up. A store that failed to open is handed over as that failure, so
 * the keychain is never opened twice.
 */
import type { Prewarmed } from '../cli/prewarmed.js';
import { authtokenAccount } from '../secrets/accounts.js';
import { openSecretStore } from '../secrets/open-secret-store.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { TeamStore, type LoginState } from '../team/team-store.js';
import { NgrokTunnelStarter, type SessionParams } from './ngrok-tunnel-starter.js';
import { teamSessionMetadata } from './tunnel-session.js';
import type { TunnelStarter } from './tunnel-starter.js';

/** The commands that start a tunnel, and so gain from a session connected ahead. */
const TUNNEL_COMMANDS = new Set(['share', 'webhook']);

/** Whether `argv` (without node and the script) runs a tunnel command worth warming up for. */
export function shouldWarmUp(argv: readonly string[]): boolean {
  const [command, ...rest] = argv;
  if (command === undefined || !TUNNEL_COMMANDS.has(command) || rest.length === 0) return false;
  return !rest.some((arg) => arg === '--help' || arg === '-h');
}

/** A tunnel starter that can connect a session ahead of its request (NgrokTunnelStarter). */
export interface WarmableStarter extends TunnelStarter {
  preload(): void;
  connectAhead(params: SessionParams): void;
  release(): Promise<void>;
}

/** What the warm-up reaches for; tests pass fakes. */
export interface WarmupDeps {
  loadLogin(env: NodeJS.ProcessEnv): LoginState | undefined;
  openSecretStore(opts: { env: NodeJS.ProcessEnv; notice: (line: string) => void }): Promise<SecretStore>;
  createStarter(): WarmableStarter;
}

const realDeps: WarmupDeps = {
  // The same store the command's context builds (src/cli/base-command.ts).
  loadLogin: (env) => new TeamStore({ cwd: env.DEVTUNNEL_CONFIG_DIR }).load(),
  openSecretStore: (opts) => openSecretStore(opts),
  createStarter: () => new NgrokTunnelStarter(),
};

export interface TunnelWarmup {
  /** For the command's context (hand it over with handOverPrewarmed). */
  prewarmed: Prewarmed;
  /**
   * Settles once the connect was started, or the warm-up gave up, or it waits on something outside
   * this thread (the Secret Service probe child): the moment to start the big synchronous loads.
   */
  begun: Promise<void>;
}

/** Starts the warm-up; see the header. Never throws, never rejects, never prints. */
export function startTunnelWarmup(opts: { env: NodeJS.ProcessEnv; version: string }, deps: WarmupDeps = realDeps): TunnelWarmup {
  const { env, version } = opts;
  let starter: WarmableStarter | undefined;
  const prewarmed: Prewarmed = { release: async () => starter?.release().catch(() => undefined) };
  let login: LoginState | undefined;
  try {
    login = deps.loadLogin(env);
  } catch {
    // A damaged store: the command says so.
  }
  if (!login) return { prewarmed, begun: Promise.resolve() };
  const teamId = login.policy.team.id;
  const session = {
    serverAddr: login.policy.ingress.server_addr,
    rootCas: login.policy.ingress.root_cas,
    sessionMetadata: teamSessionMetadata({ policy: login.policy, email: login.email, version }),
  };

  let notice: string | undefined;
  let secretStore: Promise<{ store: SecretStore; notice: string | undefined }>;
  try {
    secretStore = deps.openSecretStore({ env, notice: (line) => (notice = line) }).then((store) => ({ store, notice }));
  } catch (error) {
    secretStore = Promise.reject(error);
  }
  // Its failure is the command's to report, when (and if) it asks for the store.
  secretStore.catch(() => undefined);
  prewarmed.secretStore = secretStore;

  try {
    starter = deps.createStarter();
    // The SDK loads (synchronously, in a microtask) while a Secret Service probe child starts.
    starter.preload();
    prewarmed.tunnelStarter = starter;
  } catch {
    return { prewarmed, begun: Promise.resolve() };
  }
  const connecting = secretStore
    .then(({ store }) => store.getPassword(authtokenAccount(teamId)))
    .then((authtoken) => {
      // No token: the command reports it (and never connects).
      if (authtoken) starter!.connectAhead({ ...session, authtoken });
    })
    .catch(() => undefined);
  const nextTurn = new Promise<void>((resolve) => setImmediate(resolve));
  return { prewarmed, begun: Promise.race([connecting, nextTurn]) };
}
