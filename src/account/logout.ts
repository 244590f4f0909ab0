import type { CliContext } from '../cli/context.js';
import { UserError } from '../errors.js';
import { webhookSecretAccount } from '../secrets/accounts.js';
import { previousAccounts } from './login.js';

export interface LogoutResult {
  was_logged_in: boolean;
  team?: string;
  removed_keychain_entries: number;
  /** A local login file was there but unreadable (damaged or edited); it was removed. */
  removed_damaged_login?: boolean;
}

/** Removes every keychain entry a login wrote (and webhook secrets), then the local team state. */
export async function logout(ctx: CliContext): Promise<LogoutResult> {
  const store = await ctx.teamStore();
  const state = store.load({ verify: false });
  if (!state) {
    // A damaged file names no team, so its keychain entries cannot be found; a new login
    // of the same team overwrites them. The file itself must go, or login stays blocked.
    if (!isDamaged(() => store.load())) return { was_logged_in: false, removed_keychain_entries: 0 };
    await store.clear();
    return { was_logged_in: false, removed_keychain_entries: 0, removed_damaged_login: true };
  }
  const secrets = await ctx.secretStore();
  const accounts = [
    ...previousAccounts(state),
    ...state.webhookProviders.map((provider) => webhookSecretAccount(state.teamId, provider)),
  ];
  let removed = 0;
  for (const account of accounts) if (await secrets.deletePassword(account)) removed++;
  await store.clear();
  return { was_logged_in: true, team: state.teamId, removed_keychain_entries: removed };
}

/** True when loading the login fails because the file is damaged or was edited. */
function isDamaged(load: () => unknown): boolean {
  try {
    load();
    return false;
  } catch (error) {
    if (error instanceof UserError && error.code === 'team_store_invalid') return true;
    throw error;
  }
}
