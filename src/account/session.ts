import { ExitCode, UserError } from '../errors.js';
import type { CliContext } from '../cli/context.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { Profile } from '../team/policy-schema.js';
import type { LoginState } from '../team/team-store.js';
import { authtokenAccount, teamSecretAccount } from '../secrets/accounts.js';

/** The developer's verified team membership, or undefined when not logged in. */
export async function loadLogin(ctx: CliContext): Promise<LoginState | undefined> {
  const store = await ctx.teamStore();
  return store.load();
}

/** The ACL-bound authtoken: from DEVTUNNEL_AUTHTOKEN (CI) or the keychain. */
export async function readAuthtoken(ctx: CliContext, secrets: SecretStore, login: LoginState): Promise<string> {
  const token = await secrets.getPassword(authtokenAccount(login.policy.team.id));
  if (!token) {
    throw new UserError(`No authtoken for team ${login.policy.team.id} in the ${secrets.backend} store.`, {
      exitCode: ExitCode.notLoggedIn,
      code: 'authtoken_missing',
      suggestions: [
        'Run `devtunnel login` again with your invite code (the keychain entry may have been removed, or the kernel keyring was cleared by a reboot).',
        'In CI, set DEVTUNNEL_AUTHTOKEN.',
      ],
    });
  }
  ctx.redactor.add(token);
  return token;
}

/** Names of the team secrets a profile refers to with `{ secret: NAME }`. */
export function secretNamesOf(profile: Profile): string[] {
  const names: string[] = [];
  const visit = (value: unknown) => {
    if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record.secret === 'string' && Object.keys(record).length === 1) names.push(record.secret);
      else for (const child of Object.values(record)) visit(child);
    }
  };
  visit(profile);
  return [...new Set(names)].sort();
}

/** Reads the team secrets (e.g. an OIDC client secret) a profile needs from the keychain. */
export async function readTeamSecrets(
  ctx: CliContext,
  secrets: SecretStore,
  login: LoginState,
  profile: Profile,
): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const name of secretNamesOf(profile)) {
    const value = await secrets.getPassword(teamSecretAccount(login.policy.team.id, name));
    if (!value) {
      throw new UserError(`The team secret "${name}" this profile needs is not in the keychain.`, {
        exitCode: ExitCode.notLoggedIn,
        code: 'team_secret_missing',
        suggestions: ['Run `devtunnel login` again with a fresh invite code from your team admin.'],
      });
    }
    ctx.redactor.add(value);
    result[name] = value;
  }
  return result;
}
