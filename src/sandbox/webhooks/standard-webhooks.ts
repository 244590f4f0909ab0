/**
 * Family C: Standard Webhooks / Svix (svix, clerk, brex). HMAC-SHA256 over `id.timestamp.body`
 * with the base64-decoded `whsec_…` secret; the signature header is a space-separated list of
 * `v1,<base64>` entries, any of which may match. Headers are `svix-*` or the white-label
 * `webhook-*`. Timestamps more than 5 minutes off either way are refused, and a message id is
 * remembered for that window, so a replay (even with a fresh timestamp it cannot re-sign) fails.
 */
import {
  MISMATCH,
  fail,
  firstMatch,
  fromBase64,
  header,
  hmac,
  malformed,
  missing,
  parseUnixSeconds,
  pass,
  timestampProblem,
  type SchemeVerdict,
  type SchemeVerifier,
  type WebhookRequest,
} from './scheme.js';

export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300;

/** The key bytes of a Standard Webhooks secret (`whsec_` + base64), or undefined. */
export function standardWebhooksKey(secret: string): Buffer | undefined {
  return fromBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
}

function verify(secret: string, request: WebhookRequest, now: Date): SchemeVerdict {
  const prefix = header(request, 'svix-signature') !== undefined || header(request, 'svix-id') !== undefined ? 'svix' : 'webhook';
  const id = header(request, `${prefix}-id`);
  const timestamp = header(request, `${prefix}-timestamp`);
  const signature = header(request, `${prefix}-signature`);
  if (signature === undefined) return fail(missing(`${prefix}-signature`));
  if (id === undefined) return fail(missing(`${prefix}-id`));
  if (timestamp === undefined) return fail(missing(`${prefix}-timestamp`));
  const seconds = parseUnixSeconds(timestamp);
  if (seconds === undefined) return fail(malformed(`${prefix}-timestamp`, '<unix seconds>'));
  const sigs: Buffer[] = [];
  for (const entry of signature.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue; // other versions (v1a = Ed25519) are skipped
    const bytes = fromBase64(entry.slice(comma + 1));
    if (bytes !== undefined) sigs.push(bytes);
  }
  if (sigs.length === 0) return fail(malformed(`${prefix}-signature`, 'v1,<base64> (space-separated list)'));
  const key = standardWebhooksKey(secret);
  if (key === undefined) return fail('the configured secret is not a whsec_<base64> signing secret');
  const expected = hmac('sha256', key, id, '.', timestamp, '.', request.body);
  if (!firstMatch(expected, sigs)) return fail(MISMATCH);
  const stale = timestampProblem(seconds, now, STANDARD_WEBHOOKS_TOLERANCE_SECONDS);
  if (stale) return fail(stale);
  // The message id is signed, so remembering it refuses a replay of the same message.
  return pass(`id:${id}`, STANDARD_WEBHOOKS_TOLERANCE_SECONDS);
}

export const standardWebhooksVerifier: SchemeVerifier = {
  describe: 'svix-id/-timestamp/-signature (or webhook-*): v1,<base64> HMAC-SHA256 over id.timestamp.body, key = base64-decoded whsec_ secret, 300 s tolerance',
  verify,
};
