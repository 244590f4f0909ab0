/* eslint-disable @typescript-eslint/no-explicit-any -- tests mutate policies freely to build invalid ones */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { parseTeamPolicy, validateTeamPolicy, type TeamPolicy } from '../../../src/team/policy-schema.js';
import { clone, samplePolicy } from './fixtures.js';

function problems(mutate: (p: Record<string, any>) => void): string[] {
  const policy = clone(samplePolicy()) as unknown as Record<string, any>;
  mutate(policy);
  const result = validateTeamPolicy(policy);
  return result.ok ? [] : result.problems;
}

describe('team policy schema', () => {
  it('accepts the sample policy unchanged (parse is the identity)', () => {
    const result = validateTeamPolicy(samplePolicy());
    expect(result).toEqual({ ok: true, policy: samplePolicy() });
  });

  it('names the path of a bad CIDR', () => {
    expect(problems((p) => (p.profiles.sso.ip.allow = ['10.0.0.0/8', '10.0.0.0/33']))).toEqual(['profiles.sso.ip.allow[1]: "10.0.0.0/33" is not a CIDR']);
    expect(problems((p) => (p.profiles.sso.ip.deny = ['2001:db8::/129']))).toEqual(['profiles.sso.ip.deny[0]: "2001:db8::/129" is not a CIDR']);
    expect(problems((p) => (p.webhooks.github.ip.allow = ['1.2.3.4']))).toEqual(['webhooks.github.ip.allow[0]: "1.2.3.4" is not a CIDR (write 1.2.3.4/32 for one address)']);
    expect(problems((p) => (p.profiles.sso.ip.allow = ['fe80::1%eth0/64', '300.1.1.1/8', 'x/1']))).toHaveLength(3);
    expect(problems((p) => (p.profiles.sso.ip = {}))).toEqual(['profiles.sso.ip: needs an allow or a deny list']);
  });

  it('requires exactly one sign-in method per profile', () => {
    expect(problems((p) => (p.profiles.open = { description: 'public' }))).toEqual([
      'profiles.open: needs a sign-in method: add oidc or oauth (anonymous public URLs are not allowed)',
    ]);
    expect(problems((p) => (p.profiles.sso.oauth = { provider: 'google', allow_domains: ['acme.com'] }))).toEqual([
      'profiles.sso: has both oidc and oauth; a profile uses exactly one sign-in method',
    ]);
  });

  it('checks OAuth rules', () => {
    expect(problems((p) => (p.profiles.contractors.oauth.provider = 'myspace'))).toEqual([
      'profiles.contractors.oauth.provider: "myspace" is not an OAuth provider (one of amazon, facebook, github, gitlab, google, linkedin, microsoft, twitch)',
    ]);
    expect(problems((p) => (p.profiles.contractors.oauth = { provider: 'github' }))).toEqual([
      'profiles.contractors.oauth: social sign-in admits any github account: add allow_emails or allow_domains',
    ]);
    expect(problems((p) => (p.profiles.contractors.oauth.client_id = 'abc'))).toEqual([
      'profiles.contractors.oauth: give both client_id and client_secret (your own OAuth app) or neither (ngrok’s managed app)',
    ]);
    expect(problems((p) => (p.profiles.contractors.oauth.provider = 'facebook'))).toEqual([
      'profiles.contractors.oauth: facebook has no ngrok-managed app: give client_id and client_secret',
    ]);
    expect(problems((p) => (p.profiles.contractors.oauth.scopes = ['read:org']))).toEqual([
      'profiles.contractors.oauth.scopes: extra scopes need your own OAuth app (client_id and client_secret)',
    ]);
  });

  it('checks emails, domains, names, URLs, durations and unknown fields', () => {
    expect(problems((p) => (p.profiles.contractors.oauth.allow_emails = ['not-an-email', 'a@b@c.com']))).toEqual([
      'profiles.contractors.oauth.allow_emails[0]: "not-an-email" is not an email address',
      'profiles.contractors.oauth.allow_emails[1]: "a@b@c.com" is not an email address',
    ]);
    expect(problems((p) => (p.profiles.sso.oidc.allow_domains = ['@acme.com']))).toEqual([
      'profiles.sso.oidc.allow_domains[0]: "@acme.com" is not an email domain (write acme.com, or *.acme.com for its subdomains)',
    ]);
    expect(problems((p) => (p.profiles.sso.oidc.allow_domains = ['*.acme.com', '.acme.io', 'ACME.org']))).toEqual([]);
    expect(problems((p) => (p.profiles['Bad Name'] = p.profiles.sso))).toEqual([
      'profiles["Bad Name"]: "Bad Name" is not a valid profile name (lower-case letters, digits and -, at most 63)',
    ]);
    expect(problems((p) => (p.profiles.sso.oidc.issuer_url = 'http://acme.okta.com'))).toEqual(['profiles.sso.oidc.issuer_url: "http://acme.okta.com" must be an https:// URL']);
    expect(problems((p) => (p.profiles.sso.oidc.issuer_url = 'http://127.0.0.1:4443/idp'))).toEqual([]);
    expect(problems((p) => (p.limits = { max_ttl: '1h', default_ttl: 'forever' }))).toEqual(['limits.default_ttl: "forever" is not a duration (e.g. 8h, 30m, 1h30m)']);
    expect(problems((p) => (p.limits = { max_ttl: '1h', default_ttl: '1h30m' }))).toEqual(['limits.default_ttl: 1h30m is longer than max_ttl 1h']);
    expect(problems((p) => (p.profiles.sso.oidc.allow_domain = ['x.com']))).toEqual(['profiles.sso.oidc: unknown field "allow_domain"']);
    expect(problems((p) => delete p.ingress.server_addr)).toEqual(['ingress.server_addr: is required']);
    expect(problems((p) => (p.version = '7'))).toEqual(['version: must be a number']);
    expect(problems((p) => (p.version = 1.5))).toEqual(['version: must be a whole number']);
    expect(problems((p) => (p.team.id = 'Acme Corp'))).toHaveLength(1);
    expect(problems((p) => (p.profiles.sso.oidc.client_secret = { secret: 'Okta Key' }))).toEqual([
      'profiles.sso.oidc.client_secret.secret: "Okta Key" is not a secret name (lower-case letters, digits, - and _)',
    ]);
  });

  it('checks ingress', () => {
    for (const good of ['connect.acme.com:443', '127.0.0.1:4443', '[::1]:4443', 'localhost:1']) {
      expect(problems((p) => (p.ingress.server_addr = good))).toEqual([]);
    }
    for (const bad of ['connect.acme.com', 'connect.acme.com:0', 'connect.acme.com:70000', '::1:443', 'https://x.com:443']) {
      expect(problems((p) => (p.ingress.server_addr = bad))).toEqual([`ingress.server_addr: "${bad}" is not host:port`]);
    }
    expect(problems((p) => (p.ingress.root_cas = 'host'))).toEqual([]);
    expect(problems((p) => (p.ingress.root_cas = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'))).toEqual([]);
    expect(problems((p) => (p.ingress.root_cas = 'system'))).toEqual(['ingress.root_cas: must be "trusted", "host" or PEM certificate text']);
  });

  it('checks webhooks and headers', () => {
    expect(problems((p) => (p.webhooks.github.provider = 'githib'))).toEqual([
      'webhooks.github.provider: "githib" is not a webhook provider ngrok can verify (did you mean github, gitlab?)',
    ]);
    expect(problems((p) => (p.webhooks.okta = { provider: 'okta' }))[0]).toMatch(/^webhooks\.okta\.provider: "okta" is not a webhook provider/);
    expect(problems((p) => (p.webhooks.github.path = 'hooks'))).toEqual(['webhooks.github.path: "hooks" is not a URL path starting with /']);
    expect(problems((p) => (p.profiles.sso.headers.add = { 'X-Bad': '${conn.client_ip}' }))).toEqual([
      'profiles.sso.headers.add.X-Bad: may only use the placeholders ${user.email} and ${user.name}',
    ]);
    expect(problems((p) => (p.profiles.sso.headers.add = { Host: 'x' }))).toEqual(['profiles.sso.headers.add.Host: the Host header cannot be changed']);
    expect(problems((p) => (p.profiles.sso.headers.remove = ['bad header']))).toEqual(['profiles.sso.headers.remove[0]: "bad header" is not a header name']);
    expect(problems((p) => (p.profiles.sso.headers.add = { 'X-A': 'line\r\nInjected: 1' }))).toEqual(['profiles.sso.headers.add.X-A: contains a control character']);
  });

  it('parseTeamPolicy throws a usage error listing every problem', () => {
    const bad = { ...samplePolicy(), version: -1, domain: 'Not A Domain' } as TeamPolicy;
    try {
      parseTeamPolicy(bad, 'policy.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      const e = err as UserError;
      expect(e.exitCode).toBe(2);
      expect(e.code).toBe('policy_invalid');
      expect(e.message).toBe('policy.yaml is not valid:\n  version: must be 1 or more\n  domain: "Not A Domain" is not a lower-case domain name');
    }
  });
});

describe('missing fields', () => {
  it('say "is required" whatever their type', () => {
    const p = clone(samplePolicy()) as unknown as Record<string, any>;
    delete p.profiles.contractors.oauth.provider;
    delete p.webhooks.stripe.provider;
    delete p.team;
    const result = validateTeamPolicy(p);
    expect(result.ok ? [] : result.problems).toEqual([
      'team: is required',
      'profiles.contractors.oauth.provider: is required',
      'webhooks.stripe.provider: is required',
    ]);
  });

  it('YAML needs "*.acme.com" quoted; quoted it validates', async () => {
    const { parse } = await import('yaml');
    expect(() => parse('allow_domains: [*.acme.com]')).toThrow();
    expect(parse('allow_domains: ["*.acme.com"]')).toEqual({ allow_domains: ['*.acme.com'] });
  });
});
