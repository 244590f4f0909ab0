/**
 * The team's Ed25519 signing key, via node:crypto only.
 *
 * Representations (decided here, used everywhere):
 * - private key: PKCS#8 PEM text (what the admin keeps in the keychain);
 * - public key: the raw 32-byte Ed25519 key as base64url without padding (43 characters),
 *   compact enough to travel inside invite codes;
 * - fingerprint: `SHA256:` + standard base64 *without padding* of SHA-256 over the raw 32-byte
 *   public key — the same shape OpenSSH shows, so admins recognise it. Fingerprints are public.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/** A freshly generated team key pair. `privateKeyPem` is a secret; the rest is public. */
export interface TeamKeyPair {
  privateKeyPem: string;
  /** Raw 32-byte public key, base64url. */
  publicKey: string;
  /** `SHA256:<base64>` of the raw public key. */
  fingerprint: string;
}

const RAW_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the raw key follows it.
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Generate a new Ed25519 team key. */
export function generateTeamKey(): TeamKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawFromKeyObject(publicKey);
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: raw.toString('base64url'),
    fingerprint: fingerprintOfRaw(raw),
  };
}

/** The public key (raw, base64url) that belongs to a PKCS#8 PEM private key. Throws if it is not Ed25519. */
export function publicKeyFromPrivate(privateKeyPem: string): string {
  return rawFromKeyObject(createPublicKey(loadPrivateKey(privateKeyPem))).toString('base64url');
}

/**
 * Normalise a public key given as raw base64url (32 bytes) or as base64url/base64 DER SPKI,
 * returning the raw base64url form. Returns undefined when it is neither.
 */
export function normalizePublicKey(text: string): string | undefined {
  const bytes = decodeBase64Strict(text.trim());
  if (!bytes) return undefined;
  if (bytes.length === RAW_KEY_BYTES) return bytes.toString('base64url');
  if (bytes.length === SPKI_ED25519_PREFIX.length + RAW_KEY_BYTES && bytes.subarray(0, SPKI_ED25519_PREFIX.length).equals(SPKI_ED25519_PREFIX)) {
    return bytes.subarray(SPKI_ED25519_PREFIX.length).toString('base64url');
  }
  return undefined;
}

/** Sign bytes with the team's private key; returns the 64-byte signature as base64url. */
export function signBytes(data: Uint8Array, privateKeyPem: string): string {
  return sign(null, data, loadPrivateKey(privateKeyPem)).toString('base64url');
}

/**
 * Verify an Ed25519 signature (base64url) over `data` with a raw base64url public key.
 * Never throws: a malformed key or signature simply does not verify.
 */
export function verifyBytes(data: Uint8Array, signature: string, publicKey: string): boolean {
  try {
    const sig = decodeBase64Strict(signature, true);
    if (!sig || sig.length !== SIGNATURE_BYTES) return false;
    const key = publicKeyObject(publicKey);
    if (!key) return false;
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}

/** The user-facing fingerprint of a raw base64url public key. Throws TypeError on a malformed key. */
export function fingerprintOf(publicKey: string): string {
  const raw = decodeBase64Strict(publicKey, true);
  if (!raw || raw.length !== RAW_KEY_BYTES) throw new TypeError('not a raw Ed25519 public key');
  return fingerprintOfRaw(raw);
}

/**
 * Compare two fingerprints as a human would paste them. Tolerated: surrounding and embedded
 * whitespace (terminal wrapping), the case of the `SHA256:` prefix, a missing prefix, and
 * trailing `=` padding. NOT tolerated: any change of case inside the base64 body — base64 is
 * case-sensitive, so folding it would make different keys compare equal.
 */
export function fingerprintsEqual(a: string, b: string): boolean {
  const na = normalizeFingerprint(a);
  const nb = normalizeFingerprint(b);
  return na !== undefined && na === nb;
}

/** The canonical `SHA256:<base64>` spelling of a pasted fingerprint, or undefined when it cannot be one. */
export function normalizeFingerprint(text: string): string | undefined {
  let body = text.replace(/\s+/g, '');
  if (/^sha256:/i.test(body)) body = body.slice('sha256:'.length);
  body = body.replace(/=+$/, '');
  // 32 bytes of digest are 43 base64 characters without padding.
  if (!/^[A-Za-z0-9+/]{43}$/.test(body)) return undefined;
  return `SHA256:${body}`;
}

function fingerprintOfRaw(raw: Buffer): string {
  return `SHA256:${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
}

function loadPrivateKey(privateKeyPem: string): KeyObject {
  const key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('team key must be an Ed25519 private key');
  return key;
}

function publicKeyObject(publicKey: string): KeyObject | undefined {
  const raw = decodeBase64Strict(publicKey, true);
  if (!raw || raw.length !== RAW_KEY_BYTES) return undefined;
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

function rawFromKeyObject(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - RAW_KEY_BYTES));
}

/**
 * Decode base64url (or, unless `urlOnly`, standard base64) strictly: Buffer.from silently skips
 * characters outside the alphabet, which would let two different strings decode to the same bytes.
 */
export function decodeBase64Strict(text: string, urlOnly = false): Buffer | undefined {
  const unpadded = text.replace(/=+$/, '');
  if (BASE64URL.test(unpadded)) {
    const bytes = Buffer.from(unpadded, 'base64url');
    return bytes.toString('base64url') === unpadded ? bytes : undefined;
  }
  if (urlOnly || !/^[A-Za-z0-9+/]*$/.test(unpadded)) return undefined;
  const bytes = Buffer.from(unpadded, 'base64');
  return bytes.toString('base64').replace(/=+$/, '') === unpadded ? bytes : undefined;
}
