/**
 * The team policy (DESIGN.md "The team policy"): its TypeScript shape, a zod schema that checks
 * every rule the CLI relies on, and error text that names the bad field's path.
 *
 * The schema never transforms or defaults anything: a valid policy parses to a value equal to
 * its input, so the bytes an admin signs are the bytes a developer verifies. Objects are strict
 * (unknown keys are errors) because a typo such as `allow_domain` must not silently admit everyone.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { usageError, type UserError } from '../errors.js';
import { findWebhookProvider, suggestWebhookProviders } from '../profiles/webhook-providers.js';
import { tryParseDuration } from './duration.js';
import { isDnsLabel, isEmailAddress, isHostname } from './identity.js';

/** `{ secret: NAME }`: a team secret delivered in the invite and kept in the keychain, never in the policy. */
export interface SecretRef {
  secret: string;
}

/** IP rules; allowed ⇔ in some `allow` CIDR (or no allow list) and in no `deny` CIDR. */
export interface IpRules {
  allow?: string[];
  deny?: string[];
}

/** Request headers added for / removed from the upstream. Values may use `${user.email}` and `${user.name}`. */
export interface HeaderRules {
  add?: Record<string, string>;
  remove?: string[];
}

/** Who may pass once signed in. Emails match exactly (case-insensitive); see compile.ts for domain rules. */
export interface AllowLists {
  allow_emails?: string[];
  allow_domains?: string[];
}

/** Sign-in through any OpenID Connect identity provider (company SSO). */
export interface OidcAuth extends AllowLists {
  issuer_url: string;
  client_id: string;
  client_secret?: SecretRef;
  scopes?: string[];
}

/** The social OAuth providers ngrok's `oauth` action supports. */
export const OAUTH_PROVIDERS = ['amazon', 'facebook', 'github', 'gitlab', 'google', 'linkedin', 'microsoft', 'twitch'] as const;
/** One of {@link OAUTH_PROVIDERS}. */
export type OAuthProviderId = (typeof OAUTH_PROVIDERS)[number];
/** Providers for which ngrok offers no managed app, so the team must bring its own client id/secret. */
export const OAUTH_PROVIDERS_WITHOUT_MANAGED_APP: readonly OAuthProviderId[] = ['amazon', 'facebook'];

/** Sign-in through a social OAuth provider; must be limited by allow_emails and/or allow_domains. */
export interface OAuthAuth extends AllowLists {
  provider: OAuthProviderId;
  client_id?: string;
  client_secret?: SecretRef;
  scopes?: string[];
}

/** An approved way to share a local app: one sign-in method plus optional IP and header rules. */
export interface Profile {
  description?: string;
  oidc?: OidcAuth;
  oauth?: OAuthAuth;
  ip?: IpRules;
  headers?: HeaderRules;
}

/** An approved webhook receiver: signature verification by `provider`, optional IP rules and path prefix. */
export interface WebhookProfile {
  provider: string;
  ip?: IpRules;
  path?: string;
}

/** The whole team policy, as authored in YAML and signed as canonical JSON. */
export interface TeamPolicy {
  version: number;
  team: { id: string; name: string };
  ingress: { server_addr: string; root_cas: string };
  domain: string;
  limits: { max_ttl: string; default_ttl: string };
  policy_url?: string;
  profiles: Record<string, Profile>;
  webhooks?: Record<string, WebhookProfile>;
}

// ---------------------------------------------------------------------------------------------
// Field checks (each returns an error message, or undefined when fine)

const show = (value: unknown) => JSON.stringify(value);

/** Why `text` is not a CIDR (`addr/prefix`, IPv4 or IPv6), or undefined when it is one. */
export function cidrProblem(text: string): string | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) {
    return isIP(text) ? `${show(text)} is not a CIDR (write ${text}/${isIP(text) === 4 ? 32 : 128} for one address)` : `${show(text)} is not a CIDR`;
  }
  const addr = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  const family = addr.includes('%') ? 0 : isIP(addr);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return `${show(text)} is not a CIDR`;
  return undefined;
}

function urlProblem(text: string, what: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${show(text)} is not a URL`;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) {
    if (url.username || url.password) return `${what} must not contain credentials`;
    return undefined;
  }
  return `${show(text)} must be an https:// URL`;
}

function serverAddrProblem(text: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  const bad = `${show(text)} is not host:port`;
  if (!match) return bad;
  const host = match[1] ?? '';
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return bad;
  if (host.startsWith('[')) return isIP(host.slice(1, -1)) === 6 ? undefined : bad;
  return isIP(host) === 4 || isHostname(host.toLowerCase()) ? undefined : bad;
}

function headerValueProblem(value: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(value)) return 'contains a control character';
  // Header values are CEL templates at the edge; only our own placeholders may interpolate.
  if (value.replace(/\$\{user\.(?:email|name)\}/g, '').includes('${')) {
    return 'may only use the placeholders ${user.email} and ${user.name}';
  }
  return undefined;
}

const FORBIDDEN_HEADERS = new Set(['host', 'user-agent', 'ngrok-skip-browser-warning']);
const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

