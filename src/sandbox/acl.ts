/**
 * Credential ACL rules, as ngrok writes them: `bind:<host>` or `bind:*.<suffix>`.
 * A wildcard matches one or more labels under the suffix, never the suffix itself
 * and never a look-alike (`*.alice.x` matches `a.alice.x`, not `alice.x` nor `evilalice.x`).
 */

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((label) => LABEL.test(label));
}

/** Throws with a readable message when a rule is not `bind:<host>` or `bind:*.<suffix>`. */
export function validateAclRule(rule: string): void {
  // ngrok also knows `*` (bind anything) and label rules `bind:<name>=<value>` (labeled
  // listeners, which the sandbox does not serve: such a rule never allows a host).
  if (rule === '*' || /^bind:[a-z][a-z0-9_.-]{0,62}=[a-z0-9_.-]{1,63}$/i.test(rule)) return;
  if (!rule.startsWith('bind:')) {
    throw new Error(`invalid ACL rule "${rule}": only "bind:<host>" and "bind:*.<suffix>" rules are supported`);
  }
  const target = rule.slice('bind:'.length).toLowerCase();
  const host = target.startsWith('*.') ? target.slice(2) : target;
  if (!isHostname(host)) {
    throw new Error(`invalid ACL rule "${rule}": "${target}" is not a hostname or a "*.<suffix>" wildcard`);
  }
}

/** Canonical (lower-case) form of a rule, after validation. */
export function normalizeAclRule(rule: string): string {
  validateAclRule(rule);
  return rule.toLowerCase();
}

/** Does one rule allow binding `host`? */
export function aclRuleAllows(rule: string, host: string): boolean {
  if (rule === '*') return isHostname(host.toLowerCase().replace(/\.$/, ''));
  if (!rule.toLowerCase().startsWith('bind:')) return false;
  const target = rule.slice('bind:'.length).toLowerCase();
  const h = host.toLowerCase().replace(/\.$/, '');
  if (target.startsWith('*.')) {
    const suffix = target.slice(1); // ".alice.x": the leading dot rules out look-alikes
    return h.length > suffix.length && h.endsWith(suffix) && isHostname(h);
  }
  return h === target;
}

/** Does any rule of the ACL allow binding `host`? */
export function aclAllows(acl: readonly string[], host: string): boolean {
  return acl.some((rule) => aclRuleAllows(rule, host));
}
