// The demo team's compiled profiles (what `devtunnel share` sends) enforced by the sandbox engine.
import { describe, expect, it } from 'vitest';
import { compileProfile, serializePolicy } from '../../../../src/profiles/compile.js';
import { applyHeaderOps, CompiledPolicy } from '../../../../src/sandbox/policy/engine.js';
import { parseTrafficPolicy } from '../../../../src/sandbox/traffic-policy-document.js';
import { createDemoTeam } from '../../../../src/team/demo-team.js';
import { facts, services } from './fixtures.js';

const demo = createDemoTeam({
  domain: 'devtunnel.localhost',
  serverAddr: '127.0.0.1:1',
  rootCasPem: 'host',
  idpUrl: 'https://idp.devtunnel.localhost:8443',
  authtoken: 't',
  credentialId: 'cr_1',
});

function compiled(name: string): CompiledPolicy {
  const doc = compileProfile(demo.policy.profiles[name]!, { user: { email: 'dev@example.com', label: 'dev' }, team: demo.policy.team, secrets: demo.secrets, profileName: name });
  // Exactly what the SDK sends, validated as the edge does at bind.
  return new CompiledPolicy(parseTrafficPolicy(serializePolicy(doc)));
}

describe('sso (openid-connect, allow_domains [example.com])', () => {
  it.each([
    ['a@example.com', undefined],
    ['dev@example.com', undefined],
    ['A@EXAMPLE.COM', undefined], // case-insensitive per the profile reference
    ['a+tag@example.com', undefined],
    ['a@evilexample.com', 403],
    ['a@example.com.evil.test', 403],
    ['a@sub.example.com', 403],
    ['eve@evil.test', 403],
  ])('%s → %s', async (email, status) => {
    const r = await compiled('sso').runRequest(facts(), services({ email }));
    expect(r.termination?.response.status).toBe(status);
    if (status) expect(r.termination).toMatchObject({ rule: 'allowed-users', action: 'deny', denial: true });
  });

  it('replaces a client-sent X-Devtunnel-User with the signed-in email', async () => {
    const r = await compiled('sso').runRequest(facts(), services({ email: 'dev@example.com' }));
    const headers: Record<string, string | string[]> = { 'x-devtunnel-user': 'ceo@example.com' };
    applyHeaderOps(headers, r.headerOps);
    expect(headers).toEqual({ 'x-devtunnel-user': 'dev@example.com' });
  });

  it('sends visitors without a session to sign in', async () => {
    const r = await compiled('sso').runRequest(facts(), services());
    expect(r.termination).toMatchObject({ action: 'openid-connect', denial: false, response: { status: 302 } });
  });
});

describe('contractors (oauth github, allow_emails [contractor@partner.test])', () => {
  it.each([
    ['contractor@partner.test', undefined],
    ['Contractor@Partner.Test', undefined],
    ['contractor+x@partner.test', 403],
    ['other@partner.test', 403],
    ['contractor@partner.test.evil.test', 403],
    ['dev@example.com', 403],
  ])('%s → %s', async (email, status) => {
    const s = services({ email });
    const r = await compiled('contractors').runRequest(facts(), s);
    expect(r.termination?.response.status).toBe(status);
    expect(s.authCalls[0]).toMatchObject({ kind: 'oauth', config: { provider: 'github' } });
  });
});

describe('office (restrict-ips 127.0.0.0/8 and ::1, then SSO)', () => {
  it.each([
    ['127.0.0.1', undefined],
    ['127.8.9.10', undefined],
    ['::1', undefined],
    ['::ffff:127.0.0.1', undefined],
    ['10.0.0.1', 403],
    ['2001:db8::1', 403],
  ])('%s → %s', async (clientIp, status) => {
    const s = services({ email: 'a@example.com' });
    const r = await compiled('office').runRequest(facts({ clientIp }), s);
    expect(r.termination?.response.status).toBe(status);
    // Outsiders never even see the sign-in.
    expect(s.authCalls.length).toBe(status ? 0 : 1);
  });
});
