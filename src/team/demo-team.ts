/**
 * The sandbox's demo team: a fresh signing key, the policy from templates/demo-policy.yaml with
 * the sandbox's own addresses filled in, and one invite code for a demo developer.
 */
import { randomBytes } from 'node:crypto';
import { encodeInvite, type InvitePayload } from './invite.js';
import { parseTeamPolicy, type TeamPolicy } from './policy-schema.js';
import { signPolicy, type SignedPolicy } from './signed-policy.js';
import { generateTeamKey, type TeamKeyPair } from './team-key.js';
import { loadTemplate } from './templates.js';

/** Where the sandbox runs, to fill into the demo policy. */
export interface DemoPolicyOptions {
  /** Endpoint domain, e.g. `devtunnel.localhost`. */
  domain: string;
  /** Agent ingress `host:port`. */
  serverAddr: string;
  /** PEM text of the sandbox CA (or `trusted` / `host`). */
  rootCasPem: string;
  /** Issuer URL of the sandbox's stub identity provider. */
  idpUrl: string;
  /** Policy version (default 1). */
  version?: number;
  /** Templates folder override (tests). */
  templatesDir?: string;
}

/** The secret name the demo `sso` profile's client secret is stored under. */
export const DEMO_OIDC_SECRET = 'demo-oidc';

/** The demo team's policy, validated. Throws if the template or the values are invalid. */
export function demoPolicy(options: DemoPolicyOptions): TeamPolicy {
  const values: Record<string, string> = {
    DOMAIN: options.domain,
    SERVER_ADDR: options.serverAddr,
    ROOT_CAS: options.rootCasPem,
    IDP_URL: options.idpUrl,
  };
  // Substitute whole YAML string values after parsing, never text: a PEM or URL cannot change the YAML structure.
  const fill = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const m = /^\{\{([A-Z_]+)\}\}$/.exec(node);
      if (!m) return node;
      const value = values[m[1] ?? ''];
      if (value === undefined) throw new TypeError(`demo policy template: unknown placeholder ${node}`);
      return value;
    }
    if (Array.isArray(node)) return node.map(fill);
    if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v)]));
    return node;
  };
  const filled = fill(loadTemplate('demo-policy.yaml', options.templatesDir)) as Record<string, unknown>;
  if (options.version !== undefined) filled['version'] = options.version;
  return parseTeamPolicy(filled, 'The demo team policy');
}

/** Options for {@link createDemoTeam}. */
export interface DemoTeamOptions extends DemoPolicyOptions {
  /** The demo developer's email (default `dev@example.com`). */
  email?: string;
  /** ACL-bound authtoken the sandbox minted for the demo developer. */
  authtoken: string;
  credentialId: string;
  /** Clock for `iat`/`exp` (default now). */
  now?: Date;
  /** Invite lifetime in seconds (default 7 days). */
  inviteTtlSeconds?: number;
}

/** Everything the sandbox needs about its demo team. `teamKey.privateKeyPem`, `secrets` and `invite` are secrets. */
export interface DemoTeam {
  policy: TeamPolicy;
  signedPolicy: SignedPolicy;
  teamKey: TeamKeyPair;
  /** Team secrets (the stub IdP needs `demo-oidc` to check the client secret). */
  secrets: Record<string, string>;
  invite: string;
  invitePayload: InvitePayload;
}

/** Create the demo team: new key, signed demo policy, a random OIDC client secret and an invite. */
export function createDemoTeam(options: DemoTeamOptions): DemoTeam {
  const policy = demoPolicy(options);
  const teamKey = generateTeamKey();
  const signedPolicy = signPolicy(policy, teamKey.privateKeyPem);
  const secrets = { [DEMO_OIDC_SECRET]: randomBytes(24).toString('base64url') };
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const invitePayload: InvitePayload = {
    v: 1,
    team: { id: policy.team.id, name: policy.team.name },
    team_key: teamKey.publicKey,
    signed_policy: signedPolicy,
    authtoken: options.authtoken,
    credential_id: options.credentialId,
    email: options.email ?? 'dev@example.com',
    secrets,
    iat,
    exp: iat + (options.inviteTtlSeconds ?? 7 * 24 * 3600),
  };
  return { policy, signedPolicy, teamKey, secrets, invite: encodeInvite(invitePayload, teamKey.privateKeyPem), invitePayload };
}