// ---------------------------------------------------------------------------------------------
// Schema

type Check<T> = (value: T) => string | undefined;
const checked = <T extends z.ZodType>(schema: T, check: Check<z.output<T>>) =>
  schema.superRefine((value, ctx) => {
    const problem = check(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

const nonEmptyString = z.string().min(1, 'must not be empty');
const cidr = checked(z.string(), cidrProblem);
const secretRef = z.strictObject({
  secret: checked(z.string(), (s) => (/^[a-z0-9][a-z0-9_-]{0,62}$/.test(s) ? undefined : `${show(s)} is not a secret name (lower-case letters, digits, - and _)`)),
});
const email = checked(z.string(), (s) => (isEmailAddress(s) ? undefined : `${show(s)} is not an email address`));
const emailDomain = checked(z.string(), (s) => {
  const bare = s.toLowerCase().replace(/^\*?\./, '');
  return isHostname(bare) && bare.includes('.') ? undefined : `${show(s)} is not an email domain (write acme.com, or *.acme.com for its subdomains)`;
});
const duration = checked(z.string(), (s) => (tryParseDuration(s) === undefined ? `${show(s)} is not a duration (e.g. 8h, 30m, 1h30m)` : undefined));
const scopes = z.array(checked(z.string(), (s) => (/^[\x21-\x7e]+$/.test(s) ? undefined : `${show(s)} is not a scope`)));

const ipRules = z
  .strictObject({ allow: z.array(cidr).optional(), deny: z.array(cidr).optional() })
  .superRefine((ip, ctx) => {
    if (!ip.allow?.length && !ip.deny?.length) ctx.addIssue({ code: 'custom', message: 'needs an allow or a deny list' });
  });

const headerRules = z
  .strictObject({
    add: z
      .record(z.string(), checked(z.string(), headerValueProblem))
      .optional(),
    remove: z.array(z.string()).optional(),
  })
  .superRefine((headers, ctx) => {
    const names = new Set<string>();
    const checkName = (name: string, path: PropertyKey[]) => {
      if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path, message: `${show(name)} is not a header name` });
      else if (FORBIDDEN_HEADERS.has(name.toLowerCase())) ctx.addIssue({ code: 'custom', path, message: `the ${name} header cannot be changed` });
      names.add(name.toLowerCase());
    };
    for (const name of Object.keys(headers.add ?? {})) checkName(name, ['add', name]);
    (headers.remove ?? []).forEach((name, i) => checkName(name, ['remove', i]));
    // Added headers are also removed first (anti-spoofing), and ngrok allows 10 per action.
    if (names.size > 10) ctx.addIssue({ code: 'custom', message: 'at most 10 different header names can be added or removed' });
  });

const allowLists = {
  allow_emails: z.array(email).optional(),
  allow_domains: z.array(emailDomain).optional(),
};

const oidc = z.strictObject({
  issuer_url: checked(z.string(), (s) => urlProblem(s, 'issuer_url')),
  client_id: nonEmptyString,
  client_secret: secretRef.optional(),
  scopes: scopes.optional(),
  ...allowLists,
});

const oauth = z
  .strictObject({
    provider: z.enum(OAUTH_PROVIDERS, { error: (iss) => `${show(iss.input)} is not an OAuth provider (one of ${OAUTH_PROVIDERS.join(', ')})` }),
    client_id: nonEmptyString.optional(),
    client_secret: secretRef.optional(),
    scopes: scopes.optional(),
    ...allowLists,
  })
  .superRefine((o, ctx) => {
    const ownApp = o.client_id !== undefined || o.client_secret !== undefined;
    if ((o.client_id === undefined) !== (o.client_secret === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give both client_id and client_secret (your own OAuth app) or neither (ngrok’s managed app)' });
    } else if (!ownApp && OAUTH_PROVIDERS_WITHOUT_MANAGED_APP.includes(o.provider)) {
      ctx.addIssue({ code: 'custom', message: `${o.provider} has no ngrok-managed app: give client_id and client_secret` });
    }
    if (!ownApp && o.scopes?.length) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'extra scopes need your own OAuth app (client_id and client_secret)' });
    if (!o.allow_emails?.length && !o.allow_domains?.length) {
      ctx.addIssue({ code: 'custom', message: `social sign-in admits any ${o.provider} account: add allow_emails or allow_domains` });
    }
  });

const profile = z
  .strictObject({
    description: z.string().max(200).optional(),
    oidc: oidc.optional(),
    oauth: oauth.optional(),
    ip: ipRules.optional(),
    headers: headerRules.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.oidc === undefined && p.oauth === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs a sign-in method: add oidc or oauth (anonymous public URLs are not allowed)' });
    } else if (p.oidc !== undefined && p.oauth !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'has both oidc and oauth; a profile uses exactly one sign-in method' });
    }
  });

