/**
 * The signature half of policy verification, without the schema: it needs only node:crypto,
 * so commands on the hot path (share, whoami) can check the stored policy's integrity at every
 * load without loading the schema library. The schema runs where a policy enters the machine
 * (login, sync), through verifySignedPolicy in signed-policy.ts.
 */
import { usageError } from '../errors.js';
import { canonicalJsonBytes } from './canonical-json.js';
import { fingerprintOf, fingerprintsEqual, verifyBytes } from './team-key.js';

/** Format tag of a signed policy; bump it if the signed bytes ever change meaning. */
export const SIGNED_POLICY_FORMAT = 'devtunnel-policy/1';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Check that `signed` is a signed policy whose Ed25519 signature by `publicKey` covers exactly
 * its policy object; returns that object (not yet schema-checked).
 * Throws usage errors: `policy_malformed`, `team_key_invalid`, `policy_wrong_key`, `policy_signature_invalid`.
 */
export function verifyPolicySignature(signed: unknown, publicKey: string): Record<string, unknown> {
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
  return signed['policy'];
}
