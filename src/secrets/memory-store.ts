import type { SecretStore } from './secret-store.js';

/** In-memory SecretStore for unit tests. */
export class MemoryStore implements SecretStore {
  readonly backend = 'memory' as const;
  private readonly entries = new Map<string, string>();

  constructor(initial: Record<string, string> = {}) {
    for (const [account, secret] of Object.entries(initial)) this.entries.set(account, secret);
  }

  async setPassword(account: string, secret: string): Promise<void> {
    this.entries.set(account, secret);
  }

  async getPassword(account: string): Promise<string | undefined> {
    return this.entries.get(account);
  }

  async deletePassword(account: string): Promise<boolean> {
    return this.entries.delete(account);
  }

  /** A copy of everything stored, for assertions. */
  snapshot(): Record<string, string> {
    return Object.fromEntries(this.entries);
  }
}
