import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fingerprintOf,
  fingerprintsEqual,
  generateTeamKey,
  normalizeFingerprint,
  normalizePublicKey,
  publicKeyFromPrivate,
  signBytes,
  verifyBytes,
} from '../../../src/team/team-key.js';

describe('team key', () => {
  const key = generateTeamKey();
  const data = new TextEncoder().encode('hello team');

  it('generates PEM private / raw base64url public keys and an SSH-style fingerprint', () => {
    expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(key.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(publicKeyFromPrivate(key.privateKeyPem)).toBe(key.publicKey);
    const expected = createHash('sha256').update(Buffer.from(key.publicKey, 'base64url')).digest('base64').replace(/=+$/, '');
    expect(key.fingerprint).toBe(`SHA256:${expected}`);
    expect(fingerprintOf(key.publicKey)).toBe(key.fingerprint);
  });

  it('signs and verifies', () => {
    const sig = signBytes(data, key.privateKeyPem);
    expect(verifyBytes(data, sig, key.publicKey)).toBe(true);
  });

  it('rejects a one-byte change of the data or the signature', () => {
    const sig = signBytes(data, key.privateKeyPem);
    const tampered = Uint8Array.from(data);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expect(verifyBytes(tampered, sig, key.publicKey)).toBe(false);
    const sigBytes = Buffer.from(sig, 'base64url');
    sigBytes[10] = (sigBytes[10] ?? 0) ^ 1;
    expect(verifyBytes(data, sigBytes.toString('base64url'), key.publicKey)).toBe(false);
  });

  it('rejects another key and never throws on garbage', () => {
    const other = generateTeamKey();
    const sig = signBytes(data, key.privateKeyPem);
    expect(verifyBytes(data, sig, other.publicKey)).toBe(false);
    expect(verifyBytes(data, 'not-a-signature', key.publicKey)).toBe(false);
    expect(verifyBytes(data, sig, 'short')).toBe(false);
    expect(verifyBytes(data, `${sig}!`, key.publicKey)).toBe(false);
  });

  it('accepts SPKI public keys and normalises them to raw', () => {
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(key.publicKey, 'base64url')]);
    expect(normalizePublicKey(spki.toString('base64'))).toBe(key.publicKey);
    expect(normalizePublicKey(spki.toString('base64url'))).toBe(key.publicKey);
    expect(normalizePublicKey(key.publicKey)).toBe(key.publicKey);
    expect(normalizePublicKey('abc')).toBeUndefined();
  });

  it('compares fingerprints tolerating whitespace, prefix case and padding only', () => {
    const fp = key.fingerprint;
    const body = fp.slice('SHA256:'.length);
    expect(fingerprintsEqual(fp, `  ${fp}\n`)).toBe(true);
    expect(fingerprintsEqual(fp, `sha256:${body.slice(0, 20)}\n ${body.slice(20)}=`)).toBe(true);
    expect(fingerprintsEqual(fp, body)).toBe(true);
    // base64 is case-sensitive: a case change is a different fingerprint
    const swapped = body.replace(/[a-z]/, (c) => c.toUpperCase());
    if (swapped !== body) expect(fingerprintsEqual(fp, `SHA256:${swapped}`)).toBe(false);
    expect(fingerprintsEqual(fp, generateTeamKey().fingerprint)).toBe(false);
    expect(fingerprintsEqual('', '')).toBe(false);
    expect(normalizeFingerprint('SHA256:tooshort')).toBeUndefined();
  });
});
