import { UserError, notLoggedInError, policyError, usageError } from '../errors.js';
import type { CliContext } from '../cli/context.js';
import type { TeamPolicy } from '../team/policy-schema.js';
import { parseUpstream, type Upstream } from './upstream.js';
import { holdTunnel, teamTunnelRequest, type TunnelLifecycleEvent } from './tunnel-session.js';

export { accessEnded, edgeRefused } from './tunnel-session.js';
import { loadLogin, readAuthtoken, readTeamSecrets } from '../account/session.js';
import { isDnsLabel } from '../team/identity.js';

export interface ShareRequest {
  target: string;
  /** Undefined when --profile was not given: refused with the list of approved profiles. */
  profile: string | undefined;
  name: string;
  allowEmails: string[];
}

/** Events a running share reports; `--json` prints each as one line. */
export type ShareReady = { event: 'ready'; url: string; profile: string; local: string; host: string; team: string; user: string };
export type ShareEvent = ShareReady | TunnelLifecycleEvent;


/** Everything checkable before the network: who, which profile, which policy, which target. */
export async function prepareShare(ctx: CliContext, request: ShareRequest) {
  const upstream: Upstream = parseUpstream(request.target);
  const name = request.name.toLowerCase();
  if (!isDnsLabel(name)) {
    throw usageError('bad_name', `"${request.name}" is not a valid endpoint name.`, [
      'Use lower-case letters, digits and dashes (at most 63), e.g. `--name api`.',
    ]);
  }
  const login = await loadLogin(ctx);
  if (!login) throw notLoggedInError();
  const { policy } = login;
  if (request.profile === undefined) throw profileMissing(policy);
  const profileName = request.profile;
  const profile = policy.profiles[profileName];
  if (!profile) throw unknownProfile(profileName, policy, request.target);

  const { compileProfile, serializePolicy } = await import('../profiles/compile.js');
  const { endpointHost } = await import('../team/identity.js');
  const secrets = await ctx.secretStore();
  const [authtoken, teamSecrets] = await Promise.all([
    readAuthtoken(ctx, secrets, login),
    readTeamSecrets(ctx, secrets, login, profile),
  ]);
  const document = compileProfile(profile, {
    profileName,
    user: { email: login.email, label: login.userLabel },
    team: policy.team,
    secrets: teamSecrets,
    narrowing: request.allowEmails.length > 0 ? { allowEmails: request.allowEmails } : undefined,
  });
  const host = endpointHost(name, login.userLabel, policy.domain);
  return {
    upstream,
    host,
    login,
    profileName,
    tunnel: teamTunnelRequest({
      policy,
      email: login.email,
      version: ctx.version,
      authtoken,
      host,
      upstreamAddr: upstream.addr,
      trafficPolicy: serializePolicy(document),
      extra: { profile: profileName },
    }),
  };
}

function profileMissing(policy: TeamPolicy): UserError {
  const approved = Object.keys(policy.profiles).sort();
  const example = approved.includes('sso') ? 'sso' : (approved[0] ?? 'sso');
  return usageError('profile_missing', `Choose who may open the URL with --profile. Team ${policy.team.name} approves: ${approved.join(', ') || '(none)'}.`, [
    `Example: devtunnel share 3000 --profile ${example}`,
    'Run `devtunnel profiles` to see what each profile enforces.',
  ]);
}

export function unknownProfile(name: string, policy: TeamPolicy, target = '8080'): UserError {
  const approved = Object.keys(policy.profiles).sort();
  const example = approved.includes('sso') ? 'sso' : (approved[0] ?? 'sso');
  // A webhook profile's name is a natural thing to try here; point at the right command.
  if (Object.hasOwn(policy.webhooks ?? {}, name)) {
    return policyError('webhook_profile_not_shareable', `"${name}" is a webhook profile: it receives signed webhooks, it does not share an app.`, [
      `Run \`devtunnel webhook ${name} ${target}\` to receive ${name} webhooks.`,
      `To share an app, use one of: ${approved.join(', ') || '(none)'}.`,
    ]);
  }
  return policyError(
    'unknown_profile',
    `Profile "${name}" is not approved by team ${policy.team.name}. Approved profiles: ${approved.join(', ') || '(none)'}.`,
    ['Run `devtunnel profiles` to see what each profile enforces.', `Example: devtunnel share 3000 --profile ${example}`],
  );
}

/**
 * Starts the tunnel and keeps it until a signal arrives or the edge ends it. Returns the exit
 * code (130 for Ctrl-C, 143 for SIGTERM) after the edge has been told the endpoint is gone.
 */
export async function runShare(
  ctx: CliContext,
  request: ShareRequest,
  report: (event: ShareEvent) => void,
  signals: { wait(): Promise<'SIGINT' | 'SIGTERM'> },
): Promise<number> {
  const prepared = await prepareShare(ctx, request);
  return holdTunnel({
    starter: await ctx.tunnelStarter(),
    request: prepared.tunnel,
    authtokenFromEnv: ctx.env.DEVTUNNEL_AUTHTOKEN ? 'DEVTUNNEL_AUTHTOKEN' : undefined,
    ready: (url): ShareReady => ({
      event: 'ready',
      url,
      profile: prepared.profileName,
      local: prepared.upstream.display,
      host: prepared.host,
      team: prepared.login.policy.team.id,
      user: prepared.login.email,
    }),
    report,
    signals,
  });
}
