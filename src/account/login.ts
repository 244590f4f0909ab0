import type { CliContext } from '../cli/context.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { authtokenAccount, teamSecretAccount } from '../secrets/accounts.js';
import { cannotPrompt } from '../ui/prompter.js';
import { usageError } from '../errors.js';
import { readStreamText } from '../ui/read-stream.js';

export interface LoginResult {
  team: { id: string; name: string };
  user: { email: string; label: string };
  key_fingerprint: string;
  policy_version: number;
  profiles: string[];
  webhooks: string[];
  keychain: string;
  replaced_previous_login: boolean;
}

/** Where the invite code comes from: an argument, stdin (scripts), or a masked prompt. */
export async function readInviteCode(ctx: CliContext, opts: { arg?: string; stdin: boolean }): Promise<string> {
  if (opts.arg !== undefined && opts.stdin) {
    throw usageError('conflicting_input', 'Give the invite code either as an argument or with --stdin, not both.');
  }
  let code: string;
  if (opts.arg !== undefined) code = opts.arg;
  else if (opts.stdin) code = await readStreamText(ctx.stdin);
  else {
    if (!ctx.prompter.interactive) {
      throw cannotPrompt('the invite code', 'Pipe it in: `devtunnel login --stdin < invite.txt`.');
    }
    code = await ctx.prompter.secret('Invite code from your team admin:');
  }
  code = code.trim();
  ctx.redactor.add(code);
  if (code === '') throw usageError('invite_empty', 'The invite code is empty.', ['Paste the whole code, starting with `dtinv1.`.']);
  return code;
}


/**
 * Verifies the invite, then stores secrets in the keychain first and the public rest in
 * conf last, so a failure part-way leaves no login that looks complete. A previous
 * login's keychain entries are removed once the new one is in place.
 */
export async function login(ctx: CliContext, code: string, opts: { fingerprint?: string }): Promise<LoginResult> {
  const { decodeInvite } = await import('../team/invite.js');
  const { userLabelFromEmail } = await import('../team/identity.js');
  const invite = decodeInvite(code, { now: ctx.now(), expectedFingerprint: opts.fingerprint });
  ctx.redactor.add(invite.authtoken);
  for (const value of Object.values(invite.secrets)) ctx.redactor.add(value);

  const store = await ctx.teamStore();
  store.assertUsable(); // before anything reaches the keychain
  const previous = store.load({ verify: false });
  const teamId = invite.policy.team.id;
  const pinned = pinnedKeyOf(store, teamId);
  if (pinned === 'unreadable' && opts.fingerprint === undefined) {
    ctx.out.warn('The previous login could not be read (damaged), so the team key could not be compared with the one pinned before. Check the fingerprint above with your team admin.');
  }
  assertSameTeamKey(typeof pinned === 'string' && pinned !== 'unreadable' ? pinned : undefined, invite.keyFingerprint, opts.fingerprint);
  const secrets = await ctx.secretStore();

  const written: string[] = [];
  try {
    await secrets.setPassword(authtokenAccount(teamId), invite.authtoken);
    written.push(authtokenAccount(teamId));
    for (const [name, value] of Object.entries(invite.secrets)) {
      await secrets.setPassword(teamSecretAccount(teamId, name), value);
      written.push(teamSecretAccount(teamId, name));
    }
  } catch (error) {
    await removeAll(secrets, written);
    throw error;
  }

  const label = userLabelFromEmail(invite.email);
  await store.save({
    signedPolicy: invite.signedPolicy,
    teamPublicKey: invite.teamPublicKey,
    keyFingerprint: invite.keyFingerprint,
    email: invite.email,
    userLabel: label,
    credentialId: invite.credentialId,
    secretNames: Object.keys(invite.secrets).sort(),
    keychainBackend: secrets.backend,
  });

  if (previous) {
    const stale = previousAccounts(previous).filter((account) => !written.includes(account));
    await removeAll(secrets, stale);
  }

  return {
    team: invite.policy.team,
    user: { email: invite.email, label },
    key_fingerprint: invite.keyFingerprint,
    policy_version: invite.policy.version,
    profiles: Object.keys(invite.policy.profiles).sort(),
    webhooks: Object.keys(invite.policy.webhooks ?? {}).sort(),
    keychain: secrets.backend,
    replaced_previous_login: previous !== undefined,
  };
}

/**
 * The fingerprint pinned for `teamId` by the current login; `'unreadable'` when a login file
 * exists but is damaged (its pin is lost); undefined when there is none for that team.
 */
function pinnedKeyOf(store: { load(): { teamId: string; keyFingerprint: string } | undefined }, teamId: string): string | undefined {
  try {
    const current = store.load();
    return current?.teamId === teamId ? current.keyFingerprint : undefined;
  } catch {
    return 'unreadable';
  }
}

/**
 * Trust on first use, like SSH: a new key for a team this machine already knows could be a
 * phishing invite pointing at someone else's ingress. It is accepted only when the user names
 * the new fingerprint with --fingerprint (checked against the invite by decodeInvite); a yes/no
 * prompt would be answered "yes" by the very person being phished.
 */
function assertSameTeamKey(pinned: string | undefined, offered: string, expected: string | undefined): void {
  if (pinned === undefined || pinned === offered || expected !== undefined) return;
  throw usageError('team_key_changed', `This invite is signed by a different key for your team than the one you logged in with before (${pinned} → ${offered}).`, [
    'If your team admin rotated the team key, ask them for the new fingerprint and run `devtunnel login --stdin --fingerprint <new fingerprint>`.',
    'If you did not expect this, do not log in: ask your team admin where this invite came from.',
  ]);
}

/** Every keychain account a stored login may have written. */
export function previousAccounts(state: { teamId: string; secretNames: string[] }): string[] {
  return [authtokenAccount(state.teamId), ...state.secretNames.map((name) => teamSecretAccount(state.teamId, name))];
}

async function removeAll(secrets: SecretStore, accounts: string[]): Promise<void> {
  for (const account of accounts) await secrets.deletePassword(account).catch(() => false);
}
