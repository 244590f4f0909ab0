/**
 * Profile → ngrok Traffic Policy compilation (DESIGN.md; docs/traffic-policy.md §2–4).
 * Pure and deterministic: the same profile and context always give the same document.
 *
 * Rule order in `on_http_request`:
 *   1. `ip-restrictions` — restrict-ips, first, so outsiders never even see the sign-in redirect;
 *   2. `sign-in`         — openid-connect or oauth;
 *   3. `allowed-users`   — deny 403 unless the signed-in email is allowed;
 *   4. `identity-headers`— remove-headers (every header we add, plus the profile's list: add-headers
 *                          appends, so a client-sent copy must be stripped first), then add-headers.
 *
 * Who is allowed (the same rules in CEL and in {@link emailAllowedBy}):
 * - emails are compared lower-cased and exactly: `bob+x@acme.com` is a different address from
 *   `bob@acme.com`, so allow_emails: [bob@acme.com] does not admit it;
 * - `acme.com` in allow_domains admits exactly the addresses ending in `@acme.com` — not
 *   `x@evilacme.com`, not `x@acme.com.evil.example`, and NOT subdomains such as `x@eng.acme.com`;
 * - `*.acme.com` (or `.acme.com`) admits subdomains of acme.com at any depth (`x@eng.acme.com`,
 *   `x@a.b.acme.com`) but not acme.com itself; list both to admit both.
 * With no allow lists (OIDC only) everyone the identity provider signs in is admitted.
 */
import { ExitCode, policyError, usageError, UserError } from '../errors.js';
import { canonicalJson } from '../team/canonical-json.js';
import { isEmailAddress } from '../team/identity.js';
import type { AllowLists, HeaderRules, IpRules, Profile, SecretRef, WebhookProfile } from '../team/policy-schema.js';
import { emailAllowedBy, normalizedEmails, parseDomainEntry, subdomainRegex } from './allow-lists.js';
import { celString, celStringList } from './cel-literal.js';
import { describeAllowLists } from './describe.js';
import type { TrafficPolicy, TrafficPolicyAction, TrafficPolicyRule } from './traffic-policy.js';
import { findWebhookProvider } from './webhook-providers.js';

export type { TrafficPolicy, TrafficPolicyAction, TrafficPolicyRule } from './traffic-policy.js';
export { emailAllowedBy } from './allow-lists.js';
export { describeProfile, describeWebhook } from './describe.js';

/** What {@link compileProfile} needs besides the profile. */
export interface CompileContext {
  /** The developer sharing the tunnel. */
  user: { email: string; label: string };
  team: { id: string; name: string };
  /** Resolved team secrets by name, for `{ secret: NAME }` references. */
  secrets: Record<string, string>;
  /** Command-line narrowing; may only make the profile stricter. */
  narrowing?: { allowEmails?: string[] };
  /** The profile's name, for error messages. */
  profileName?: string;
}

/** Default OIDC scopes: `email` is needed for the allowed-users rule. */
export const DEFAULT_OIDC_SCOPES: readonly string[] = ['openid', 'profile', 'email'];

const DENY_403: TrafficPolicyAction = { type: 'deny', config: { status_code: 403 } };
const REDACTED = '[redacted]';
const SECRET_KEYS = new Set(['client_secret', 'secret']);

