/**
 * The whole sandbox as `devtunnel sandbox` runs it: the edge, a credential for the demo
 * developer, and the demo team (key, signed policy, invite) pointing at this edge.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDemoTeam, type DemoTeam } from '../team/demo-team.js';
import { aclRuleForUser, userLabelFromEmail } from '../team/identity.js';
import { fingerprintOf } from '../team/team-key.js';
import { CredentialRegistry, type Credential } from './credentials.js';
import { SandboxEdge } from './edge.js';
import { attachPolicyEnforcement, loopbackPublicHosts } from './policy/attach.js';
import type { PolicyEnforcer } from './policy/enforcer.js';
import type { StubIdp } from './idp/stub-idp.js';
import { SandboxRestApi } from './rest-api/rest-api.js';
import type { EdgeEvent } from './event-log.js';
import { prepareStateDir } from './state-dir.js';
import { usageError } from '../errors.js';

export const SANDBOX_DOMAIN = 'devtunnel.localhost';
export const DEMO_EMAIL = 'dev@example.com';

export interface SandboxOptions {
  stateDir: string;
  agentPort?: number;
  httpPort?: number;
  httpsPort?: number;
  /** Port of the REST API (0 or absent: a free port). */
  apiPort?: number;
  /** ACL of the demo developer's credential; default `bind:*.dev.<domain>`. */
  demoAcl?: string[];
}

/** What `sandbox --json` prints first; scripts and tests rely on these names. */
export interface SandboxInfo {
  event: 'sandbox_ready';
  agent_addr: string;
  ca_path: string;
  http_url: string;
  https_url: string;
  domain: string;
  invite: string;
  team: { id: string; name: string };
  team_fingerprint: string;
  demo_user: string;
  state_dir: string;
  /** The sandbox's ngrok-compatible REST API (credentials, tunnel sessions): `--api-url`. */
  api_url: string;
  /** API key for it, made at start (a secret, but only for this loopback sandbox). */
  api_key: string;
  /** The same key in a file (mode 0600) in the state dir, for `devtunnel admin login --stdin < FILE`. */
  api_key_file: string;
}

export interface RunningSandbox {
  edge: SandboxEdge;
  credentials: CredentialRegistry;
  demo: DemoTeam;
  demoCredential: Credential;
  /** The stub identity provider (idp.<domain>) every oauth / openid-connect action signs in with. */
  idp: StubIdp;
  /** Traffic Policy enforcement (sessions, compiled policies). */
  enforcer: PolicyEnforcer;
  /** The REST API subset (credentials, tunnel sessions). */
  api: SandboxRestApi;
  info: SandboxInfo;
  /** Edge events with secrets (client secrets in policies) redacted, for printing. */
  onEvent(listener: (event: EdgeEvent) => void): () => void;
  describeEvent(event: EdgeEvent): string;
  close(): Promise<void>;
}

/** Default state dir: `$XDG_STATE_HOME/devtunnel/sandbox` (or ~/.local/state/…). */
export function defaultSandboxStateDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'devtunnel', 'sandbox');
}