const webhook = z.strictObject({
  provider: checked(z.string(), (id) => {
    if (findWebhookProvider(id)) return undefined;
    const near = suggestWebhookProviders(id);
    return `${show(id)} is not a webhook provider ngrok can verify${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`;
  }),
  ip: ipRules.optional(),
  path: checked(z.string(), (s) => (/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(s) ? undefined : `${show(s)} is not a URL path starting with /`)).optional(),
});

const labelKeyed = <T extends z.ZodType>(value: T, what: string) =>
  z.record(z.string(), value).superRefine((map, ctx) => {
    for (const key of Object.keys(map)) {
      if (!isDnsLabel(key)) ctx.addIssue({ code: 'custom', path: [key], message: `${show(key)} is not a valid ${what} name (lower-case letters, digits and -, at most 63)` });
    }
  });

/** The zod schema of {@link TeamPolicy}. Prefer {@link parseTeamPolicy}, whose errors name field paths. */
export const teamPolicySchema: z.ZodType<TeamPolicy> = z
  .strictObject({
    version: z.number().int('must be a whole number').positive('must be 1 or more').max(Number.MAX_SAFE_INTEGER),
    team: z.strictObject({
      id: checked(z.string(), (s) => (isDnsLabel(s) ? undefined : `${show(s)} is not a team id (lower-case letters, digits and -, at most 63)`)),
      name: checked(z.string(), (s) => (s.trim() !== '' && s.length <= 100 && !/[\x00-\x1f\x7f]/.test(s) ? undefined : 'must be 1–100 printable characters')),
    }),
    ingress: z.strictObject({
      server_addr: checked(z.string(), serverAddrProblem),
      root_cas: checked(z.string(), (s) =>
        s === 'trusted' || s === 'host' || (s.includes('-----BEGIN CERTIFICATE-----') && s.includes('-----END CERTIFICATE-----'))
          ? undefined
          : 'must be "trusted", "host" or PEM certificate text',
      ),
    }),
    domain: checked(z.string(), (s) => (isHostname(s) ? undefined : `${show(s)} is not a lower-case domain name`)),
    limits: z
      .strictObject({ max_ttl: duration, default_ttl: duration })
      .superRefine((l, ctx) => {
        const max = tryParseDuration(l.max_ttl);
        const def = tryParseDuration(l.default_ttl);
        if (max !== undefined && def !== undefined && def > max) ctx.addIssue({ code: 'custom', path: ['default_ttl'], message: `${l.default_ttl} is longer than max_ttl ${l.max_ttl}` });
      }),
    policy_url: checked(z.string(), (s) => urlProblem(s, 'policy_url')).optional(),
    profiles: labelKeyed(profile, 'profile').superRefine((map, ctx) => {
      if (Object.keys(map).length === 0) ctx.addIssue({ code: 'custom', message: 'needs at least one profile' });
    }),
    webhooks: labelKeyed(webhook, 'webhook').optional(),
  });

// ---------------------------------------------------------------------------------------------
// Parsing and error text

/** Outcome of {@link validateTeamPolicy}. */
export type PolicyValidation = { ok: true; policy: TeamPolicy } | { ok: false; problems: string[] };

/** Check a policy, returning every problem as `path: message` (e.g. `profiles.sso.ip.allow[1]: "10.0.0.0/33" is not a CIDR`). */
export function validateTeamPolicy(input: unknown): PolicyValidation {
  const result = teamPolicySchema.safeParse(input);
  if (result.success) return { ok: true, policy: result.data };
  return { ok: false, problems: formatIssues(result.error.issues, input) };
}

/**
 * Parse a team policy or throw a usage error (exit 2, code `policy_invalid`) listing each problem
 * with its field path. `source` (a file name, "the signed policy") goes into the headline.
 */
export function parseTeamPolicy(input: unknown, source = 'The team policy'): TeamPolicy {
  const result = validateTeamPolicy(input);
  if (result.ok) return result.policy;
  throw policyInvalid(source, result.problems);
}

/** The error {@link parseTeamPolicy} throws, exported so callers can re-code it. */
export function policyInvalid(source: string, problems: string[], code = 'policy_invalid'): UserError {
  const shown = problems.slice(0, 20);
  const more = problems.length > shown.length ? `\n  …and ${problems.length - shown.length} more` : '';
  const err = usageError(code, `${source} is not valid:\n  ${shown.join('\n  ')}${more}`, [
    'Fix the fields named above; templates/policy.example.yaml and templates/policy.catalogue.yaml show every field.',
  ]);
  return err;
}

/** Render a field path: `profiles.sso.ip.allow[1]`, `profiles["Bad Name"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(policy)' : out;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  const lines = issues.map((issue) => {
    const path = formatPath(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(show).join(', ')}`;
    }
    if (issue.code !== 'custom' && valueAt(input, issue.path) === undefined) return `${path}: is required`;
    if (issue.code === 'invalid_type') return `${path}: must be ${article(issue.expected)}`;
    return `${path}: ${issue.message}`;
  });
  return [...new Set(lines)];
}

function article(expected: string): string {
  if (expected === 'int') return 'a whole number';
  return expected === 'object' || expected === 'array' ? `an ${expected}` : `a ${expected}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
