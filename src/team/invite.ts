/**
 * Invite codes: `dtinv1.<base64url(JSON payload)>.<base64url(Ed25519 signature)>`.
 *
 * The signature is by the team key over the payload bytes exactly as encoded (the UTF-8 JSON
 * inside the first segment), so nothing is re-serialised before verifying. The payload carries
 * its own team public key: the signature proves the code is intact, and the key's fingerprint
 * (printed at login, optionally required with --fingerprint) proves whose it is.
 *
 * A code is a bearer secret (authtoken + team secrets). No error raised here ever quotes the
 * code, its segments, the decoded JSON or parser messages (V8's JSON errors echo the input).
 */
import { z } from 'zod';
import { usageError, UserError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import { isEmailAddress, userLabelFromEmail } from './identity.js';
import type { TeamPolicy } from './policy-schema.js';
import { verifySignedPolicy, type SignedPolicy } from './signed-policy.js';
import { decodeBase64Strict, fingerprintOf, fingerprintsEqual, normalizeFingerprint, normalizePublicKey, publicKeyFromPrivate, signBytes, verifyBytes } from './team-key.js';

/** The prefix (and version) of every invite code. */
export const INVITE_PREFIX = 'dtinv1';
const MAX_CODE_LENGTH = 256 * 1024;

/** What an invite carries. `authtoken` and `secrets` are secrets. Times are unix seconds. */
export interface InvitePayload {
  v: 1;
  team: { id: string; name: string };
  /** Team public key, raw base64url (team-key.ts). */
  team_key: string;
  signed_policy: SignedPolicy;
  /** The developer's ACL-bound ngrok authtoken. */
  authtoken: string;
  credential_id: string;
  email: string;
  /** Team secrets by name (e.g. the OIDC client secret), for the keychain. */
  secrets: Record<string, string>;
  iat: number;
  exp: number;
}

/** A decoded invite whose signature, expiry, fingerprint and policy all checked out. `authtoken` and `secrets` are secrets. */
export interface VerifiedInvite {
  team: { id: string; name: string };
  /** Team public key, raw base64url. */
  teamPublicKey: string;
  /** Fingerprint of the team key, to show the user. */
  keyFingerprint: string;
  signedPolicy: SignedPolicy;
  /** The verified team policy from `signedPolicy`. */
  policy: TeamPolicy;
  authtoken: string;
  credentialId: string;
  email: string;
  /** The developer's URL label, derived from `email`. */
  userLabel: string;
  secrets: Record<string, string>;
  issuedAt: Date;
  expiresAt: Date;
}

/** Options for {@link decodeInvite}. */
export interface DecodeInviteOptions {
  /** The current time (tests pass a fixed clock). */
  now: Date;
  /** When given, the team key's fingerprint must match (see fingerprintsEqual for what is tolerated). */
  expectedFingerprint?: string;
}

const secretName = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const payloadSchema = z.object({
  v: z.literal(1),
  team: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  team_key: z.string(),
  signed_policy: z.record(z.string(), z.unknown()),
  authtoken: z.string().min(1),
  credential_id: z.string().min(1),
  email: z.string(),
  secrets: z.record(z.string().regex(secretName), z.string().min(1)),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
});

/**
 * Encode and sign an invite with the team's private key (PKCS#8 PEM). Throws TypeError when the
 * payload's `team_key` is not the public half of `privateKeyPem` (a programming error).
 */
export function encodeInvite(payload: InvitePayload, privateKeyPem: string): string {
  if (normalizePublicKey(payload.team_key) !== publicKeyFromPrivate(privateKeyPem)) {
    throw new TypeError('invite team_key does not belong to the signing key');
  }
  if (!(payload.exp > payload.iat)) throw new TypeError('invite exp must be after iat');
  const bytes = Buffer.from(canonicalJson(payload), 'utf8');
  return `${INVITE_PREFIX}.${bytes.toString('base64url')}.${signBytes(bytes, privateKeyPem)}`;
}

/**
 * Decode and verify an invite code (surrounding whitespace is ignored). Throws usage errors
 * (exit 2) with distinct codes: `invite_malformed`, `invite_tampered`, `invite_fingerprint_invalid`,
 * `invite_fingerprint_mismatch`, `invite_expired`, `invite_policy_invalid`, `invite_email_missing`.
 */
export function decodeInvite(code: string, options: DecodeInviteOptions): VerifiedInvite {
  const text = typeof code === 'string' ? code.trim() : '';
  if (text.length > MAX_CODE_LENGTH) throw malformed('is far too long');
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== INVITE_PREFIX) {
    throw text.startsWith('dtinv')
      ? malformed(parts[0] === INVITE_PREFIX ? 'is incomplete' : 'is from a different devtunnel version')
      : malformed(text === '' ? 'is empty' : 'does not start with dtinv1.');
  }
  const payloadBytes = decodeBase64Strict(parts[1] ?? '', true);
  const signature = parts[2] ?? '';
  if (!payloadBytes || payloadBytes.length === 0 || !decodeBase64Strict(signature, true) || signature === '') {
    throw malformed('is damaged (it must be copied whole, without added characters)');
  }

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes));
  } catch {
    throw malformed('is damaged (its contents cannot be read)');
  }
  // Verify the signature before trusting any field; the key to verify with travels inside.
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw malformed('is damaged (its contents are not an invite)');
  const record = json as Record<string, unknown>;
  const teamKey = typeof record['team_key'] === 'string' ? normalizePublicKey(record['team_key']) : undefined;
  if (teamKey === undefined) throw malformed('carries no valid team key');
  if (!verifyBytes(payloadBytes, signature, teamKey)) {
    throw usageError('invite_tampered', 'The invite code was changed after it was signed: its signature does not verify.', [
      'Copy the invite code again, exactly as your team admin sent it.',
      'If it still fails, ask your team admin for a new invite.',
    ]);
  }

  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) {
    if (typeof record['email'] !== 'string' && payloadSchema.safeParse({ ...record, email: 'x@x.example' }).success) throw emailMissing();
    // Name the fields only: zod messages could echo values, and values include secrets.
    const fields = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? 'payload')))];
    throw malformed(`is missing or has invalid fields (${fields.join(', ')})`);
  }
  const body = parsed.data;

  const fingerprint = fingerprintOf(teamKey);
  if (options.expectedFingerprint !== undefined) {
    if (normalizeFingerprint(options.expectedFingerprint) === undefined) {
      throw usageError('invite_fingerprint_invalid', 'The --fingerprint value is not a key fingerprint (expected SHA256:…).', [
        'Copy the fingerprint exactly as your team admin published it.',
      ]);
    }
    if (!fingerprintsEqual(options.expectedFingerprint, fingerprint)) {
      throw usageError(
        'invite_fingerprint_mismatch',
        `This invite is signed by team key ${fingerprint}, but you asked for ${normalizeFingerprint(options.expectedFingerprint)}.`,
        ['Do not use this invite: it may not come from your team. Ask your team admin, over a channel you trust, for the right invite.'],
      );
    }
  }

  const expiresAt = new Date(body.exp * 1000);
  if (options.now.getTime() >= expiresAt.getTime()) {
    throw usageError('invite_expired', `This invite code expired on ${formatUtc(expiresAt)}.`, ['Ask your team admin for a new invite.']);
  }

  let policy: TeamPolicy;
  try {
    policy = verifySignedPolicy(body.signed_policy, teamKey);
  } catch (err) {
    throw policyProblem(err instanceof UserError ? err.message : 'it cannot be verified');
  }
  if (policy.team.id !== body.team.id || policy.team.name !== body.team.name) {
    throw policyProblem(`the policy is for team ${policy.team.id}, the invite for team ${body.team.id}`);
  }

  if (body.email.trim() === '') throw emailMissing();
  if (!isEmailAddress(body.email)) {
    throw usageError('invite_email_invalid', `The invite's email "${body.email}" is not an email address.`, ['Ask your team admin for a new invite.']);
  }
  const userLabel = userLabelFromEmail(body.email);

  return {
    team: { id: body.team.id, name: body.team.name },
    teamPublicKey: teamKey,
    keyFingerprint: fingerprint,
    signedPolicy: body.signed_policy as unknown as SignedPolicy,
    policy,
    authtoken: body.authtoken,
    credentialId: body.credential_id,
    email: body.email,
    userLabel,
    secrets: { ...body.secrets },
    issuedAt: new Date(body.iat * 1000),
    expiresAt,
  };
}

/** True when `text` looks like an invite code (cheap check for prompts; proves nothing). */
export function looksLikeInvite(text: string): boolean {
  return text.trim().startsWith(`${INVITE_PREFIX}.`);
}

function malformed(what: string): UserError {
  return usageError('invite_malformed', `That is not a valid devtunnel invite code: it ${what}.`, [
    'Invite codes start with dtinv1. and are one long line; paste the whole code (or pass it with --stdin).',
  ]);
}

function emailMissing(): UserError {
  return usageError('invite_email_missing', 'The invite code does not name whose invite it is (no email).', ['Ask your team admin for a new invite.']);
}

function policyProblem(detail: string): UserError {
  return usageError('invite_policy_invalid', `The team policy inside the invite cannot be used: ${detail}`, ['Ask your team admin for a new invite.']);
}

function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
