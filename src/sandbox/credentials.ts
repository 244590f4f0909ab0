/**
 * In-memory registry of agent credentials (authtokens with bind ACLs), the sandbox's
 * stand-in for ngrok's `/credentials` API.
 */
import { randomBytes } from 'node:crypto';
import { normalizeAclRule } from './acl.js';

export interface Credential {
  id: string;
  token: string;
  acl: string[];
  description: string;
  metadata: string;
  createdAt: string;
}

export interface CreateCredentialInput {
  description?: string;
  metadata?: string;
  acl: string[];
}

export type CredentialDeleteListener = (credential: Credential) => void;

export class CredentialRegistry {
  private readonly byId = new Map<string, Credential>();
  private readonly deleteListeners = new Set<CredentialDeleteListener>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Create a credential; throws if any ACL rule is not `bind:<host>` / `bind:*.<suffix>`. */
  create(input: CreateCredentialInput): Credential {
    const acl = input.acl.map(normalizeAclRule);
    const credential: Credential = {
      id: `cr_${randomBytes(12).toString('base64url')}`,
      token: randomBytes(32).toString('base64url'),
      acl,
      description: input.description ?? '',
      metadata: input.metadata ?? '',
      createdAt: this.now().toISOString(),
    };
    this.byId.set(credential.id, credential);
    return { ...credential, acl: [...acl] };
  }

  get(id: string): Credential | undefined {
    const c = this.byId.get(id);
    return c ? { ...c, acl: [...c.acl] } : undefined;
  }

  list(): Credential[] {
    return [...this.byId.values()].map((c) => ({ ...c, acl: [...c.acl] }));
  }

  /** Delete a credential; returns false if it did not exist. Listeners hear about it. */
  delete(id: string): boolean {
    const c = this.byId.get(id);
    if (!c) return false;
    this.byId.delete(id);
    for (const listener of this.deleteListeners) listener({ ...c, acl: [...c.acl] });
    return true;
  }

  findByToken(token: string): Credential | undefined {
    if (!token) return undefined;
    for (const c of this.byId.values()) if (c.token === token) return { ...c, acl: [...c.acl] };
    return undefined;
  }

  /** Subscribe to deletions (e.g. to stop the credential's live sessions); returns an unsubscribe. */
  onDelete(listener: CredentialDeleteListener): () => void {
    this.deleteListeners.add(listener);
    return () => this.deleteListeners.delete(listener);
  }
}
