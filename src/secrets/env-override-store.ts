import type { SecretBackend, SecretStore } from './secret-store.js';
import type { UserError } from '../errors.js';

/**
 * Environment variables that win over the keychain for reads, by account prefix. Only
 * devtunnel's own variables: NGROK_AUTHTOKEN is deliberately absent, because a personal ngrok
 * token must never stand in for the team's ACL-bound one.
 */
const OVERRIDES: ReadonlyArray<{ prefix: string; variable: string }> = [
  { prefix: 'authtoken:', variable: 'DEVTUNNEL_AUTHTOKEN' },
  { prefix: 'webhook:', variable: 'DEVTUNNEL_WEBHOOK_SECRET' },
];

/**
 * Wraps a store so `DEVTUNNEL_AUTHTOKEN` / `DEVTUNNEL_WEBHOOK_SECRET` answer reads of
 * `authtoken:*` / `webhook:*` (for CI). Writes and deletes still go to the inner store, so
 * `login` and `logout` behave the same with or without the override.
 */
export class EnvOverrideStore implements SecretStore {
  readonly backend: SecretBackend;

  constructor(
    readonly inner: SecretStore,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.backend = inner.backend;
  }

  /** The environment variable that currently answers reads of `account`, if any. */
  overriddenBy(account: string): string | undefined {
    for (const { prefix, variable } of OVERRIDES) {
      if (account.startsWith(prefix) && (this.env[variable] ?? '') !== '') return variable;
    }
    return undefined;
  }

  async getPassword(account: string): Promise<string | undefined> {
    const variable = this.overriddenBy(account);
    if (variable !== undefined) return this.env[variable];
    return this.inner.getPassword(account);
  }

  setPassword(account: string, secret: string): Promise<void> {
    return this.inner.setPassword(account, secret);
  }

  deletePassword(account: string): Promise<boolean> {
    return this.inner.deletePassword(account);
  }
}

/**
 * Stands in when there is no OS keychain: every call fails with the keychain error, so only
 * an EnvOverrideStore around it can answer (CI with `DEVTUNNEL_AUTHTOKEN`).
 */
export class UnavailableStore implements SecretStore {
  readonly backend = 'env' as const;

  constructor(readonly reason: UserError) {}

  async setPassword(): Promise<void> {
    throw this.reason;
  }

  async getPassword(): Promise<string | undefined> {
    throw this.reason;
  }

  async deletePassword(): Promise<boolean> {
    throw this.reason;
  }
}

/** True when any override variable is set, i.e. a missing keychain need not be fatal yet. */
export function hasEnvOverrides(env: NodeJS.ProcessEnv = process.env): boolean {
  return OVERRIDES.some(({ variable }) => (env[variable] ?? '') !== '');
}
