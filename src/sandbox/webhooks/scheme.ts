/**
 * Shared pieces of the sandbox's webhook verifiers: the request shape, what a scheme returns,
 * and the small crypto helpers every family uses (constant-time compare, strict decoding,
 * timestamp windows). Each family module (hmac-body, hmac-timestamped, standard-webhooks,
 * url-signed, signature-in-body, ecdsa, shared-token) builds on these.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A request as the edge received it; `body` is the raw bytes on the wire, never re-serialized. */
export interface WebhookRequest {
  method: string;
  /**
   * The URL the provider called. URL-bound schemes (Twilio, Square, HubSpot) need it absolute and
   * exactly as the provider saw it (`https://host[:port]/path?query`); a bare path is completed
   * from the Host header with `https://`.
   */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What one scheme decides about one request. */
export type SchemeVerdict =
  | {
      ok: true;
      /** What identifies this delivery for replay protection (e.g. the matched signature bytes, hex). */
      replayKey: string;
      /** How long to remember it: the scheme's timestamp tolerance, or ngrok's 180 s fallback. */
      replayWindowSeconds: number;
    }
  | { ok: false; error: string };

/** A response the edge sends itself instead of forwarding (provider endpoint-verification handshakes). */
export interface HandshakeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** One provider's verifier. Pure: no clock or state except what is passed in. */
export interface SchemeVerifier {
  /** Human name of the scheme, for docs/webhooks.md and error text. */
  readonly describe: string;
  verify(secret: string, request: WebhookRequest, now: Date): SchemeVerdict;
  /** When the request is the provider's endpoint-verification handshake that ngrok answers itself. */
  handshake?(secret: string, request: WebhookRequest, now: Date): HandshakeResponse | undefined;
}

/** ngrok's documented fallback window when a provider documents none (webhook-providers.md §2). */
export const FALLBACK_WINDOW_SECONDS = 180;

export const fail = (error: string): SchemeVerdict => ({ ok: false, error });
export const pass = (replayKey: string, replayWindowSeconds: number = FALLBACK_WINDOW_SECONDS): SchemeVerdict => ({
  ok: true,
  replayKey,
  replayWindowSeconds,
});

/** The value of a header (case-insensitive); repeated headers are joined with `,` as HTTP allows. */
export function header(request: WebhookRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value.join(',') : value;
  }
  return undefined;
}

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** HMAC over the concatenation of `parts`. */
export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, ...parts: Array<string | Buffer>): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Constant-time equality of two byte strings (length is not secret: a signature's size is public). */
export function bytesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Strict hex decoding (either case); undefined for anything that is not whole bytes of hex. */
export function fromHex(text: string): Buffer | undefined {
  const t = text.trim();
  return t.length > 0 && t.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(t) ? Buffer.from(t, 'hex') : undefined;
}

/** Strict standard base64 (padding optional); undefined otherwise. Node's decoder alone ignores junk. */
export function fromBase64(text: string): Buffer | undefined {
  const t = text.trim();
  if (t.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return undefined;
  const bytes = Buffer.from(t, 'base64');
  return bytes.length > 0 ? bytes : undefined;
}

export type Encoding = 'hex' | 'base64';

export const decode = (encoding: Encoding, text: string) => (encoding === 'hex' ? fromHex(text) : fromBase64(text));

/** Constant-time check of `expected` against every candidate; the matching candidate, if any. */
export function firstMatch(expected: Buffer, candidates: readonly Buffer[]): Buffer | undefined {
  let found: Buffer | undefined;
  // Compare against all of them so the time taken does not depend on which one matched.
  for (const candidate of candidates) if (bytesEqual(expected, candidate) && !found) found = candidate;
  return found;
}

/** Parses a Unix-seconds timestamp (digits only). */
export function parseUnixSeconds(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,12}$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

/** Parses an ISO-8601 timestamp; one without a zone is read as UTC (Orb). Seconds since the epoch. */
export function parseIsoSeconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.test(t)) return undefined;
  const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? t : `${t}Z`);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

/**
 * Freshness of a signed timestamp: rejected when more than `toleranceSeconds` away from `now` in
 * either direction (a far-future timestamp would otherwise stay replayable for as long).
 */
export function timestampProblem(seconds: number, now: Date, toleranceSeconds: number): string | undefined {
  const skew = Math.round(now.getTime() / 1000 - seconds);
  if (Math.abs(skew) <= toleranceSeconds) return undefined;
  return skew > 0
    ? `timestamp is ${skew} s old, outside the ${toleranceSeconds} s tolerance (stale or replayed delivery)`
    : `timestamp is ${-skew} s in the future, outside the ${toleranceSeconds} s tolerance`;
}

/** The absolute URL the provider called (see {@link WebhookRequest.url}). */
export function absoluteUrl(request: WebhookRequest): string {
  if (/^https?:\/\//i.test(request.url)) return request.url;
  const host = header(request, 'host') ?? 'localhost';
  return `https://${host}${request.url.startsWith('/') ? '' : '/'}${request.url}`;
}

export const missing = (name: string) => `missing ${name} header`;
export const malformed = (name: string, expected: string) => `malformed ${name} header (expected ${expected})`;
export const MISMATCH = 'signature does not match the body and secret (tampered body, wrong secret, or not from the provider)';
