/**
 * Who a profile's allow lists admit, in JavaScript — the same rules compile.ts writes as CEL
 * (the tests evaluate both and compare):
 * - emails: lower-cased, exact (`bob+x@acme.com` is not `bob@acme.com`);
 * - `acme.com`: addresses ending in `@acme.com` only (no subdomains, no look-alikes);
 * - `*.acme.com` / `.acme.com`: addresses at any subdomain of acme.com, not acme.com itself.
 * Empty lists admit everyone (the identity provider alone decides).
 */
import type { AllowLists } from '../team/policy-schema.js';
import { re2Escape } from './cel-literal.js';

/** An allow_domains entry split into its domain and whether it means "subdomains of". */
export function parseDomainEntry(entry: string): { domain: string; subdomains: boolean } {
  const lower = entry.toLowerCase();
  const bare = lower.replace(/^\*?\./, '');
  return { domain: bare, subdomains: bare !== lower };
}

/** The RE2 (and JS) regular expression for "an address at a subdomain of `domain`". */
export function subdomainRegex(domain: string): string {
  return `^[^@]+@([a-z0-9-]+\\.)+${re2Escape(domain)}$`;
}

/** allow_emails lower-cased, duplicates removed, order kept. */
export function normalizedEmails(emails: readonly string[] | undefined): string[] {
  return [...new Set((emails ?? []).map((e) => e.toLowerCase()))];
}

/** True when the allow lists admit `email`. */
export function emailAllowedBy(lists: AllowLists, email: string): boolean {
  const emails = normalizedEmails(lists.allow_emails);
  const domains = lists.allow_domains ?? [];
  if (emails.length === 0 && domains.length === 0) return true;
  const e = email.toLowerCase();
  if (emails.includes(e)) return true;
  return domains.some((entry) => {
    const d = parseDomainEntry(entry);
    return d.subdomains ? new RegExp(subdomainRegex(d.domain)).test(e) : e.endsWith(`@${d.domain}`);
  });
}