/** Compile an approved profile into a Traffic Policy document for one endpoint. */
export function compileProfile(profile: Profile, ctx: CompileContext): TrafficPolicy {
  const profileName = ctx.profileName ?? 'profile';
  const rules: TrafficPolicyRule[] = [];
  if (profile.ip) rules.push(ipRule(profile.ip));

  let namespace: 'oidc' | 'oauth';
  let lists: AllowLists;
  if (profile.oidc) {
    const o = profile.oidc;
    namespace = 'oidc';
    lists = o;
    const config: Record<string, unknown> = { issuer_url: o.issuer_url, client_id: o.client_id };
    if (o.client_secret) config['client_secret'] = resolveSecret(o.client_secret, ctx.secrets, profileName);
    config['scopes'] = [...(o.scopes?.length ? o.scopes : DEFAULT_OIDC_SCOPES)];
    rules.push({ name: 'sign-in', actions: [{ type: 'openid-connect', config }] });
  } else if (profile.oauth) {
    const o = profile.oauth;
    namespace = 'oauth';
    lists = o;
    const config: Record<string, unknown> = { provider: o.provider };
    if (o.client_id !== undefined) config['client_id'] = o.client_id;
    if (o.client_secret) config['client_secret'] = resolveSecret(o.client_secret, ctx.secrets, profileName);
    if (o.scopes?.length) config['scopes'] = [...o.scopes];
    rules.push({ name: 'sign-in', actions: [{ type: 'oauth', config }] });
  } else {
    // The schema guarantees this never happens; refuse rather than emit a public URL.
    throw policyError('profile_without_sign_in', `Profile ${profileName} has no sign-in method (oidc or oauth).`);
  }

  const effective = narrowAllowLists(lists, ctx.narrowing?.allowEmails, profileName);
  const gate = allowedUsersExpression(`actions.ngrok.${namespace}.identity.email`, effective);
  if (gate !== undefined) rules.push({ name: 'allowed-users', expressions: [gate], actions: [DENY_403] });

  if (profile.headers) {
    const headerRule = headersRule(profile.headers, namespace);
    if (headerRule) rules.push(headerRule);
  }
  return { on_http_request: rules };
}

/**
 * Compile a webhook profile: optional IP rules, optional path scope (other paths get 404), then
 * ngrok's signature verification with the developer's secret (none for Amazon SNS).
 */
export function compileWebhook(webhook: WebhookProfile, options: { secret?: string | undefined }): TrafficPolicy {
  const provider = findWebhookProvider(webhook.provider);
  if (!provider) {
    throw policyError('webhook_provider_unknown', `"${webhook.provider}" is not a webhook provider ngrok can verify.`);
  }
  const rules: TrafficPolicyRule[] = [];
  if (webhook.ip) rules.push(ipRule(webhook.ip));
  const path = webhook.path?.replace(/\/+$/, '');
  if (path) {
    rules.push({
      name: 'webhook-path',
      expressions: [`!(req.url.path == ${celString(path)} || req.url.path.startsWith(${celString(`${path}/`)}))`],
      actions: [{ type: 'deny', config: { status_code: 404 } }],
    });
  }
  const config: Record<string, unknown> = { provider: provider.id };
  if (provider.needsSecret) {
    if (!options.secret) {
      throw usageError('webhook_secret_missing', `A ${provider.name} webhook needs its signing secret.`, [
        `Run the webhook command again and enter the signing secret from ${provider.name}'s webhook settings.`,
      ]);
    }
    config['secret'] = inlineable(options.secret, `the ${provider.name} webhook secret`);
  }
  rules.push({ name: 'verify-signature', actions: [{ type: 'verify-webhook', config }] });
  return { on_http_request: rules };
}

/** The policy as the string the SDK takes: canonical JSON (sorted keys, no whitespace), so equal policies are equal strings. */
export function serializePolicy(doc: TrafficPolicy): string {
  return canonicalJson(doc);
}

/** A deep copy with every `client_secret` / `secret` value replaced by `"[redacted]"`, for --json, --verbose and logs. */
export function redactPolicy(doc: TrafficPolicy): TrafficPolicy {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) out[key] = SECRET_KEYS.has(key) ? REDACTED : walk(inner);
      return out;
    }
    return value;
  };
  return walk(doc) as TrafficPolicy;
}

// ---------------------------------------------------------------------------------------------

function ipRule(ip: IpRules): TrafficPolicyRule {
  const deny = unique(ip.deny ?? []);
  // restrict-ips admits only addresses in an allow list: deny-only intent needs "allow all".
  const allow = ip.allow?.length ? unique(ip.allow) : ['0.0.0.0/0', '::/0'];
  const config: Record<string, unknown> = { enforce: true, allow };
  if (deny.length) config['deny'] = deny;
  return { name: 'ip-restrictions', actions: [{ type: 'restrict-ips', config }] };
}

