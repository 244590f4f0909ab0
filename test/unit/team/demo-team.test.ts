import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createDemoTeam, demoPolicy } from '../../../src/team/demo-team.js';
import { decodeInvite } from '../../../src/team/invite.js';
import { validateTeamPolicy } from '../../../src/team/policy-schema.js';
import { POLICY_TEMPLATES, loadTemplate, readTemplate } from '../../../src/team/templates.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n';
const where = { domain: 'devtunnel.localhost', serverAddr: '127.0.0.1:4443', rootCasPem: PEM, idpUrl: 'https://idp.devtunnel.localhost:8443' };

describe('templates', () => {
  it.each(POLICY_TEMPLATES)('%s is a valid team policy', (name) => {
    const result = validateTeamPolicy(loadTemplate(name));
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('the demo template is valid once filled in', () => {
    expect(readTemplate('demo-policy.yaml')).toContain('{{IDP_URL}}');
    const policy = demoPolicy(where);
    expect(policy.team).toEqual({ id: 'demo', name: 'Demo Team' });
    expect(policy.domain).toBe('devtunnel.localhost');
    expect(policy.ingress).toEqual({ server_addr: '127.0.0.1:4443', root_cas: PEM });
    expect(policy.profiles['sso']?.oidc).toMatchObject({ issuer_url: where.idpUrl, client_id: 'devtunnel-demo', client_secret: { secret: 'demo-oidc' }, allow_domains: ['example.com'] });
    expect(policy.profiles['contractors']?.oauth).toMatchObject({ provider: 'github', allow_emails: ['contractor@partner.test'] });
    expect(Object.keys(policy.webhooks ?? {})).toEqual(expect.arrayContaining(['github', 'stripe', 'slack']));
  });

  it('keeps a PEM with YAML-looking content as one value', () => {
    const tricky = `${PEM}profiles: {}\n"{{DOMAIN}}"`;
    expect(() => demoPolicy({ ...where, rootCasPem: tricky })).not.toThrow();
    expect(demoPolicy({ ...where, rootCasPem: tricky }).ingress.root_cas).toBe(tricky);
  });

  it('accepts a loopback http IdP and refuses bad values', () => {
    expect(demoPolicy({ ...where, idpUrl: 'http://127.0.0.1:9000' }).profiles['sso']?.oidc?.issuer_url).toBe('http://127.0.0.1:9000');
    expect(() => demoPolicy({ ...where, serverAddr: 'nope' })).toThrow(/ingress.server_addr/);
  });

  it('the example template parses as plain YAML with comments', () => {
    expect(parse(readTemplate('policy.example.yaml'))).toHaveProperty('profiles.sso.oidc.client_secret.secret', 'okta');
  });
});

describe('createDemoTeam', () => {
  it('produces an invite that decodes to the demo policy and secrets', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const team = createDemoTeam({ ...where, authtoken: 'tok_demo', credentialId: 'cr_demo', now });
    const v = decodeInvite(team.invite, { now, expectedFingerprint: team.teamKey.fingerprint });
    expect(v.policy).toEqual(team.policy);
    expect(v.email).toBe('dev@example.com');
    expect(v.userLabel).toBe('dev');
    expect(v.authtoken).toBe('tok_demo');
    expect(v.secrets['demo-oidc']).toBe(team.secrets['demo-oidc']);
    expect(team.secrets['demo-oidc']).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(v.expiresAt.getTime() - now.getTime()).toBe(7 * 24 * 3600 * 1000);
    expect(createDemoTeam({ ...where, authtoken: 't', credentialId: 'c', email: 'x@example.com' }).invitePayload.email).toBe('x@example.com');
  });
});
