import type { CliContext } from '../cli/context.js';
import { authtokenAccount } from '../secrets/accounts.js';
import { loadLogin } from './session.js';
import { notLoggedInError } from '../errors.js';

export interface WhoamiResult {
  team: { id: string; name: string };
  user: { email: string; label: string };
  ingress: string;
  domain: string;
  endpoint_pattern: string;
  policy_version: number;
  key_fingerprint: string;
  authtoken: { present: boolean; source: string };
}

/** Who this machine is in the team. Reports whether a token exists, never the token. */
export async function whoami(ctx: CliContext): Promise<WhoamiResult> {
  const login = await loadLogin(ctx);
  if (!login) throw notLoggedInError();
  const secrets = await ctx.secretStore();
  const account = authtokenAccount(login.policy.team.id);
  const token = await secrets.getPassword(account);
  const overridden = secrets.overriddenBy?.(account);
  return {
    team: login.policy.team,
    user: { email: login.email, label: login.userLabel },
    ingress: login.policy.ingress.server_addr,
    domain: login.policy.domain,
    endpoint_pattern: `<name>.${login.userLabel}.${login.policy.domain}`,
    policy_version: login.policy.version,
    key_fingerprint: login.keyFingerprint,
    authtoken: { present: Boolean(token), source: overridden ?? secrets.backend },
  };
}
