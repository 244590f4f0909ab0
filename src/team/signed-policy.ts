/**
 * A team policy with the team key's Ed25519 signature over its canonical JSON bytes.
 * The CLI verifies this every time it uses a policy; an unverified policy is never used.
 */
import { policyError, usageError } from '../errors.js';
import { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
import { parseTeamPolicy, policyInvalid, validateTeamPolicy, type TeamPolicy } from './policy-schema.js';
import { fingerprintOf, fingerprintsEqual, publicKeyFromPrivate, signBytes, verifyBytes } from './team-key.js';

/** Format tag of {@link SignedPolicy}; bump it if the signed bytes ever change meaning. */
export const SIGNED_POLICY_FORMAT = 'devtunnel-policy/1';

/** What admins publish and invites carry. */
export interface SignedPolicy {
  format: typeof SIGNED_POLICY_FORMAT;
  policy: TeamPolicy;
  /** Ed25519 signature, base64url, over `canonicalJsonBytes(policy)`. */
  signature: string;
  /** Fingerprint of the signing key (see team-key.ts), so a wrong key is named rather than just "bad signature". */
  key_fingerprint: string;
}

/** Validate `policy` and sign it with the team's private key (PKCS#8 PEM). Throws a usage error if the policy is invalid. */
export function signPolicy(policy: unknown, privateKeyPem: string): SignedPolicy {
  const valid = parseTeamPolicy(policy);
  return {
    format: SIGNED_POLICY_FORMAT,
    policy: valid,
    signature: signBytes(canonicalJsonBytes(valid), privateKeyPem),
    key_fingerprint: fingerprintOf(publicKeyFromPrivate(privateKeyPem)),
  };
}

/**
 * Verify a signed policy against the team public key (raw base64url) and return the policy.
 * The signature is checked over the policy exactly as received, before the schema runs.
 * Throws usage errors (exit 2): `policy_malformed`, `policy_wrong_key`, `policy_signature_invalid`, `policy_invalid`.
 */
export function verifySignedPolicy(signed: unknown, publicKey: string): TeamPolicy {
  if (!isRecord(signed) || signed['format'] !== SIGNED_POLICY_FORMAT || !isRecord(signed['policy']) ||
      typeof signed['signature'] !== 'string' || typeof signed['key_fingerprint'] !== 'string') {
    throw usageError('policy_malformed', `This is not a signed devtunnel policy (expected format ${SIGNED_POLICY_FORMAT}).`, [
      'Get the signed policy file from your team admin.',
    ]);
  }
  let expected: string;
  try {
    expected = fingerprintOf(publicKey);
  } catch {
    throw usageError('team_key_invalid', 'The team public key is not a valid Ed25519 key.', ['Log in again with `devtunnel login`.']);
  }
  if (!fingerprintsEqual(signed['key_fingerprint'], expected)) {
    throw usageError('policy_wrong_key', `The policy is signed by key ${signed['key_fingerprint']}, not by your team's key ${expected}.`, [
      'Ask your team admin for a policy signed with the team key, or log in again with a new invite if the team key changed.',
    ]);
  }
  let bytes: Uint8Array;
  try {
    bytes = canonicalJsonBytes(signed['policy']);
  } catch {
    throw usageError('policy_malformed', 'The signed policy contains values JSON cannot carry.');
  }
  if (!verifyBytes(bytes, signed['signature'], publicKey)) {
    throw usageError('policy_signature_invalid', 'The team policy signature does not verify: the policy was changed after it was signed.', [
      'Do not edit signed policies by hand; ask your team admin for a freshly signed one.',
    ]);
  }
  const result = validateTeamPolicy(signed['policy']);
  if (!result.ok) throw policyInvalid('The signed team policy', result.problems);
  return result.policy;
}

/**
 * Refuse to replace `current` by `next` when that would go back in time: a lower version, or the
 * same version with different content (two policies must never share a version number).
 * Throws a policy error (exit 4, code `policy_rollback`).
 */
export function assertNotRollback(current: TeamPolicy, next: TeamPolicy): void {
  if (next.team.id !== current.team.id) {
    throw policyError('policy_team_mismatch', `The new policy is for team ${next.team.id}, but you are logged in to ${current.team.id}.`, [
      'Run `devtunnel login` with an invite for the other team instead.',
    ]);
  }
  if (next.version < current.version) {
    throw policyError('policy_rollback', `Refusing policy version ${next.version}: version ${current.version} is already in use (no rollback).`, [
      'Ask your team admin to publish the change as a new, higher version.',
    ]);
  }
  if (next.version === current.version && canonicalJson(next) !== canonicalJson(current)) {
    throw policyError('policy_rollback', `Refusing a different policy with the same version ${next.version}.`, [
      'Ask your team admin to publish the change as a new, higher version.',
    ]);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
