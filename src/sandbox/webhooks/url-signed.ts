/**
 * Family D: schemes that sign the URL the provider called (Twilio, Square, HubSpot). They need
 * the exact public URL as the edge saw it (scheme, host, port, path, query order), which is why
 * {@link WebhookRequest.url} is the absolute public URL, not the upstream one.
 */
import { createHash } from 'node:crypto';
import {
  FALLBACK_WINDOW_SECONDS,
  MISMATCH,
  absoluteUrl,
  bytesEqual,
  fail,
  firstMatch,
  fromBase64,
  fromHex,
  header,
  hmac,
  malformed,
  missing,
  pass,
  timestampProblem,
  type SchemeVerdict,
  type SchemeVerifier,
  type WebhookRequest,
} from './scheme.js';

// ----------------------------------------------------------------------------------------- Twilio

/** The same URL written with and without the scheme's default port: Twilio may have signed either. */
function urlVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/?#:]+|\[[^\]]+\])(?::(\d+))?(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, host, port, rest] = m;
  const defaultPort = scheme!.toLowerCase() === 'https' ? '443' : '80';
  if (port === undefined) return [url, `${scheme}://${host}:${defaultPort}${rest}`];
  if (port === defaultPort) return [url, `${scheme}://${host}${rest}`];
  return [url];
}

/** `url + name1 + value1 + …` with names sorted, and a repeated name's values sorted. */
export function twilioSignedText(url: string, params: URLSearchParams | undefined): string {
  if (!params) return url;
  const byName = new Map<string, string[]>();
  for (const [name, value] of params) byName.set(name, [...(byName.get(name) ?? []), value]);
  let text = url;
  for (const name of [...byName.keys()].sort()) for (const value of byName.get(name)!.sort()) text += name + value;
  return text;
}

function verifyTwilio(secret: string, request: WebhookRequest): SchemeVerdict {
  const signature = header(request, 'x-twilio-signature');
  if (signature === undefined) return fail(missing('X-Twilio-Signature'));
  const sig = fromBase64(signature);
  if (sig === undefined) return fail(malformed('X-Twilio-Signature', '<base64>'));
  const settings = header(request, 'x-twilio-webhooks-signature-settings') ?? '';
  const algorithm = /algorithm=HMAC_SHA256/i.test(settings) ? 'sha256' : 'sha1';
  const url = absoluteUrl(request);
  const bodyHash = new URL(url).searchParams.get('bodySHA256');
  const contentType = header(request, 'content-type') ?? '';
  let params: URLSearchParams | undefined;
  if (bodyHash !== null) {
    // JSON (non-form) bodies: the URL carries the body's SHA-256, and the URL alone is signed.
    const expectedHash = createHash('sha256').update(request.body).digest();
    const given = fromHex(bodyHash);
    if (given === undefined || !bytesEqual(expectedHash, given)) return fail('bodySHA256 in the URL does not match the body (tampered body)');
  } else if (/application\/x-www-form-urlencoded/i.test(contentType)) {
    params = new URLSearchParams(request.body.toString('utf8'));
  } else if (request.body.length > 0) {
    return fail('a Twilio request with a non-form body must carry bodySHA256 in its URL');
  }
  const expected = urlVariants(url).map((u) => hmac(algorithm, secret, twilioSignedText(u, params)));
  let matched = false;
  for (const candidate of expected) if (bytesEqual(candidate, sig)) matched = true;
  if (!matched) return fail(`${MISMATCH}; Twilio signs the exact public URL, so it must be the URL set in Twilio`);
  return pass(sig.toString('hex'));
}

// ----------------------------------------------------------------------------------------- Square

function verifySquare(secret: string, request: WebhookRequest): SchemeVerdict {
  const signature = header(request, 'x-square-hmacsha256-signature');
  if (signature === undefined) return fail(missing('x-square-hmacsha256-signature'));
  const sig = fromBase64(signature);
  if (sig === undefined) return fail(malformed('x-square-hmacsha256-signature', '<base64>'));
  const expected = hmac('sha256', secret, absoluteUrl(request), request.body);
  if (!bytesEqual(expected, sig)) return fail(`${MISMATCH}; Square signs the notification URL, so it must be the URL set in Square`);
  return pass(sig.toString('hex'));
}

// ---------------------------------------------------------------------------------------- HubSpot

const HUBSPOT_V3_TOLERANCE_SECONDS = 300;
/** Characters HubSpot's docs say to decode in the URI before signing (v3). */
const HUBSPOT_DECODE: Record<string, string> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};
const hubspotUri = (url: string) => url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => HUBSPOT_DECODE[m.toUpperCase()] ?? m);

function verifyHubspot(secret: string, request: WebhookRequest, now: Date): SchemeVerdict {
  const v3 = header(request, 'x-hubspot-signature-v3');
  const method = request.method.toUpperCase();
  if (v3 !== undefined) {
    const timestamp = header(request, 'x-hubspot-request-timestamp');
    if (timestamp === undefined) return fail(missing('X-HubSpot-Request-Timestamp'));
    const ms = /^\d{1,15}$/.test(timestamp.trim()) ? Number(timestamp.trim()) : undefined;
    if (ms === undefined) return fail(malformed('X-HubSpot-Request-Timestamp', '<unix milliseconds>'));
    const sig = fromBase64(v3);
    if (sig === undefined) return fail(malformed('X-HubSpot-Signature-v3', '<base64>'));
    const expected = hmac('sha256', secret, method, hubspotUri(absoluteUrl(request)), request.body, timestamp);
    if (!bytesEqual(expected, sig)) return fail(MISMATCH);
    const stale = timestampProblem(ms / 1000, now, HUBSPOT_V3_TOLERANCE_SECONDS);
    if (stale) return fail(stale);
    return pass(sig.toString('hex'), HUBSPOT_V3_TOLERANCE_SECONDS);
  }
  const signature = header(request, 'x-hubspot-signature');
  if (signature === undefined) return fail(missing('X-HubSpot-Signature-v3'));
  const version = (header(request, 'x-hubspot-signature-version') ?? 'v1').trim().toLowerCase();
  const sig = fromHex(signature);
  if (sig === undefined) return fail(malformed('X-HubSpot-Signature', '<hex>'));
  // v1/v2 are plain SHA-256 hashes with the secret prepended (not HMACs), as HubSpot defines them.
  const hash = createHash('sha256').update(secret);
  if (version === 'v2') hash.update(method).update(absoluteUrl(request));
  else if (version !== 'v1') return fail(`unknown X-HubSpot-Signature-Version ${JSON.stringify(version.slice(0, 10))}`);
  const expected = hash.update(request.body).digest();
  if (!firstMatch(expected, [sig])) return fail(MISMATCH);
  return pass(sig.toString('hex'), FALLBACK_WINDOW_SECONDS);
}

export const twilioVerifier: SchemeVerifier = {
  describe: 'X-Twilio-Signature: base64 HMAC-SHA1 (SHA-256 when the signature-settings header says so) over the public URL + sorted form fields, or the URL with bodySHA256 for JSON',
  verify: verifyTwilio,
};
export const squareVerifier: SchemeVerifier = {
  describe: 'x-square-hmacsha256-signature: base64 HMAC-SHA256 over the public notification URL + raw body',
  verify: verifySquare,
};
export const hubspotVerifier: SchemeVerifier = {
  describe: 'X-HubSpot-Signature-v3 (base64 HMAC-SHA256 over method + URI + body + timestamp, 300 s) or v1/v2 (SHA-256 of secret + [method + URI +] body)',
  verify: verifyHubspot,
};
