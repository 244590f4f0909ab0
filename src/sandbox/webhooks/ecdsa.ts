/**
 * Family F: asymmetric signatures. SendGrid's Event Webhook signs `timestamp + body` with ECDSA
 * P-256 / SHA-256 (DER signature, base64). The "secret" a developer configures is SendGrid's
 * public verification key: base64 DER SubjectPublicKeyInfo (a PEM block is accepted too). SendGrid
 * documents no window, so ngrok's 180 s fallback applies.
 */
import { createPublicKey, createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import {
  FALLBACK_WINDOW_SECONDS,
  fail,
  fromBase64,
  header,
  malformed,
  missing,
  parseUnixSeconds,
  pass,
  timestampProblem,
  type SchemeVerdict,
  type SchemeVerifier,
  type WebhookRequest,
} from './scheme.js';

const SIGNATURE = 'X-Twilio-Email-Event-Webhook-Signature';
const TIMESTAMP = 'X-Twilio-Email-Event-Webhook-Timestamp';

/** SendGrid's verification key as a KeyObject, or undefined when it is not an EC P-256 public key. */
export function sendgridPublicKey(secret: string): KeyObject | undefined {
  try {
    const key = secret.includes('-----BEGIN')
      ? createPublicKey(secret)
      : createPublicKey({ key: fromBase64(secret.replace(/\s+/g, '')) ?? Buffer.alloc(0), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? key : undefined;
  } catch {
    return undefined;
  }
}

function verifySendgrid(secret: string, request: WebhookRequest, now: Date): SchemeVerdict {
  const signature = header(request, SIGNATURE);
  const timestamp = header(request, TIMESTAMP);
  if (signature === undefined) return fail(missing(SIGNATURE));
  if (timestamp === undefined) return fail(missing(TIMESTAMP));
  const seconds = parseUnixSeconds(timestamp);
  if (seconds === undefined) return fail(malformed(TIMESTAMP, '<unix seconds>'));
  const sig = fromBase64(signature);
  if (sig === undefined) return fail(malformed(SIGNATURE, '<base64 DER ECDSA signature>'));
  const key = sendgridPublicKey(secret);
  if (!key) return fail('the configured secret is not a SendGrid verification key (base64 EC P-256 public key)');
  let ok = false;
  try {
    ok = verifySignature('sha256', Buffer.concat([Buffer.from(timestamp), request.body]), { key, dsaEncoding: 'der' }, sig);
  } catch {
    ok = false;
  }
  if (!ok) return fail('ECDSA signature does not verify with the configured public key (tampered body, wrong key, or not from SendGrid)');
  const stale = timestampProblem(seconds, now, FALLBACK_WINDOW_SECONDS);
  if (stale) return fail(stale);
  // ECDSA signatures are malleable (s ↔ n−s), so remember what was signed, not the signature bytes.
  return pass(createHash('sha256').update(timestamp).update('\n').update(request.body).digest('hex'));
}

export const sendgridVerifier: SchemeVerifier = {
  describe: `${SIGNATURE} + ${TIMESTAMP}: ECDSA P-256/SHA-256 over timestamp + raw body, key = the public verification key, 180 s tolerance`,
  verify: verifySendgrid,
};
