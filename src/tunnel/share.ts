import { ExitCode, UserError, edgeError, notLoggedInError, policyError, usageError } from '../errors.js';
import type { CliContext } from '../cli/context.js';
import type { TeamPolicy } from '../team/policy-schema.js';
import { parseUpstream, type Upstream } from './upstream.js';
import { EdgeRefusal, type Tunnel, type TunnelEnd } from './tunnel-starter.js';
import { loadLogin, readAuthtoken, readTeamSecrets } from '../account/session.js';

export interface ShareRequest {
  target: string;
  profile: string;
  name: string;
  allowEmails: string[];
}

/** Events a running share reports; `--json` prints each as one line. */
export type ShareEvent =
  | { event: 'ready'; url: string; profile: string; local: string; host: string; team: string; user: string }
  | { event: 'reconnecting'; url: string }
  | { event: 'reconnected'; url: string }
  | { event: 'closed'; url: string; reason: 'interrupted' | 'terminated' | 'revoked' | 'stopped' };

const labelPattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Everything checkable before the network: who, which profile, which policy, which target. */
export async function prepareShare(ctx: CliContext, request: ShareRequest) {
  const upstream: Upstream = parseUpstream(request.target);
  const name = request.name.toLowerCase();
  if (!labelPattern.test(name)) {
    throw usageError('bad_name', `"${request.name}" is not a valid endpoint name.`, [
      'Use lower-case letters, digits and dashes (at most 63), e.g. `--name api`.',
    ]);
  }
  const login = await loadLogin(ctx);
  if (!login) throw notLoggedInError();
  const { policy } = login;
  const profile = policy.profiles[request.profile];
  if (!profile) throw unknownProfile(request.profile, policy);

  const { compileProfile, serializePolicy } = await import('../profiles/compile.js');
  const { endpointHost } = await import('../team/identity.js');
  const secrets = await ctx.secretStore();
  const [authtoken, teamSecrets] = await Promise.all([
    readAuthtoken(ctx, secrets, login),
    readTeamSecrets(ctx, secrets, login, profile),
  ]);
  const document = compileProfile(profile, {
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
    tunnel: {
      serverAddr: policy.ingress.server_addr,
      rootCas: policy.ingress.root_cas,
      authtoken,
      domain: host,
      upstream: upstream.addr,
      trafficPolicy: serializePolicy(document),
      sessionMetadata: JSON.stringify({
        user: login.email,
        team: policy.team.id,
        profile: request.profile,
        devtunnel: ctx.version,
        policy_version: policy.version,
      }),
    },
  };
}

export function unknownProfile(name: string, policy: TeamPolicy): UserError {
  const approved = Object.keys(policy.profiles).sort();
  return policyError(
    'unknown_profile',
    `Profile "${name}" is not approved by team ${policy.team.name}. Approved profiles: ${approved.join(', ') || '(none)'}.`,
    ['Run `devtunnel profiles` to see what each profile enforces.', `Example: devtunnel share 3000 --profile ${approved[0] ?? 'sso'}`],
  );
}

/**
 * Starts the tunnel and keeps it until a signal arrives. Returns the exit code the
 * process should end with (130 for Ctrl-C, 143 for SIGTERM), after the edge has
 * been told the endpoint is gone.
 */
export async function runShare(
  ctx: CliContext,
  request: ShareRequest,
  report: (event: ShareEvent) => void,
  signals: { wait(): Promise<'SIGINT' | 'SIGTERM'> },
): Promise<number> {
  const prepared = await prepareShare(ctx, request);
  const starter = await ctx.tunnelStarter();
  let tunnel: Tunnel;
  let url = `https://${prepared.host}`;
  let endedByEdge: (end: TunnelEnd) => void = () => undefined;
  const ended = new Promise<TunnelEnd>((resolve) => (endedByEdge = resolve));
  try {
    tunnel = await starter.start({
      ...prepared.tunnel,
      onStatusChange: (status) => report(status === 'closed' ? { event: 'reconnecting', url } : { event: 'reconnected', url }),
      onEnded: (end) => endedByEdge(end),
    });
  } catch (error) {
    if (error instanceof EdgeRefusal) throw edgeRefused(error);
    throw error;
  }
  url = tunnel.url;
  report({
    event: 'ready',
    url,
    profile: request.profile,
    local: prepared.upstream.display,
    host: prepared.host,
    team: prepared.login.policy.team.id,
    user: prepared.login.email,
  });
  const outcome = await Promise.race([signals.wait(), ended]);
  await tunnel.close();
  if (typeof outcome === 'object') {
    report({ event: 'closed', url, reason: outcome.reason });
    throw accessEnded(outcome);
  }
  const signal = outcome;
  const reason = signal === 'SIGINT' ? 'interrupted' : 'terminated';
  report({ event: 'closed', url, reason });
  return signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
}

/** The edge ended a running tunnel: the team admin stopped the session or revoked the credential (exit 5). */
export function accessEnded(end: TunnelEnd): UserError {
  const code = end.errorCode ? ` (${end.errorCode})` : '';
  if (end.reason === 'revoked') {
    return edgeError('access_revoked', `Your team admin revoked your access: the edge no longer accepts your authtoken${code}. The tunnel is closed.`, [
      'Ask your team admin for a new invite, then run `devtunnel login` again.',
    ]);
  }
  return edgeError('session_stopped', `Your team admin stopped this tunnel session${end.detail ? ` (${end.detail})` : ''}. The tunnel is closed.`, [
    'Ask your team admin why before sharing again; `devtunnel share` starts a new session.',
  ]);
}

/** Auth refusals that mean the credential itself is gone (deleted or never valid). */
const REVOKED_CODES = new Set(['ERR_NGROK_107', 'ERR_NGROK_105']);

export function edgeRefused(error: EdgeRefusal): UserError {
  const code = error.errorCode ? ` (${error.errorCode})` : '';
  if (error.errorCode && REVOKED_CODES.has(error.errorCode)) {
    return edgeError('access_revoked', `The edge does not accept your authtoken${code}: your team admin revoked your access, or the invite was never valid. ${error.message}`, [
      'Ask your team admin for a new invite, then run `devtunnel login` again.',
    ]);
  }
  return edgeError('edge_refused', `The edge refused the tunnel${code}: ${error.message}`, [
    'Your token may not cover this host, or it was revoked. Check `devtunnel whoami`, or ask your team admin for a new invite.',
  ]);
}
