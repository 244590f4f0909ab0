// The compiled CEL is evaluated for real (with @bufbuild/cel, the evaluator the sandbox edge
// uses) so the allow rules are proven on the expressions themselves, not on their text.
import { run, type CelInput } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { describe, expect, it } from 'vitest';
import { compileProfile, compileWebhook, emailAllowedBy, type CompileContext } from '../../../src/profiles/compile.js';
import { celString } from '../../../src/profiles/cel-literal.js';
import type { Profile } from '../../../src/team/policy-schema.js';

const ctx: CompileContext = { user: { email: 'dev@example.com', label: 'dev' }, team: { id: 'demo', name: 'Demo' }, secrets: { s: 'x' } };

/** Evaluate a rule's expressions (all must hold) against a request context. */
function ruleMatches(expressions: string[] | undefined, vars: Record<string, CelInput>): boolean {
  return (expressions ?? []).every((expr) => {
    const result = run(expr, vars, { funcs: strings });
    if (typeof result !== 'boolean') throw new Error(`expression did not give a bool: ${expr} → ${String(result)}`);
    return result;
  });
}

/** True when the compiled profile lets a visitor signed in as `email` through (its allowed-users deny rule does not fire). */
function admits(profile: Profile, email: string, narrowing?: string[]): boolean {
  const ns = profile.oidc ? 'oidc' : 'oauth';
  const doc = compileProfile(profile, { ...ctx, ...(narrowing ? { narrowing: { allowEmails: narrowing } } : {}) });
  const gate = doc.on_http_request?.find((r) => r.name === 'allowed-users');
  if (!gate) return true;
  return !ruleMatches(gate.expressions, { actions: { ngrok: { [ns]: { identity: { email } } } } });
}

const oidc = (lists: Profile['oidc'] extends infer T ? Partial<NonNullable<T>> : never): Profile => ({
  oidc: { issuer_url: 'https://idp.example', client_id: 'c', ...lists },
});

describe('allowed-users rule, evaluated', () => {
  const domain = oidc({ allow_domains: ['example.com'] });

  it.each([
    ['a@example.com', true],
    ['A@EXAMPLE.COM', true],
    ['a+tag@example.com', true],
    ['a@evilexample.com', false],
    ['a@example.com.evil.test', false],
    ['a@sub.example.com', false],
    ["a'@x", false],
    ['example.com', false],
    ['@example.com.', false],
    ['', false],
  ])('allow_domains [example.com]: %j → %s', (email, expected) => {
    expect(admits(domain, email)).toBe(expected);
    expect(emailAllowedBy(domain.oidc!, email)).toBe(expected);
  });

  it.each([
    ['a@eng.example.com', true],
    ['a@x.y.example.com', true],
    ['A@ENG.EXAMPLE.COM', true],
    ['a@example.com', false],
    ['a@evilexample.com', false],
    ['a@eng.example.com.evil.test', false],
    ['a@eng-example.com', false],
  ])('allow_domains [*.example.com]: %j → %s', (email, expected) => {
    const wild = oidc({ allow_domains: ['*.example.com'] });
    expect(admits(wild, email)).toBe(expected);
    expect(emailAllowedBy(wild.oidc!, email)).toBe(expected);
    expect(admits(oidc({ allow_domains: ['.example.com'] }), email)).toBe(expected);
  });

  it.each([
    ['bob@acme.com', true],
    ['BOB@Acme.Com', true],
    ['bob+x@acme.com', false],
    ['bob@acme.com.evil.test', false],
    ['xbob@acme.com', false],
    ["o'brien@acme.com", true],
    ["O'Brien@acme.com", true],
    ["o'brien@acme.com' || true || '", false],
    ['x@evil.test', false],
  ])('allow_emails [bob@acme.com, O\'Brien@acme.com]: %j → %s', (email, expected) => {
    const list = oidc({ allow_emails: ['bob@acme.com', "O'Brien@acme.com"] });
    expect(admits(list, email)).toBe(expected);
    expect(emailAllowedBy(list.oidc!, email)).toBe(expected);
  });

  it('an allow-listed email with a quote cannot break out of its literal', () => {
    const hostile = oidc({ allow_emails: ["x')||true||('@acme.com"] });
    expect(admits(hostile, 'anyone@evil.test')).toBe(false);
    expect(admits(hostile, "x')||true||('@acme.com")).toBe(true);
  });

  it('oauth profiles use the oauth namespace', () => {
    const p: Profile = { oauth: { provider: 'github', allow_emails: ['contractor@partner.test'] } };
    expect(admits(p, 'contractor@partner.test')).toBe(true);
    expect(admits(p, 'other@partner.test')).toBe(false);
  });

  it('narrowing admits exactly the narrowed emails', () => {
    expect(admits(domain, 'a@example.com', ['b@example.com'])).toBe(false);
    expect(admits(domain, 'B@example.com', ['b@example.com'])).toBe(true);
  });

  it('celString round-trips awkward strings through the evaluator', () => {
    for (const s of ["it's", 'back\\slash', 'new\nline', 'tab\t', 'ünï', '😀', '"dq"', '${x}']) {
      expect(run(`${celString(s)} == s`, { s })).toBe(true);
    }
  });
});

describe('webhook path rule, evaluated', () => {
  const doc = compileWebhook({ provider: 'github', path: '/hooks/github' }, { secret: 'x' });
  const pathRule = doc.on_http_request?.find((r) => r.name === 'webhook-path');
  it.each([
    ['/hooks/github', false],
    ['/hooks/github/', false],
    ['/hooks/github/push', false],
    ['/hooks/githubx', true],
    ['/', true],
    ['/other', true],
  ])('%s → refused: %s', (path, refused) => {
    expect(ruleMatches(pathRule?.expressions, { req: { url: { path } } })).toBe(refused);
  });
});
