/**
 * The life of one running tunnel, shared by `share` and `webhook`: start it, report it ready,
 * hold it until Ctrl-C / SIGTERM or until the edge ends it (Stop, revocation), close it at the
 * edge, and say how it ended. The commands differ only in what they prepare and report.
 */
import { ExitCode, UserError, edgeError } from '../errors.js';
import type { TeamPolicy } from '../team/policy-schema.js';
import { EdgeRefusal, type Tunnel, type TunnelEnd, type TunnelRequest, type TunnelStarter } from './tunnel-starter.js';

/**
 * The session metadata of a developer's agent session: who runs it, with which devtunnel and policy.
 * It depends on nothing a command's flags say, so start-up can connect the session before the
 * command is parsed (src/tunnel/warmup.ts); what the endpoint is for goes in its endpoint metadata.
 */
export function teamSessionMetadata(opts: { policy: TeamPolicy; email: string; version: string }): string {
  return JSON.stringify({
    user: opts.email,
    team: opts.policy.team.id,
    devtunnel: opts.version,
    policy_version: opts.policy.version,
  });
}

/**
 * The TunnelRequest for an endpoint of the team: the team's ingress and trust, the developer's
 * token, the compiled Traffic Policy, session metadata saying who runs it, and endpoint metadata
 * (`extra`: the command's own keys, e.g. the profile) saying what the endpoint is for.
 */
export function teamTunnelRequest(opts: {
  policy: TeamPolicy;
  email: string;
  version: string;
  authtoken: string;
  host: string;
  upstreamAddr: string;
  trafficPolicy: string;
  extra: Record<string, string>;
}): Omit<TunnelRequest, 'onStatusChange' | 'onEnded'> {
  return {
    serverAddr: opts.policy.ingress.server_addr,
    rootCas: opts.policy.ingress.root_cas,
    authtoken: opts.authtoken,
    domain: opts.host,
    upstream: opts.upstreamAddr,
    trafficPolicy: opts.trafficPolicy,
    sessionMetadata: teamSessionMetadata(opts),
    endpointMetadata: JSON.stringify(opts.extra),
  };
}

/** Lifecycle events every long-running tunnel command prints (one JSON line each with --json). */
export type TunnelLifecycleEvent =
  | { event: 'reconnecting'; url: string }
  | { event: 'reconnected'; url: string }
  | { event: 'closed'; url: string; reason: 'interrupted' | 'terminated' | 'revoked' | 'stopped' };

export interface HoldTunnelOptions<Ready> {
  starter: TunnelStarter;
  request: Omit<TunnelRequest, 'onStatusChange' | 'onEnded'>;
  /** The URL to show once the edge gave one (webhook appends its path). */
  publicUrl?: (tunnelUrl: string) => string;
  /** Builds the `ready` event from the URL. */
  ready: (url: string) => Ready;
  report: (event: Ready | TunnelLifecycleEvent) => void;
  signals: { wait(): Promise<'SIGINT' | 'SIGTERM'> };
  /** Set when the authtoken came from an environment variable (named here), not the keychain. */
  authtokenFromEnv?: string;
}

/**
 * Runs the tunnel to its end. Returns the exit code for a signal (130 / 143), after the
 * endpoint was closed at the edge; throws exit 5 when the edge refused or ended it.
 */
export async function holdTunnel<Ready>(opts: HoldTunnelOptions<Ready>): Promise<number> {
  let url = `https://${opts.request.domain}`;
  let endedByEdge: (end: TunnelEnd) => void = () => undefined;
  const ended = new Promise<TunnelEnd>((resolve) => (endedByEdge = resolve));
  let tunnel: Tunnel;
  try {
    tunnel = await opts.starter.start({
      ...opts.request,
      onStatusChange: (status) => opts.report(status === 'closed' ? { event: 'reconnecting', url } : { event: 'reconnected', url }),
      // The edge's Stop / revocation ends the tunnel instead of endless reconnects (docs/revocation.md).
      onEnded: (end) => endedByEdge(end),
    });
  } catch (error) {
    if (error instanceof EdgeRefusal) {
      throw edgeRefused(error, { serverAddr: opts.request.serverAddr, host: opts.request.domain, authtokenFromEnv: opts.authtokenFromEnv });
    }
    throw error;
  }
  url = opts.publicUrl ? opts.publicUrl(tunnel.url) : tunnel.url;
  opts.report(opts.ready(url));
  const outcome = await Promise.race([opts.signals.wait(), ended]);
  await tunnel.close();
  if (typeof outcome === 'object') {
    opts.report({ event: 'closed', url, reason: outcome.reason });
    throw accessEnded(outcome);
  }
  opts.report({ event: 'closed', url, reason: outcome === 'SIGINT' ? 'interrupted' : 'terminated' });
  return outcome === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated;
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

/** Refusals that mean the host is taken by another live endpoint. */
const HOST_TAKEN_CODES = new Set(['ERR_NGROK_334']);

/**
 * An edge refusal at start as the user-facing error (exit 5), with the advice that fits: the
 * ingress cannot be reached (no edge code at all), the token is not accepted, the host is taken,
 * or the edge refused the endpoint (ACL, policy).
 */
export function edgeRefused(error: EdgeRefusal, context: { serverAddr?: string; host?: string; authtokenFromEnv?: string } = {}): UserError {
  const code = error.errorCode ? ` (${error.errorCode})` : '';
  if (!error.errorCode && /failed to connect session|tcp connection|tls handshake|dns|connection refused|timed out/i.test(error.message)) {
    return edgeError('ingress_unreachable', `Cannot reach your team's agent ingress${context.serverAddr ? ` ${context.serverAddr}` : ''}: ${error.message}`, [
      'Check your network (VPN, proxy, firewall); if it persists, ask your team admin whether the ingress moved (`devtunnel sync` fetches a newer policy).',
    ]);
  }
  if (error.errorCode && REVOKED_CODES.has(error.errorCode)) {
    if (context.authtokenFromEnv) {
      return edgeError('access_revoked', `The edge does not accept the authtoken from ${context.authtokenFromEnv}${code}. ${error.message}`, [
        `Check the value of ${context.authtokenFromEnv}, or unset it to use the token stored by \`devtunnel login\`.`,
      ]);
    }
    return edgeError('access_revoked', `The edge does not accept your authtoken${code}: your team admin revoked your access, or the invite was never valid. ${error.message}`, [
      'Ask your team admin for a new invite, then run `devtunnel login` again.',
    ]);
  }
  if (error.errorCode && HOST_TAKEN_CODES.has(error.errorCode)) {
    return edgeError('host_in_use', `${context.host ?? 'This host'} is already served by another tunnel${code}.`, [
      'Stop the other share (it may run in another terminal), or pick another name with `--name`.',
    ]);
  }
  return edgeError('edge_refused', `The edge refused the tunnel${code}: ${error.message}`, [
    'Your token may not cover this host, or it was revoked. Check `devtunnel whoami`, or ask your team admin for a new invite.',
  ]);
}
