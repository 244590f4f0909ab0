/**
 * The whole sandbox as `devtunnel sandbox` runs it: the edge, a credential for the demo
 * developer, and the demo team (key, signed policy, invite) pointing at this edge.
 */
import { readFileSync } from 'node:fs';
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
  const credentials = new CredentialRegistry();
  const edge = await SandboxEdge.start({
    stateDir: options.stateDir,
    domain: SANDBOX_DOMAIN,
    agentPort: options.agentPort,
    httpPort: options.httpPort,
    httpsPort: options.httpsPort,
    // IPv4 and IPv6 loopback, so IP policies can be exercised with both families.
    publicHosts: loopbackPublicHosts(),
    credentials,
  });
  let api: SandboxRestApi | undefined;
  try {
    api = await SandboxRestApi.listen({ credentials, edge, port: options.apiPort });
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
      describeEvent,
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

const SECRET_KEYS = new Set(['client_secret', 'secret']);

/** Copies an event with every `client_secret`/`secret` value replaced, at any depth. */
export function redactEvent<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redactEvent) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.has(k) && typeof v === 'string' ? '[redacted]' : redactEvent(v)]),
    ) as T;
  }
  return value;
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