export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const stateDir = prepareStateDir(options.stateDir);
  const credentials = new CredentialRegistry();
  const edge = await SandboxEdge.start({
    stateDir,
    domain: SANDBOX_DOMAIN,
    agentPort: options.agentPort,
    httpPort: options.httpPort,
    httpsPort: options.httpsPort,
    // IPv4 and IPv6 loopback, so IP policies can be exercised with both families.
    publicHosts: loopbackPublicHosts(),
    credentials,
  }).catch((error: unknown) => {
    throw listenError(error, options);
  });
  let api: SandboxRestApi | undefined;
  try {
    api = await SandboxRestApi.listen({ credentials, edge, port: options.apiPort }).catch((error: unknown) => {
      throw listenError(error, options);
    });
    const apiKeyFile = path.join(stateDir, 'api-key.txt');
    writeFileSync(apiKeyFile, `${api.apiKey}\n`, { mode: 0o600 });
    chmodSync(apiKeyFile, 0o600);
    const label = userLabelFromEmail(DEMO_EMAIL);
    const demoCredential = credentials.create({
      description: `${DEMO_EMAIL} (sandbox demo developer)`,
      metadata: JSON.stringify({ email: DEMO_EMAIL }),
      acl: options.demoAcl && options.demoAcl.length > 0 ? options.demoAcl : [aclRuleForUser(label, SANDBOX_DOMAIN)],
    });
    const demo = createDemoTeam({
      domain: SANDBOX_DOMAIN,
      serverAddr: edge.agentAddr,
      rootCasPem: readFileSync(edge.caPath, 'utf8'),
      idpUrl: `${edge.httpsUrl.replace('://', '://idp.')}`,
      email: DEMO_EMAIL,
      authtoken: demoCredential.token,
      credentialId: demoCredential.id,
    });
    // The stub IdP knows the demo team's OIDC client (client id and secret of every profile whose issuer it is).
    const { idp, enforcer } = await attachPolicyEnforcement(edge);
    for (const profile of Object.values(demo.policy.profiles)) {
      const o = profile.oidc;
      const secret = o?.client_secret ? demo.secrets[o.client_secret.secret] : undefined;
      if (o && secret && o.issuer_url.replace(/\/+$/, '') === idp.issuer) idp.registerClient({ clientId: o.client_id, clientSecret: secret });
    }
    const info: SandboxInfo = {
      event: 'sandbox_ready',
      agent_addr: edge.agentAddr,
      ca_path: edge.caPath,
      http_url: edge.httpUrl,
      https_url: edge.httpsUrl,
      domain: SANDBOX_DOMAIN,
      invite: demo.invite,
      team: demo.policy.team,
      team_fingerprint: fingerprintOf(demo.teamKey.publicKey),
      demo_user: DEMO_EMAIL,
      state_dir: options.stateDir,
      api_url: api.url,
      api_key: api.apiKey,
      api_key_file: apiKeyFile,
    };
    const restApi = api;
    return {
      edge,
      credentials,
      demo,
      demoCredential,
      idp,
      enforcer,
      api: restApi,
      info,
      onEvent: (listener) => edge.events.subscribe((event) => listener(redactEvent(event))),
      describeEvent: (event) => describeEvent(redactEvent(event)),
      close: async () => {
        await restApi.close();
        await edge.close();
      },
    };
  } catch (error) {
    await api?.close();
    await edge.close();
    throw error;
  }
}

/** The sandbox's options, by the `devtunnel sandbox` flag that sets each port. */
const PORT_FLAGS = [
  ['agentPort', '--agent-port'],
  ['httpPort', '--http-port'],
  ['httpsPort', '--https-port'],
  ['apiPort', '--api-port'],
] as const;

/** A port that cannot be listened on (in use, or privileged) is bad input: exit 2, naming the flag. */
function listenError(error: unknown, options: SandboxOptions): unknown {
  const e = error as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.syscall !== 'listen' || (e.code !== 'EADDRINUSE' && e.code !== 'EACCES')) return error;
  const flags = PORT_FLAGS.filter(([key]) => e.port !== undefined && e.port !== 0 && options[key] === e.port).map(([, flag]) => flag);
  const where = `port ${e.port ?? '?'} on ${e.address ?? 'loopback'}`;
  const why = e.code === 'EADDRINUSE' ? 'is already in use' : 'needs privileges this user lacks';
  const subject = flags.length > 0 ? `${flags.join(' / ')} ${e.port}: ${where}` : where;
  const flag = flags[0];
  return usageError('sandbox_port_unavailable', `${subject} ${why}.`, [
    flag ? `Pick another port (${flag} ${(e.port ?? 0) + 1}), or ${flag} 0 for any free port.` : 'Run it again: a free port is picked each time.',
    ...(e.code === 'EADDRINUSE' ? ['Or stop what listens there (another devtunnel sandbox?).'] : []),
  ]);
}

