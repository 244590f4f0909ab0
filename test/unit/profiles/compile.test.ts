import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { compileProfile, compileWebhook, describeProfile, describeWebhook, redactPolicy, serializePolicy, type CompileContext } from '../../../src/profiles/compile.js';
import type { Profile } from '../../../src/team/policy-schema.js';

const ctx = (over: Partial<CompileContext> = {}): CompileContext => ({
  user: { email: 'alice@acme.com', label: 'alice' },
  team: { id: 'acme', name: 'Acme Corp' },
  secrets: { okta: 'okta-client-secret-value', gh: 'gh-app-secret' },
  profileName: 'sso',
  ...over,
});

const oidcProfile: Profile = {
  oidc: { issuer_url: 'https://acme.okta.com', client_id: '0oa123', client_secret: { secret: 'okta' }, allow_domains: ['acme.com', '*.acme.io'], allow_emails: ['Partner@Other.example'] },
};

describe('compileProfile', () => {
  it('oidc with allow lists', () => {
    expect(compileProfile(oidcProfile, ctx())).toMatchInlineSnapshot(`
      {
        "on_http_request": [
          {
            "actions": [
              {
                "config": {
                  "client_id": "0oa123",
                  "client_secret": "okta-client-secret-value",
                  "issuer_url": "https://acme.okta.com",
                  "scopes": [
                    "openid",
                    "profile",
                    "email",
                  ],
                },
                "type": "openid-connect",
              },
            ],
            "name": "sign-in",
          },
          {
            "actions": [
              {
                "config": {
                  "status_code": 403,
                },
                "type": "deny",
              },
            ],
            "expressions": [
              "!(actions.ngrok.oidc.identity.email.lowerAscii() in ['partner@other.example'] || actions.ngrok.oidc.identity.email.lowerAscii().endsWith('@acme.com') || actions.ngrok.oidc.identity.email.lowerAscii().matches('^[^@]+@([a-z0-9-]+\\\\.)+acme\\\\.io$'))",
            ],
            "name": "allowed-users",
          },
        ],
      }
    `);
  });

  it('oidc without allow lists admits whoever the IdP signs in (no deny rule)', () => {
    const doc = compileProfile({ oidc: { issuer_url: 'https://idp.example', client_id: 'c', scopes: ['openid', 'email'] } }, ctx());
    expect(serializePolicy(doc)).toMatchInlineSnapshot(`"{"on_http_request":[{"actions":[{"config":{"client_id":"c","issuer_url":"https://idp.example","scopes":["openid","email"]},"type":"openid-connect"}],"name":"sign-in"}]}"`);
  });

  it('oauth with the managed app', () => {
    const doc = compileProfile({ oauth: { provider: 'github', allow_emails: ['john@contractor.example'], allow_domains: ['acme-services.example'] } }, ctx({ profileName: 'contractors' }));
    expect(doc).toMatchInlineSnapshot(`
      {
        "on_http_request": [
          {
            "actions": [
              {
                "config": {
                  "provider": "github",
                },
                "type": "oauth",
              },
            ],
            "name": "sign-in",
          },
          {
            "actions": [
              {
                "config": {
                  "status_code": 403,
                },
                "type": "deny",
              },
            ],
            "expressions": [
              "!(actions.ngrok.oauth.identity.email.lowerAscii() in ['john@contractor.example'] || actions.ngrok.oauth.identity.email.lowerAscii().endsWith('@acme-services.example'))",
            ],
            "name": "allowed-users",
          },
        ],
      }
    `);
  });

  it('oauth with the team app, IP rules and headers (full rule order)', () => {
    const profile: Profile = {
      oauth: { provider: 'google', client_id: 'cid.apps.example', client_secret: { secret: 'gh' }, scopes: ['extra'], allow_domains: ['acme.com'] },
      ip: { allow: ['203.0.113.0/24', '2001:db8::/32', '203.0.113.0/24'], deny: ['203.0.113.66/32'] },
      headers: { add: { 'X-Devtunnel-User': '${user.email}', 'X-Name': 'Name: ${user.name}' }, remove: ['Cookie-Debug', 'x-devtunnel-user'] },
    };
    expect(compileProfile(profile, ctx())).toMatchInlineSnapshot(`
      {
        "on_http_request": [
          {
            "actions": [
              {
                "config": {
                  "allow": [
                    "203.0.113.0/24",
                    "2001:db8::/32",
                  ],
                  "deny": [
                    "203.0.113.66/32",
                  ],
                  "enforce": true,
                },
                "type": "restrict-ips",
              },
            ],
            "name": "ip-restrictions",
          },
          {
            "actions": [
              {
                "config": {
                  "client_id": "cid.apps.example",
                  "client_secret": "gh-app-secret",
                  "provider": "google",
                  "scopes": [
                    "extra",
                  ],
                },
                "type": "oauth",
              },
            ],
            "name": "sign-in",
          },
          {
            "actions": [
              {
                "config": {
                  "status_code": 403,
                },
                "type": "deny",
              },
            ],
            "expressions": [
              "!(actions.ngrok.oauth.identity.email.lowerAscii().endsWith('@acme.com'))",
            ],
            "name": "allowed-users",
          },
          {
            "actions": [
              {
                "config": {
                  "headers": [
                    "cookie-debug",
                    "x-devtunnel-user",
                    "x-name",
                  ],
                },
                "type": "remove-headers",
              },
              {
                "config": {
                  "headers": {
                    "x-devtunnel-user": "\${actions.ngrok.oauth.identity.email}",
                    "x-name": "Name: \${actions.ngrok.oauth.identity.name}",
                  },
                },
                "type": "add-headers",
              },
            ],
            "name": "identity-headers",
          },
        ],
      }
    `);
  });

  it('deny-only IP rules allow everyone else explicitly', () => {
    const doc = compileProfile({ ...oidcProfile, ip: { deny: ['198.51.100.0/24'] } }, ctx());
    expect(doc.on_http_request?.[0]).toEqual({
      name: 'ip-restrictions',
      actions: [{ type: 'restrict-ips', config: { enforce: true, allow: ['0.0.0.0/0', '::/0'], deny: ['198.51.100.0/24'] } }],
    });
  });

  it('is deterministic', () => {
    expect(serializePolicy(compileProfile(oidcProfile, ctx()))).toBe(serializePolicy(compileProfile(structuredClone(oidcProfile), ctx())));
  });

  it('refuses a missing team secret without naming its value', () => {
    try {
      compileProfile(oidcProfile, ctx({ secrets: {} }));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).code).toBe('team_secret_missing');
      expect((err as UserError).message).toContain('"okta"');
    }
    // inherited object properties are not secrets
    expect(() => compileProfile({ oidc: { ...oidcProfile.oidc!, client_secret: { secret: 'constructor' } } }, ctx({ secrets: {} }))).toThrow(UserError);
  });

  it('refuses a secret the edge would interpolate, without echoing it', () => {
    try {
      compileProfile(oidcProfile, ctx({ secrets: { okta: 'abc${conn.client_ip}def' } }));
      expect.unreachable();
    } catch (err) {
      expect((err as UserError).code).toBe('secret_unusable');
      expect((err as UserError).message).not.toContain('abc');
    }
  });

  it('quotes hostile emails so they stay string literals', () => {
    const doc = compileProfile({ oidc: { issuer_url: 'https://idp.example', client_id: 'c', allow_emails: ["o'brien@acme.com", "x')||true||('@acme.com", 'back\\slash@acme.com'] } }, ctx());
    expect(doc.on_http_request?.[1]?.expressions).toMatchInlineSnapshot(`
      [
        "!(actions.ngrok.oidc.identity.email.lowerAscii() in ['o\\'brien@acme.com', 'x\\')||true||(\\'@acme.com', 'back\\\\slash@acme.com'])",
      ]
    `);
  });
});

