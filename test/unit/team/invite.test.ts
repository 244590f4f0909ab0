import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { canonicalJson } from '../../../src/team/canonical-json.js';
import { decodeInvite, encodeInvite, looksLikeInvite, type InvitePayload } from '../../../src/team/invite.js';
import { signPolicy } from '../../../src/team/signed-policy.js';
import { generateTeamKey, signBytes } from '../../../src/team/team-key.js';
import { samplePolicy } from './fixtures.js';

const TOKEN = '2abcTOKENcanary_9f8e7d6c5b4a';
const SECRET = 'SECRETcanary-0123456789';
const NOW = new Date('2026-03-01T12:00:00Z');
const iat = Math.floor(NOW.getTime() / 1000) - 60;
const key = generateTeamKey();

function payload(overrides: Partial<InvitePayload> = {}, signer = key): InvitePayload {
  return {
    v: 1,
    team: { id: 'acme', name: 'Acme Corp' },
    team_key: signer.publicKey,
    signed_policy: signPolicy(samplePolicy(), signer.privateKeyPem),
    authtoken: TOKEN,
    credential_id: 'cr_123',
    email: 'Alice.Smith+dev@acme.com',
    secrets: { okta: SECRET },
    iat,
    exp: iat + 3600,
    ...overrides,
  };
}

/** Sign arbitrary payload JSON as a (malicious or buggy) admin could. */
function rawInvite(json: string, signer = key): string {
  const bytes = Buffer.from(json, 'utf8');
  return `dtinv1.${bytes.toString('base64url')}.${signBytes(bytes, signer.privateKeyPem)}`;
}

/** Run decode, expect a UserError, check it leaks nothing, return it. */
function failure(code: string, opts: { expectedFingerprint?: string; now?: Date } = {}): UserError {
  try {
    decodeInvite(code, { now: opts.now ?? NOW, ...(opts.expectedFingerprint ? { expectedFingerprint: opts.expectedFingerprint } : {}) });
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    expect(e.exitCode).toBe(2);
    const everything = [e.message, ...e.suggestions, String(e.stack), JSON.stringify(e), String(e.cause ?? '')].join('\n');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(SECRET);
    const segments = code.trim().split('.').filter((s) => s.length > 8);
    for (const s of segments) expect(everything).not.toContain(s.slice(0, 16));
    return e;
  }
  throw new Error('decodeInvite did not throw');
}

