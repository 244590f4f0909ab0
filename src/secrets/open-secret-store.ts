import { UserError } from '../errors.js';
import { EnvOverrideStore, UnavailableStore, hasEnvOverrides } from './env-override-store.js';
import { openKeychain, type OpenKeychainOptions } from './keychain-store.js';

export interface OpenSecretStoreOptions extends OpenKeychainOptions {
  /** Called once with what the user should be told about the store (e.g. kernel keyring: secrets last until reboot). */
  notice?: (message: string) => void;
}

/**
 * The store commands use: the OS keychain with the DEVTUNNEL_* environment overrides on top.
 * Without any keychain it still succeeds when an override is set (CI); every access the
 * environment cannot answer then fails with the original exit-6 error. Otherwise that error is thrown.
 */
export async function openSecretStore(opts: OpenSecretStoreOptions = {}): Promise<EnvOverrideStore> {
  const { notice, ...keychainOptions } = opts;
  const env = opts.env ?? process.env;
  try {
    const keychain = await openKeychain(keychainOptions);
    if (keychain.notice !== undefined) notice?.(keychain.notice);
    return new EnvOverrideStore(keychain, env);
  } catch (error) {
    if (error instanceof UserError && error.code === 'no_keychain' && hasEnvOverrides(env)) {
      return new EnvOverrideStore(new UnavailableStore(error), env);
    }
    throw error;
  }
}