function headersRule(headers: HeaderRules, namespace: 'oidc' | 'oauth'): TrafficPolicyRule | undefined {
  const add: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers.add ?? {})) {
    add[name.toLowerCase()] = value
      .replace(/\$\{user\.email\}/g, `\${actions.ngrok.${namespace}.identity.email}`)
      .replace(/\$\{user\.name\}/g, `\${actions.ngrok.${namespace}.identity.name}`);
  }
  const remove = unique([...(headers.remove ?? []), ...Object.keys(add)].map((h) => h.toLowerCase()));
  const actions: TrafficPolicyAction[] = [];
  if (remove.length) actions.push({ type: 'remove-headers', config: { headers: remove } });
  if (Object.keys(add).length) actions.push({ type: 'add-headers', config: { headers: add } });
  return actions.length ? { name: 'identity-headers', actions } : undefined;
}

interface EffectiveAllow {
  emails: string[];
  domains: string[];
}

function narrowAllowLists(lists: AllowLists, narrowing: string[] | undefined, profileName: string): EffectiveAllow {
  if (!narrowing?.length) return { emails: normalizedEmails(lists.allow_emails), domains: lists.allow_domains ?? [] };
  const emails: string[] = [];
  for (const raw of narrowing) {
    const email = raw.trim();
    if (!isEmailAddress(email)) {
      throw usageError('allow_email_invalid', `--allow-email "${raw}" is not an email address.`, ['Pass one address per --allow-email, e.g. --allow-email alice@acme.com.']);
    }
    if (!emailAllowedBy(lists, email)) {
      throw policyError('allow_email_widens', `--allow-email ${email} would widen profile ${profileName}, which does not admit that address.`, [
        `Allowed by ${profileName}: ${describeAllowLists(lists, 'the identity provider').map((l) => l.replace(/^Allowed: /, '')).join('; ')}.`,
        'Flags can only narrow a profile; ask your team admin to change the team policy.',
      ]);
    }
    emails.push(email.toLowerCase());
  }
  return { emails: unique(emails), domains: [] };
}

function allowedUsersExpression(emailVar: string, allow: EffectiveAllow): string | undefined {
  const e = `${emailVar}.lowerAscii()`;
  const admits: string[] = [];
  if (allow.emails.length) admits.push(`${e} in ${celStringList(allow.emails)}`);
  for (const entry of unique(allow.domains.map((d) => d.toLowerCase()))) {
    const d = parseDomainEntry(entry);
    admits.push(d.subdomains ? `${e}.matches(${celString(subdomainRegex(d.domain))})` : `${e}.endsWith(${celString(`@${d.domain}`)})`);
  }
  return admits.length ? `!(${admits.join(' || ')})` : undefined;
}

function resolveSecret(ref: SecretRef, secrets: Record<string, string>, profileName: string): string {
  const value = Object.hasOwn(secrets, ref.secret) ? secrets[ref.secret] : undefined;
  if (value === undefined || value === '') {
    throw new UserError(`Profile ${profileName} needs the team secret "${ref.secret}", which is not in your keychain.`, {
      exitCode: ExitCode.notLoggedIn,
      code: 'team_secret_missing',
      suggestions: ['Run `devtunnel login` again with a current invite code.', 'If that does not help, ask your team admin to include the secret in your invite.'],
    });
  }
  return inlineable(value, `the team secret "${ref.secret}"`);
}

/** Secrets go into CEL-template fields; a literal `${` would be evaluated, so refuse it (without echoing the value). */
function inlineable(value: string, what: string): string {
  if (value.includes('${')) {
    throw usageError('secret_unusable', `${what[0]?.toUpperCase()}${what.slice(1)} contains "\${", which the edge would treat as an expression.`, [
      'Generate a new secret without that character sequence.',
    ]);
  }
  return value;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
