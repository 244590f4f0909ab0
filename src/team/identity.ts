/**
 * Identity, names and ACLs (DESIGN.md "Identity, names, ACLs"): a developer is their invite's
 * email; their URL label is the email's local part made DNS-safe; their endpoints live under
 * `<name>.<label>.<domain>`, and their credential may bind only `*.<label>.<domain>`.
 */
import { usageError } from '../errors.js';

/** The endpoint name used when the developer does not pick one. */
export const DEFAULT_ENDPOINT_NAME = 'app';

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** True for a lower-case DNS label: 1–63 of [a-z0-9-], not starting or ending with `-`. */
export function isDnsLabel(text: string): boolean {
  return DNS_LABEL.test(text);
}

/** True for a lower-case host name made of DNS labels, at most 253 characters. */
export function isHostname(text: string): boolean {
  return text.length > 0 && text.length <= 253 && text.split('.').every(isDnsLabel);
}

/**
 * True for an email address devtunnel can work with: exactly one `@`, a local part of 1–64
 * printable ASCII characters without spaces, and a host-name domain (any case). Deliberately
 * narrower than RFC 5322 (no quoted local parts), wide enough for real addresses such as
 * `o'brien+test@acme.com`.
 */
export function isEmailAddress(text: string): boolean {
  const at = text.indexOf('@');
  if (at <= 0 || at !== text.lastIndexOf('@')) return false;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1).toLowerCase();
  return local.length <= 64 && /^[\x21-\x7e]+$/.test(local) && isHostname(domain) && domain.includes('.');
}

/**
 * The URL label for a developer: the email's local part, lower-cased, with every run of
 * characters other than [a-z0-9] (dots, `+`, `_`, anything non-ASCII) turned into one `-`,
 * trimmed of `-` at both ends and cut to 63 characters. Different emails can share a label
 * (`bob.smith` and `bob_smith`); the admin sees the label when minting the invite.
 * Throws a usage error when nothing usable is left.
 */
export function userLabelFromEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = (at >= 0 ? email.slice(0, at) : email).toLowerCase();
  const label = local
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (label === '' || !isDnsLabel(label)) {
    throw usageError('email_label_invalid', `Cannot make a URL name from the email "${email}".`, [
      'Ask your team admin for an invite for an email whose part before @ contains letters or digits.',
    ]);
  }
  return label;
}

/**
 * The public host of an endpoint: `<name>.<label>.<domain>`. Throws a usage error when `name`
 * is not a DNS label or the host would be too long.
 */
export function endpointHost(name: string, userLabel: string, domain: string): string {
  if (!isDnsLabel(name)) {
    throw usageError('endpoint_name_invalid', `"${name}" cannot be used as an endpoint name.`, [
      'Use lower-case letters, digits and dashes (at most 63), e.g. --name app.',
    ]);
  }
  const host = `${name}.${userLabel}.${domain}`;
  if (!isHostname(host)) {
    throw usageError('endpoint_name_invalid', `The host name ${host} is not valid.`, ['Pick a shorter --name.']);
  }
  return host;
}

/** The ngrok credential ACL that lets a developer bind only their own host names. */
export function aclRuleForUser(userLabel: string, domain: string): string {
  return `bind:*.${userLabel}.${domain}`;
}