describe('invite codes', () => {
  const code = encodeInvite(payload(), key.privateKeyPem);

  it('round-trips and verifies', () => {
    expect(code).toMatch(/^dtinv1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
    expect(looksLikeInvite(`  ${code}\n`)).toBe(true);
    const v = decodeInvite(`\n  ${code}  \n`, { now: NOW, expectedFingerprint: key.fingerprint });
    const p = payload();
    expect(v).toMatchObject({
      team: p.team,
      teamPublicKey: key.publicKey,
      keyFingerprint: key.fingerprint,
      signedPolicy: p.signed_policy,
      authtoken: TOKEN,
      credentialId: 'cr_123',
      email: 'Alice.Smith+dev@acme.com',
      secrets: { okta: SECRET },
    });
    expect(v.issuedAt.getTime()).toBe(iat * 1000);
    expect(v.policy).toEqual(samplePolicy());
    expect(v.userLabel).toBe('alice-smith-dev');
    expect(v.expiresAt.toISOString()).toBe(new Date((iat + 3600) * 1000).toISOString());
  });

  it('accepts a fingerprint pasted with whitespace and lower-case prefix', () => {
    const fp = key.fingerprint.replace('SHA256:', 'sha256: ');
    expect(decodeInvite(code, { now: NOW, expectedFingerprint: ` ${fp}\n` }).keyFingerprint).toBe(key.fingerprint);
  });

  it('detects a changed payload byte', () => {
    const [prefix, body, sig] = code.split('.') as [string, string, string];
    const json = Buffer.from(body, 'base64url').toString('utf8');
    const changed = json.replace('cr_123', 'cr_124');
    expect(changed).not.toBe(json);
    const e = failure(`${prefix}.${Buffer.from(changed).toString('base64url')}.${sig}`);
    expect(e.code).toBe('invite_tampered');
    // flipping a raw byte so the JSON no longer parses is reported as damage, still without leaking
    const bytes = Buffer.from(body, 'base64url');
    bytes[5] = (bytes[5] ?? 0) ^ 0xff;
    expect(failure(`${prefix}.${bytes.toString('base64url')}.${sig}`).code).toMatch(/^invite_(malformed|tampered)$/);
  });

  it('detects a changed signature', () => {
    const [prefix, body, sig] = code.split('.') as [string, string, string];
    const bytes = Buffer.from(sig, 'base64url');
    bytes[3] = (bytes[3] ?? 0) ^ 1;
    expect(failure(`${prefix}.${body}.${bytes.toString('base64url')}`).code).toBe('invite_tampered');
  });

  it('detects a payload re-signed with a different key only through the fingerprint', () => {
    const mallory = generateTeamKey();
    const forged = encodeInvite(payload({}, mallory), mallory.privateKeyPem);
    const e = failure(forged, { expectedFingerprint: key.fingerprint });
    expect(e.code).toBe('invite_fingerprint_mismatch');
    expect(e.message).toContain(mallory.fingerprint);
    expect(e.message).toContain(key.fingerprint);
    expect(failure(code, { expectedFingerprint: 'nonsense' }).code).toBe('invite_fingerprint_invalid');
  });

  it('refuses expired invites and says when', () => {
    const e = failure(code, { now: new Date((iat + 3600) * 1000) });
    expect(e.code).toBe('invite_expired');
    expect(e.message).toContain(new Date((iat + 3600) * 1000).toISOString().slice(0, 16).replace('T', ' '));
  });

  it('refuses a policy not signed by the invite key, or for another team', () => {
    const other = generateTeamKey();
    const e1 = failure(encodeInvite(payload({ signed_policy: signPolicy(samplePolicy(), other.privateKeyPem) }), key.privateKeyPem));
    expect(e1.code).toBe('invite_policy_invalid');
    const tamperedPolicy = signPolicy(samplePolicy(), key.privateKeyPem);
    tamperedPolicy.policy.domain = 'evil.example';
    expect(failure(encodeInvite(payload({ signed_policy: tamperedPolicy }), key.privateKeyPem)).code).toBe('invite_policy_invalid');
    expect(failure(encodeInvite(payload({ team: { id: 'other', name: 'Other' } }), key.privateKeyPem)).code).toBe('invite_policy_invalid');
  });

  it('refuses invites without an email', () => {
    const { email: _dropped, ...rest } = payload();
    expect(failure(rawInvite(canonicalJson(rest))).code).toBe('invite_email_missing');
    expect(failure(encodeInvite(payload({ email: ' ' }), key.privateKeyPem)).code).toBe('invite_email_missing');
    expect(failure(encodeInvite(payload({ email: 'nobody' }), key.privateKeyPem)).code).toBe('invite_email_invalid');
  });

  it.each([
    ['hello', 'hello'],
    ['empty', ''],
    ['whitespace only', '   \n'],
    ['prefix only', 'dtinv1.'],
    ['two segments', 'dtinv1.abc'],
    ['four segments', 'dtinv1.a.b.c'],
    ['wrong prefix', 'dtinv2.eyJ2IjoxfQ.AAAA'],
    ['other token', 'ghp_abcdefABCDEF0123456789abcdef012345'],
    ['bad base64', 'dtinv1.!!!not*base64!!!.AAAA'],
    ['empty signature', 'dtinv1.eyJ2IjoxfQ.'],
  ])('refuses garbage: %s', (_label, text) => {
    expect(failure(text).code).toBe('invite_malformed');
  });

  it.each([
    ['JSON array', '[1,2,3]'],
    ['JSON string', '"hello"'],
    ['JSON null', 'null'],
    ['not JSON', 'hello there'],
    ['object without team key', '{"v":1}'],
  ])('refuses payloads that are not invite objects: %s', (_label, json) => {
    const bytes = Buffer.from(json);
    expect(failure(`dtinv1.${bytes.toString('base64url')}.${signBytes(bytes, key.privateKeyPem)}`).code).toBe('invite_malformed');
  });

  it('refuses signed payloads with missing fields, naming fields but no values', () => {
    const { authtoken: _t, ...rest } = payload();
    const e = failure(rawInvite(canonicalJson({ ...rest, secrets: { okta: SECRET, 'BAD NAME': SECRET } })));
    expect(e.code).toBe('invite_malformed');
    expect(e.message).toContain('authtoken');
    expect(e.message).toContain('secrets');
  });

  it('refuses an invite whose team_key is not the signing key when encoding', () => {
    expect(() => encodeInvite(payload({ team_key: generateTeamKey().publicKey }), key.privateKeyPem)).toThrow(TypeError);
  });
});
