import type { CliContext } from '../cli/context.js';
import { webhookSecretAccount } from '../secrets/accounts.js';
import { previousAccounts } from './login.js';

export interface LogoutResult {
  was_logged_in: boolean;
  team?: string;
  removed_keychain_entries: number;
}

/** Removes every keychain entry a login wrote (and webhook secrets), then the local team state. */
export async function logout(ctx: CliContext): Promise<LogoutResult> {
  const store = await ctx.teamStore();
  const state = store.load({ verify: false });
  if (!state) return { was_logged_in: false, removed_keychain_entries: 0 };
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