describe('narrowing with --allow-email', () => {
  it('narrows to exactly the given emails', () => {
    const doc = compileProfile(oidcProfile, ctx({ narrowing: { allowEmails: ['Bob@ACME.com', 'partner@other.example', 'x@eng.acme.io'] } }));
    expect(doc.on_http_request?.[1]?.expressions).toEqual([
      "!(actions.ngrok.oidc.identity.email.lowerAscii() in ['bob@acme.com', 'partner@other.example', 'x@eng.acme.io'])",
    ]);
  });

  it.each([
    ['another domain', 'eve@evil.example'],
    ['a look-alike domain', 'eve@evilacme.com'],
    ['a suffix attack', 'eve@acme.com.evil.example'],
    ['a subdomain of an exact domain', 'eve@eng.acme.com'],
    ['the bare domain of a wildcard', 'eve@acme.io'],
    ['plus-addressing of an allowed email', 'partner+x@other.example'],
  ])('refuses widening: %s', (_label, email) => {
    try {
      compileProfile(oidcProfile, ctx({ narrowing: { allowEmails: ['ok@acme.com', email] } }));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(4);
      expect((err as UserError).code).toBe('allow_email_widens');
      expect((err as UserError).message).toContain('would widen');
    }
  });

  it('refuses things that are not emails with exit 2', () => {
    try {
      compileProfile(oidcProfile, ctx({ narrowing: { allowEmails: ["a'@x"] } }));
      expect.unreachable();
    } catch (err) {
      expect((err as UserError).exitCode).toBe(2);
      expect((err as UserError).code).toBe('allow_email_invalid');
    }
  });

  it('any email narrows a profile without allow lists', () => {
    const doc = compileProfile({ oidc: { issuer_url: 'https://idp.example', client_id: 'c' } }, ctx({ narrowing: { allowEmails: ['who@ever.example'] } }));
    expect(doc.on_http_request?.[1]?.expressions).toEqual(["!(actions.ngrok.oidc.identity.email.lowerAscii() in ['who@ever.example'])"]);
  });
});

