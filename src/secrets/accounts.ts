/**
 * Account names inside the keychain service (DESIGN.md, Keychain). Each part is checked so a
 * team or secret name can never forge another account (`:` is the separator).
 */
export type AccountKind = 'authtoken' | 'team-secret' | 'webhook' | 'admin-key' | 'admin-api';

export interface ParsedAccount {
  kind: AccountKind;
  team: string;
  /** Team-secret name or webhook provider, for the kinds that have one. */
  name?: string;
}

function part(label: string, value: string): string {
  if (value.length === 0 || value.includes(':') || /[\s\u0000-\u001f]/.test(value)) {
    throw new RangeError(`invalid ${label} for a keychain account name: ${JSON.stringify(value)}`);
  }
  return value;
}

export const authtokenAccount = (team: string) => `authtoken:${part('team', team)}`;
export const teamSecretAccount = (team: string, name: string) =>
  `team-secret:${part('team', team)}:${part('secret name', name)}`;
export const webhookAccount = (team: string, provider: string) =>
  `webhook:${part('team', team)}:${part('webhook provider', provider)}`;
/** Same as webhookAccount: the developer's webhook signing secret. */
export const webhookSecretAccount = webhookAccount;
export const adminKeyAccount = (team: string) => `admin-key:${part('team', team)}`;
export const adminApiAccount = (team: string) => `admin-api:${part('team', team)}`;

const withName = new Set<AccountKind>(['team-secret', 'webhook']);
const kinds = new Set<AccountKind>(['authtoken', 'team-secret', 'webhook', 'admin-key', 'admin-api']);

/** Splits an account name back into its parts; `undefined` if it is not one of ours. */
export function parseAccount(account: string): ParsedAccount | undefined {
  const [kind, team, name, ...rest] = account.split(':');
  if (kind === undefined || !kinds.has(kind as AccountKind) || !team || rest.length > 0) return undefined;
  const k = kind as AccountKind;
  if (withName.has(k)) return name ? { kind: k, team, name } : undefined;
  return name === undefined ? { kind: k, team } : undefined;
}
