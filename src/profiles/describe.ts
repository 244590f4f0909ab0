/**
 * Profiles in plain English, for `devtunnel profiles`, `profiles show` and dry runs:
 * one line per thing the edge enforces.
 */
import type { AllowLists, IpRules, Profile, WebhookProfile } from '../team/policy-schema.js';
import { normalizedEmails, parseDomainEntry } from './allow-lists.js';
import { findWebhookProvider } from './webhook-providers.js';

const OAUTH_NAMES: Record<string, string> = {
  amazon: 'Amazon', facebook: 'Facebook', github: 'GitHub', gitlab: 'GitLab', google: 'Google',
  linkedin: 'LinkedIn', microsoft: 'Microsoft', twitch: 'Twitch',
};

/** Lines such as "Sign-in: OpenID Connect via https://…", "Allowed: anyone @example.com", "IP allow: …". */
export function describeProfile(profile: Profile): string[] {
  const lines: string[] = [];
  if (profile.description) lines.push(profile.description);
  let lists: AllowLists = {};
  if (profile.oidc) {
    lists = profile.oidc;
    lines.push(`Sign-in: OpenID Connect via ${profile.oidc.issuer_url}`);
  } else if (profile.oauth) {
    lists = profile.oauth;
    const app = profile.oauth.client_id ? 'team OAuth app' : 'ngrok-managed app';
    lines.push(`Sign-in: ${OAUTH_NAMES[profile.oauth.provider] ?? profile.oauth.provider} (${app})`);
  }
  lines.push(...describeAllowLists(lists, profile.oidc ? 'the identity provider' : 'the provider'));
  if (profile.ip) lines.push(...describeIp(profile.ip));
  for (const [name, value] of Object.entries(profile.headers?.add ?? {})) {
    lines.push(`Header added: ${name}: ${value.replace(/\$\{user\.email\}/g, '<visitor email>').replace(/\$\{user\.name\}/g, '<visitor name>')}`);
  }
  if (profile.headers?.remove?.length) lines.push(`Headers removed: ${profile.headers.remove.join(', ')}`);
  return lines;
}

/** Lines describing a webhook profile. */
export function describeWebhook(webhook: WebhookProfile): string[] {
  const provider = findWebhookProvider(webhook.provider);
  const lines = [`Verified: ${provider?.name ?? webhook.provider} signatures are checked at the edge; unsigned or forged requests get 403`];
  if (webhook.path) lines.push(`Path: only ${webhook.path} and below (other paths get 404)`);
  if (webhook.ip) lines.push(...describeIp(webhook.ip));
  return lines;
}

/** "Allowed: …" lines for allow lists; `idp` names who decides when the lists are empty. */
export function describeAllowLists(lists: AllowLists, idp: string): string[] {
  const lines: string[] = [];
  for (const entry of lists.allow_domains ?? []) {
    const d = parseDomainEntry(entry);
    lines.push(d.subdomains ? `Allowed: anyone @<any subdomain>.${d.domain}` : `Allowed: anyone @${d.domain}`);
  }
  const emails = normalizedEmails(lists.allow_emails);
  if (emails.length) lines.push(`Allowed: ${emails.join(', ')}`);
  if (lines.length === 0) lines.push(`Allowed: anyone who can sign in at ${idp}`);
  return lines;
}

function describeIp(ip: IpRules): string[] {
  const lines: string[] = [];
  if (ip.allow?.length) lines.push(`IP allow: ${ip.allow.join(', ')}`);
  if (ip.deny?.length) lines.push(`IP deny: ${ip.deny.join(', ')}`);
  return lines;
}