describe('compileWebhook', () => {
  it('github with IP rules and a path', () => {
    expect(compileWebhook({ provider: 'github', ip: { allow: ['192.30.252.0/22'] }, path: '/hooks/github/' }, { secret: 'whsec' })).toMatchInlineSnapshot(`
      {
        "on_http_request": [
          {
            "actions": [
              {
                "config": {
                  "allow": [
                    "192.30.252.0/22",
                  ],
                  "enforce": true,
                },
                "type": "restrict-ips",
              },
            ],
            "name": "ip-restrictions",
          },
          {
            "actions": [
              {
                "config": {
                  "status_code": 404,
                },
                "type": "deny",
              },
            ],
            "expressions": [
              "!(req.url.path == '/hooks/github' || req.url.path.startsWith('/hooks/github/'))",
            ],
            "name": "webhook-path",
          },
          {
            "actions": [
              {
                "config": {
                  "provider": "github",
                  "secret": "whsec",
                },
                "type": "verify-webhook",
              },
            ],
            "name": "verify-signature",
          },
        ],
      }
    `);
  });

  it('stripe plain; sns without a secret', () => {
    expect(serializePolicy(compileWebhook({ provider: 'stripe' }, { secret: 'whsec_x' }))).toBe(
      '{"on_http_request":[{"actions":[{"config":{"provider":"stripe","secret":"whsec_x"},"type":"verify-webhook"}],"name":"verify-signature"}]}',
    );
    expect(compileWebhook({ provider: 'sns' }, {}).on_http_request?.[0]?.actions[0]?.config).toEqual({ provider: 'sns' });
  });

  it('refuses missing secrets and unknown providers', () => {
    expect(() => compileWebhook({ provider: 'stripe' }, {})).toThrow(expect.objectContaining({ code: 'webhook_secret_missing' }));
    expect(() => compileWebhook({ provider: 'stripe' }, { secret: '' })).toThrow(UserError);
    expect(() => compileWebhook({ provider: 'okta' }, { secret: 'x' })).toThrow(expect.objectContaining({ code: 'webhook_provider_unknown' }));
  });
});

describe('redactPolicy', () => {
  it('replaces secrets in a copy', () => {
    const doc = compileProfile(oidcProfile, ctx());
    const redacted = redactPolicy(doc);
    expect(serializePolicy(redacted)).not.toContain('okta-client-secret-value');
    expect(serializePolicy(redacted)).toContain('"client_secret":"[redacted]"');
    expect(serializePolicy(doc)).toContain('okta-client-secret-value');
    const hook = redactPolicy(compileWebhook({ provider: 'github' }, { secret: 'whsec-canary' }));
    expect(serializePolicy(hook)).not.toContain('whsec-canary');
  });
});

describe('describe', () => {
  it('describes profiles in plain English', () => {
    expect(describeProfile({ description: 'Company SSO', ...oidcProfile, ip: { allow: ['203.0.113.0/24'], deny: ['203.0.113.66/32'] }, headers: { add: { 'X-User': '${user.email}' }, remove: ['x-debug'] } })).toEqual([
      'Company SSO',
      'Sign-in: OpenID Connect via https://acme.okta.com',
      'Allowed: anyone @acme.com',
      'Allowed: anyone @<any subdomain>.acme.io',
      'Allowed: partner@other.example',
      'IP allow: 203.0.113.0/24',
      'IP deny: 203.0.113.66/32',
      'Header added: X-User: <visitor email>',
      'Headers removed: x-debug',
    ]);
    expect(describeProfile({ oauth: { provider: 'github', allow_emails: ['a@b.example'] } })).toEqual(['Sign-in: GitHub (ngrok-managed app)', 'Allowed: a@b.example']);
    expect(describeProfile({ oidc: { issuer_url: 'https://idp.example', client_id: 'c' } })).toEqual([
      'Sign-in: OpenID Connect via https://idp.example',
      'Allowed: anyone who can sign in at the identity provider',
    ]);
    expect(describeWebhook({ provider: 'stripe', path: '/stripe' })).toEqual([
      'Verified: Stripe signatures are checked at the edge; unsigned or forged requests get 403',
      'Path: only /stripe and below (other paths get 404)',
    ]);
  });
});
