// templates/policy.catalogue.yaml is what an admin starts from: every profile kind the brief names,
// and one webhook profile for every provider the sandbox edge verifies. Each entry must validate
// and compile to a Traffic Policy the sandbox accepts at bind time.
import { describe, expect, it } from 'vitest';
import { loadTemplate } from '../../../src/team/templates.js';
import { parseTeamPolicy } from '../../../src/team/policy-schema.js';
import { compileProfile, compileWebhook, serializePolicy } from '../../../src/profiles/compile.js';
import { parseTrafficPolicy } from '../../../src/sandbox/traffic-policy-document.js';
import { SANDBOX_WEBHOOK_PROVIDERS } from '../../../src/sandbox/webhooks/providers.js';

const policy = parseTeamPolicy(loadTemplate('policy.catalogue.yaml'), 'policy.catalogue.yaml');
const secrets = { okta: 'okta-secret-value', entra: 'entra-secret-value', 'google-workspace': 'gw-secret-value' };

describe('the profile catalogue template', () => {
  it('offers SSO for Okta, Entra ID and Google Workspace, OAuth for contractors, and an office IP profile', () => {
    const issuers = Object.values(policy.profiles).map((p) => p.oidc?.issuer_url ?? '');
    expect(issuers.some((u) => u.includes('.okta.com'))).toBe(true);
    expect(issuers.some((u) => u.startsWith('https://login.microsoftonline.com/'))).toBe(true);
    expect(issuers).toContain('https://accounts.google.com');
    const oauth = Object.values(policy.profiles).map((p) => p.oauth?.provider);
    expect(oauth).toEqual(expect.arrayContaining(['github', 'google']));
    for (const p of Object.values(policy.profiles)) {
      if (p.oauth) expect((p.oauth.allow_emails?.length ?? 0) + (p.oauth.allow_domains?.length ?? 0)).toBeGreaterThan(0);
    }
    expect(policy.profiles['office']?.ip?.allow?.length).toBeGreaterThan(0);
  });

  it('every profile compiles to a policy the sandbox edge accepts', () => {
    for (const [name, profile] of Object.entries(policy.profiles)) {
      const doc = compileProfile(profile, { user: { email: 'alice@acme.com', label: 'alice' }, team: policy.team, secrets });
      expect(() => parseTrafficPolicy(serializePolicy(doc)), name).not.toThrow();
    }
  });

  it('has one webhook profile for every provider the sandbox verifies, each accepted at bind', () => {
    const providers = Object.values(policy.webhooks ?? {}).map((w) => w.provider).sort();
    expect(providers).toEqual([...SANDBOX_WEBHOOK_PROVIDERS].sort());
    for (const [key, webhook] of Object.entries(policy.webhooks ?? {})) {
      expect(() => parseTrafficPolicy(serializePolicy(compileWebhook(webhook, { secret: 'whsec_example_value' }))), key).not.toThrow();
    }
  });
});
