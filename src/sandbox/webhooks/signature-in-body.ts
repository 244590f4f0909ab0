/**
 * Family E: the signature travels inside the body. Mailgun signs `timestamp + token` (the event
 * itself is not covered) and puts `{timestamp, token, signature}` in the JSON body's `signature`
 * object, or in form fields for legacy webhooks. Mailgun advises remembering tokens against
 * replays; the sandbox remembers them for ngrok's 180 s window and refuses older timestamps.
 */
import {
  FALLBACK_WINDOW_SECONDS,
  MISMATCH,
  bytesEqual,
  fail,
  fromHex,
  header,
  hmac,
  parseUnixSeconds,
  pass,
  timestampProblem,
  type SchemeVerdict,
  type SchemeVerifier,
  type WebhookRequest,
} from './scheme.js';

function fields(request: WebhookRequest): { timestamp?: string; token?: string; signature?: string } | undefined {
  const contentType = header(request, 'content-type') ?? '';
  const text = request.body.toString('utf8');
  if (/application\/x-www-form-urlencoded/i.test(contentType)) {
    const form = new URLSearchParams(text);
    return { timestamp: form.get('timestamp') ?? undefined, token: form.get('token') ?? undefined, signature: form.get('signature') ?? undefined };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const sig = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)['signature'] : undefined;
  if (sig === null || typeof sig !== 'object') return undefined;
  const s = sig as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  return { timestamp: str(s['timestamp']), token: str(s['token']), signature: str(s['signature']) };
}

function verifyMailgun(secret: string, request: WebhookRequest, now: Date): SchemeVerdict {
  const f = fields(request);
  if (!f) return fail('body carries no Mailgun signature object (expected JSON {"signature":{timestamp,token,signature}} or form fields)');
  if (f.timestamp === undefined || f.token === undefined || f.signature === undefined) {
    return fail('Mailgun signature object lacks timestamp, token or signature');
  }
  const seconds = parseUnixSeconds(f.timestamp);
  if (seconds === undefined) return fail('malformed Mailgun timestamp (expected unix seconds)');
  const sig = fromHex(f.signature);
  if (sig === undefined) return fail('malformed Mailgun signature (expected hex)');
  if (!bytesEqual(hmac('sha256', secret, f.timestamp, f.token), sig)) return fail(MISMATCH);
  const stale = timestampProblem(seconds, now, FALLBACK_WINDOW_SECONDS);
  if (stale) return fail(stale);
  return pass(`token:${f.token}`);
}

export const mailgunVerifier: SchemeVerifier = {
  describe: 'signature object in the body: hex HMAC-SHA256 over timestamp + token, token remembered, 180 s tolerance',
  verify: verifyMailgun,
};
