/**
 * The keytar-shaped secret store every command talks to. Implementations: the OS keychain
 * (keychain-store.ts), the environment override wrapper (env-override-store.ts) and an
 * in-memory fake for tests (memory-store.ts).
 */
export type SecretBackend =
  | 'macos-keychain'
  | 'windows-credential-manager'
  | 'secret-service'
  | 'keyutils'
  | 'memory'
  | 'env';

export interface SecretStore {
  /** Where secrets actually live; `env` means only environment variables can supply them. */
  readonly backend: SecretBackend;
  setPassword(account: string, secret: string): Promise<void>;
  /** Resolves `undefined` when there is no such entry. */
  getPassword(account: string): Promise<string | undefined>;
  /** Resolves `true` when an entry was removed, `false` when there was none. */
  deletePassword(account: string): Promise<boolean>;
  /** Stores that let environment variables answer reads (EnvOverrideStore) name the variable here. */
  overriddenBy?(account: string): string | undefined;
}

export const DEFAULT_KEYCHAIN_SERVICE = 'devtunnel';

/**
 * The keychain service name all entries are filed under. `DEVTUNNEL_KEYCHAIN_SERVICE` moves
 * them aside so the demo and the tests never touch a user's real entries.
 */
export function resolveKeychainService(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.DEVTUNNEL_KEYCHAIN_SERVICE?.trim();
  return fromEnv ? fromEnv : DEFAULT_KEYCHAIN_SERVICE;
}
