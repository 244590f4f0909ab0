/**
 * A team policy with the team key's Ed25519 signature over its canonical JSON bytes.
 * The CLI verifies this every time it uses a policy; an unverified policy is never used.
 */
import { policyError } from '../errors.js';
import { canonicalJson, canonicalJsonBytes } from './canonical-json.js';
import { verifyPolicySignature } from './policy-signature.js';
import { parseTeamPolicy, policyInvalid, validateTeamPolicy, type TeamPolicy } from './policy-schema.js';
import { fingerprintOf, publicKeyFromPrivate, signBytes } from './team-key.js';

export { SIGNED_POLICY_FORMAT, verifyPolicySignature } from './policy-signature.js';

import { SIGNED_POLICY_FORMAT } from './policy-signature.js';

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
  const policy = verifyPolicySignature(signed, publicKey);
  const result = validateTeamPolicy(policy);
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
