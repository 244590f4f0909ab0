// Policy YAML checks with line numbers: schema problems, admin rules (team, version, TTL ceiling), YAML syntax.
import { describe, expect, it } from 'vitest';
import { checkPolicyText, formatProblems } from '../../../src/admin/policy-file.js';
import { readTemplate } from '../../../src/team/templates.js';
import { parseDocument } from 'yaml';

const minimal = readTemplate('policy.minimal.yaml');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('checkPolicyText', () => {
  it('accepts the minimal template', () => {
    const result = checkPolicyText(minimal);
    expect(result.ok).toBe(true);
  });

  it('names each problem with its line and column', () => {
    const text = `version: 1
team: { id: acme, name: Acme }
ingress: { server_addr: connect.acme.com:443, root_cas: trusted }
domain: tunnels.acme.com
limits: { max_ttl: 8h, default_ttl: 2h }
profiles:
  sso:
    oauth:
      provider: gitbub
      allow_emails: [a@acme.com]
  office:
    description: no sign-in
    ip:
      allow: [10.0.0.0/33]
webhooks:
  gh: { provider: githib }
`;
    const result = checkPolicyText(text);
    expect(result.ok).toBe(false);
    const lines = formatProblems('p.yaml', result.problems);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^p\\.yaml:${lineOf(text, 'gitbub')}:\\d+ profiles\\.sso\\.oauth\\.provider: "gitbub" is not an OAuth provider`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^p\\.yaml:${lineOf(text, '10.0.0.0/33')}:\\d+ profiles\\.office\\.ip\\.allow\\[0\\]: "10.0.0.0/33" is not a CIDR`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^p\\.yaml:${lineOf(text, 'description: no sign-in')}:\\d+ profiles\\.office: needs a sign-in method`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^p\\.yaml:${lineOf(text, 'githib')}:\\d+ webhooks\\.gh\\.provider: "githib" is not a webhook provider`)));
    // Sorted by line.
    const numbers = result.problems.map((p) => p.line ?? 0);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  });

  it('points a missing field at its parent and an unknown field at the key itself', () => {
    const doc = parseDocument(minimal);
    doc.deleteIn(['limits', 'default_ttl']);
    doc.setIn(['profiles', 'google', 'oauth', 'allow_domain'], 'x.example');
    const text = doc.toString();
    const result = checkPolicyText(text);
    expect(result.ok).toBe(false);
    const byPath = Object.fromEntries(result.problems.map((p) => [p.path, p]));
    expect(byPath['limits.default_ttl']).toMatchObject({ message: 'is required', line: lineOf(text, 'limits:') });
    expect(byPath['profiles.google.oauth']).toMatchObject({ message: 'unknown field "allow_domain"', line: lineOf(text, 'allow_domain:') });
  });

  it('applies the admin rules: team, version increase, TTL ceiling', () => {
    const first = checkPolicyText(minimal);
    if (!first.ok) throw new Error('template invalid');
    const previous = first.policy;
    const changed = minimal.replace('max_ttl: 8h', 'max_ttl: 48h');
    const result = checkPolicyText(changed, { teamId: 'other', previous });
    expect(result.ok).toBe(false);
    const messages = result.problems.map((p) => `${p.path}: ${p.message}`);
    expect(messages).toContainEqual(expect.stringContaining('limits.max_ttl: 48h is longer than 24h'));
    expect(messages).toContainEqual(expect.stringContaining('team.id: is "acme", but you administer team "other"'));
    expect(messages).toContainEqual(expect.stringContaining('version: must be higher than 1'));
    // The same content under the same version is fine (re-signing is idempotent).
    expect(checkPolicyText(minimal, { teamId: 'acme', previous }).ok).toBe(true);
  });

  it('reports YAML syntax errors with their line', () => {
    const result = checkPolicyText('version: 1\nteam: { id: acme\nprofiles: [\n');
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({ path: '(yaml)' });
    expect(result.problems[0]!.line).toBeGreaterThan(0);
  });
});