const SECRET_KEYS = new Set(['client_secret', 'secret']);
/** Event fields that carry a request path or URL, whose query may hold OAuth values. */
const URL_KEYS = new Set(['path', 'url']);
/** Query parameters that are secrets in OAuth / OIDC callbacks (an authorisation code is a bearer secret). */
const SECRET_QUERY_PARAMS = new Set(['code', 'state', 'access_token', 'id_token', 'refresh_token', 'client_secret']);

/**
 * Copies an event with every `client_secret`/`secret` value replaced, at any depth, and the
 * values of `code`, `state` (and token) query parameters in paths and URLs.
 */
export function redactEvent<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redactEvent) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        typeof v === 'string' && SECRET_KEYS.has(k) ? '[redacted]' : typeof v === 'string' && URL_KEYS.has(k) ? redactQuery(v) : redactEvent(v),
      ]),
    ) as T;
  }
  return value;
}

/** `/cb?code=abc&state=xyz&x=1` → `/cb?code=[redacted]&state=[redacted]&x=1`. */
export function redactQuery(target: string): string {
  const q = target.indexOf('?');
  if (q < 0) return target;
  const hash = target.indexOf('#', q);
  const query = target.slice(q + 1, hash < 0 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      return SECRET_QUERY_PARAMS.has(name.toLowerCase()) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    })
    .join('&');
  return `${target.slice(0, q + 1)}${redacted}${hash < 0 ? '' : target.slice(hash)}`;
}

/** One `sandbox --json` line for an edge event: `event` names it, like the first line's `sandbox_ready` (`type` stays too). */
export function sandboxEventLine(event: EdgeEvent): { event: EdgeEvent['type'] } & EdgeEvent {
  return { event: event.type, ...redactEvent(event) };
}

/**
 * Commands that set this sandbox up as an admin team and invite someone, as printed by
 * `devtunnel sandbox`: they work as printed (see docs/administrators.md, "Trying it offline").
 * The team is a sandbox-only one (`sandbox`), re-made with --force on each run because the
 * sandbox's ports, CA and API key change.
 */
export function adminQuickStart(info: SandboxInfo): string[] {
  const q = shellQuote;
  return [
    `devtunnel admin init --team sandbox --name "Sandbox Team" --domain ${info.domain} --ingress ${info.agent_addr} --root-cas ${q(info.ca_path)} --api-url ${info.api_url} --allow-domain example.com --output sandbox-policy.yaml --force`,
    `devtunnel admin login --team sandbox --stdin < ${q(info.api_key_file)}`,
    'devtunnel admin policy sign sandbox-policy.yaml --team sandbox',
    'devtunnel admin invite alice@example.com --team sandbox > alice.invite',
  ];
}

/** Quote for a POSIX shell when needed. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function describeEvent(event: EdgeEvent): string {
  switch (event.type) {
    case 'session_auth':
      return `agent session ${event.sessionId} authenticated (credential ${event.credentialId})${event.reconnect ? ' — reconnect' : ''}`;
    case 'auth_refused':
      return `agent refused at auth: ${event.reason} (${event.code})`;
    case 'bind':
      return `bound ${event.url} (ACL check passed${event.traffic_policy ? ', traffic policy attached' : ''})`;
    case 'bind_refused':
      return `bind of ${event.host} refused: ${event.reason} (${event.code})`;
    case 'unbind':
      return `unbound ${event.host}`;
    case 'proxy':
      return `${event.clientIp} ${event.method} ${event.host}${event.path} → ${event.status}`;
    case 'session_closed':
      return `agent session ${event.sessionId} closed: ${event.reason}`;
    case 'policy_denied':
      return `${event.clientIp} ${event.method} ${event.host}${event.path} → ${event.status || 'closed'} by policy rule "${event.rule}" (${event.action}): ${event.reason}`;
  }
}
