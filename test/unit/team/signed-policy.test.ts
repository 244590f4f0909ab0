import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { canonicalJsonBytes } from '../../../src/team/canonical-json.js';
import { assertNotRollback, signPolicy, verifySignedPolicy } from '../../../src/team/signed-policy.js';
import { generateTeamKey, signBytes, verifyBytes } from '../../../src/team/team-key.js';
import { clone, samplePolicy } from './fixtures.js';

const key = generateTeamKey();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) return err.code;
    throw err;
  }
  return undefined;
}

describe('signed policy', () => {
  it('signs the canonical JSON bytes and verifies', () => {
    const signed = signPolicy(samplePolicy(), key.privateKeyPem);
    expect(signed.format).toBe('devtunnel-policy/1');
    expect(signed.key_fingerprint).toBe(key.fingerprint);
    expect(verifyBytes(canonicalJsonBytes(samplePolicy()), signed.signature, key.publicKey)).toBe(true);
    expect(verifySignedPolicy(signed, key.publicKey)).toEqual(samplePolicy());
  });

  it('survives a JSON round trip with keys in another order', () => {
    const signed = signPolicy(samplePolicy(), key.privateKeyPem);
    const reordered = JSON.parse(JSON.stringify({ key_fingerprint: signed.key_fingerprint, signature: signed.signature, policy: { ...signed.policy }, format: signed.format }));
    expect(verifySignedPolicy(reordered, key.publicKey).version).toBe(7);
  });

  it('refuses a one-character change anywhere in the policy', () => {
    const signed = signPolicy(samplePolicy(), key.privateKeyPem);
    const tampered = clone(signed);
    tampered.policy.profiles['contractors']!.oauth!.allow_domains = ['acme-servicez.example'];
    expect(codeOf(() => verifySignedPolicy(tampered, key.publicKey))).toBe('policy_signature_invalid');
    const bumped = clone(signed);
    bumped.policy.version = 8;
    expect(codeOf(() => verifySignedPolicy(bumped, key.publicKey))).toBe('policy_signature_invalid');
  });

  it('refuses a flipped signature byte', () => {
    const signed = signPolicy(samplePolicy(), key.privateKeyPem);
    const sig = Buffer.from(signed.signature, 'base64url');
    sig[0] = (sig[0] ?? 0) ^ 0x80;
    expect(codeOf(() => verifySignedPolicy({ ...signed, signature: sig.toString('base64url') }, key.publicKey))).toBe('policy_signature_invalid');
  });

  it('names a policy signed by another key', () => {
    const other = generateTeamKey();
    const signed = signPolicy(samplePolicy(), other.privateKeyPem);
    expect(() => verifySignedPolicy(signed, key.publicKey)).toThrow(other.fingerprint);
    // lying about the fingerprint does not help
    expect(codeOf(() => verifySignedPolicy({ ...signed, key_fingerprint: key.fingerprint }, key.publicKey))).toBe('policy_signature_invalid');
  });

  it('refuses malformed documents and signed-but-invalid policies', () => {
    expect(codeOf(() => verifySignedPolicy('x', key.publicKey))).toBe('policy_malformed');
    expect(codeOf(() => verifySignedPolicy({ format: 'other', policy: {}, signature: '', key_fingerprint: '' }, key.publicKey))).toBe('policy_malformed');
    expect(() => signPolicy({ ...samplePolicy(), version: 0 }, key.privateKeyPem)).toThrow(/version: must be 1 or more/);
    // an admin key signing garbage directly (bypassing signPolicy) is still refused at load
    const bad = { ...samplePolicy(), profiles: { open: {} } };
    const forged = { format: 'devtunnel-policy/1', policy: bad, signature: signBytes(canonicalJsonBytes(bad), key.privateKeyPem), key_fingerprint: key.fingerprint };
    expect(codeOf(() => verifySignedPolicy(forged, key.publicKey))).toBe('policy_invalid');
  });

  it('refuses rollbacks and same-version changes', () => {
    const v7 = samplePolicy();
    const v8 = { ...samplePolicy(), version: 8 };
    expect(() => assertNotRollback(v7, v8)).not.toThrow();
    expect(() => assertNotRollback(v7, samplePolicy())).not.toThrow();
    expect(codeOf(() => assertNotRollback(v8, v7))).toBe('policy_rollback');
    const changed = samplePolicy();
    changed.domain = 'other.acme.com';
    expect(codeOf(() => assertNotRollback(v7, changed))).toBe('policy_rollback');
    expect(codeOf(() => assertNotRollback(v7, { ...v8, team: { id: 'evil', name: 'Evil' } }))).toBe('policy_team_mismatch');
    try {
      assertNotRollback(v8, v7);
    } catch (err) {
      expect((err as UserError).exitCode).toBe(4);
    }
  });
});
