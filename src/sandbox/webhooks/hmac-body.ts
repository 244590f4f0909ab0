/**
 * Family A (webhook-providers.md §3): an HMAC over the raw body, carried in one header. The
 * providers differ only in header name, hash, encoding, prefix, list syntax and key handling,
 * so each is one row of {@link HMAC_BODY_SPECS}. No timestamp is signed, so replay protection
 * can only remember signatures already accepted (for ngrok's 180 s fallback window).
 */
import {
  FALLBACK_WINDOW_SECONDS,
  MISMATCH,
  decode,
  fail,
  firstMatch,
  fromBase64,
  header,
  hmac,
  malformed,
  missing,
  pass,
  timestampProblem,
  type Encoding,
  type HandshakeResponse,
  type HmacAlgorithm,
  type SchemeVerdict,
  type SchemeVerifier,
  type WebhookRequest,
} from './scheme.js';

export interface HmacBodySpec {
  /** Header names tried in order; the first one present is used. */
  headers: readonly string[];
  algorithm: HmacAlgorithm;
  encoding: Encoding;
  /** Text before the signature, e.g. `sha256=` (matched case-insensitively). */
  prefix?: string;
  /** The header is a list: split on this, keep items starting with `prefix`, any may match. */
  listSeparator?: RegExp;
  /** Header names with a numeric suffix, any of which may match (DocuSign `X-DocuSign-Signature-1..N`). */
  numberedHeaders?: string;
  /** The secret is base64 and the key is its decoded bytes (Microsoft Teams). */
  base64Key?: boolean;
  /** Extra freshness check on the verified body (Linear's signed `webhookTimestamp`). */
  freshness?: (body: Buffer, now: Date) => { problem?: string; windowSeconds: number };
  handshake?: (secret: string, request: WebhookRequest) => HandshakeResponse | undefined;
}

const json = (status: number, value: unknown): HandshakeResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(value)),
});

/** Linear signs `webhookTimestamp` (ms) inside the body; its SDK allows 60 s either way. */
const LINEAR_WINDOW_SECONDS = 60;
function linearFreshness(body: Buffer, now: Date): { problem?: string; windowSeconds: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { problem: 'body is not JSON, so its signed webhookTimestamp cannot be checked', windowSeconds: LINEAR_WINDOW_SECONDS };
  }
  const ms = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)['webhookTimestamp'] : undefined;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    return { problem: 'body has no numeric webhookTimestamp', windowSeconds: LINEAR_WINDOW_SECONDS };
  }
  return { problem: timestampProblem(ms / 1000, now, LINEAR_WINDOW_SECONDS), windowSeconds: LINEAR_WINDOW_SECONDS };
}

/**
 * X's Challenge-Response Check (`GET ?crc_token=T`), which ngrok answers itself. The answer is
 * an HMAC of caller-chosen text under the same key that signs bodies, i.e. a signing oracle; the
 * sandbox therefore only answers tokens made of base64/base64url characters (what X sends), which
 * can never be a JSON webhook body.
 */
function twitterCrc(secret: string, request: WebhookRequest): HandshakeResponse | undefined {
  if (request.method.toUpperCase() !== 'GET') return undefined;
  const token = new URL(request.url, 'https://sandbox.invalid').searchParams.get('crc_token');
  if (token === null) return undefined;
  if (!/^[A-Za-z0-9+/=_-]{1,256}$/.test(token)) return json(400, { error: 'crc_token must be a base64 string of at most 256 characters' });
  return json(200, { response_token: `sha256=${hmac('sha256', secret, token).toString('base64')}` });
}

/** Worldline's endpoint verification (a GET echoing a header), which ngrok answers itself. */
function worldlineVerification(_secret: string, request: WebhookRequest): HandshakeResponse | undefined {
  const value = header(request, 'x-gcs-webhooks-endpoint-verification');
  if (request.method.toUpperCase() !== 'GET' || value === undefined) return undefined;
  return { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from(value) };
}

const hubSha256Hex: HmacBodySpec = { headers: ['x-hub-signature-256'], algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' };

/** Every family-A provider the sandbox verifies (webhook-providers.md §4–§5; ✖ rows left out). */
export const HMAC_BODY_SPECS = {
  aftership: { headers: ['aftership-hmac-sha256'], algorithm: 'sha256', encoding: 'base64' },
  alchemy: { headers: ['x-alchemy-signature'], algorithm: 'sha256', encoding: 'hex' },
  bitbucket: { headers: ['x-hub-signature'], algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' },
  bolt: { headers: ['x-bolt-hmac-sha256'], algorithm: 'sha256', encoding: 'base64' },
  chargify: { headers: ['x-chargify-webhook-signature-hmac-sha-256'], algorithm: 'sha256', encoding: 'hex' },
  circleci: { headers: ['circleci-signature'], algorithm: 'sha256', encoding: 'hex', prefix: 'v1=', listSeparator: /,/ },
  coinbase: { headers: ['x-cc-webhook-signature'], algorithm: 'sha256', encoding: 'hex' },
  docusign: { headers: [], numberedHeaders: 'x-docusign-signature-', algorithm: 'sha256', encoding: 'base64' },
  dropbox: { headers: ['x-dropbox-signature'], algorithm: 'sha256', encoding: 'hex' },
  facebook_graph_api: hubSha256Hex,
  facebook_messenger: hubSha256Hex,
  github: hubSha256Hex,
  heroku: { headers: ['heroku-webhook-hmac-sha256'], algorithm: 'sha256', encoding: 'base64' },
  instagram: hubSha256Hex,
  intercom: { headers: ['x-hub-signature'], algorithm: 'sha1', encoding: 'hex', prefix: 'sha1=' },
  jira: { headers: ['x-hub-signature'], algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' },
  launch_darkly: { headers: ['x-ld-signature'], algorithm: 'sha256', encoding: 'hex' },
  linear: { headers: ['linear-signature'], algorithm: 'sha256', encoding: 'hex', freshness: linearFreshness },
  microsoft_teams: { headers: ['authorization'], algorithm: 'sha256', encoding: 'base64', prefix: 'HMAC ', base64Key: true },
  modern_treasury: { headers: ['x-signature'], algorithm: 'sha256', encoding: 'hex' },
  pagerduty: { headers: ['x-pagerduty-signature'], algorithm: 'sha256', encoding: 'hex', prefix: 'v1=', listSeparator: /,/ },
  pusher: { headers: ['x-pusher-signature'], algorithm: 'sha256', encoding: 'hex' },
  sentry: { headers: ['sentry-hook-signature'], algorithm: 'sha256', encoding: 'hex' },
  shopify: { headers: ['x-shopify-hmac-sha256', 'shopify-hmac-sha256'], algorithm: 'sha256', encoding: 'base64' },
  sonatype: { headers: ['x-nexus-webhook-signature'], algorithm: 'sha1', encoding: 'hex' },
  terraform: { headers: ['x-tfe-notification-signature'], algorithm: 'sha512', encoding: 'hex' },
  twitter: { headers: ['x-twitter-webhooks-signature'], algorithm: 'sha256', encoding: 'base64', prefix: 'sha256=', handshake: twitterCrc },
  typeform: { headers: ['typeform-signature'], algorithm: 'sha256', encoding: 'base64', prefix: 'sha256=' },
  webex: { headers: ['x-spark-signature'], algorithm: 'sha1', encoding: 'hex' },
  whatsapp: hubSha256Hex,
  worldline: { headers: ['x-gcs-signature'], algorithm: 'sha256', encoding: 'base64', handshake: worldlineVerification },
  xero: { headers: ['x-xero-signature'], algorithm: 'sha256', encoding: 'base64' },
} satisfies Record<string, HmacBodySpec>;

function signatureHeaders(spec: HmacBodySpec, request: WebhookRequest): Array<{ name: string; value: string }> {
  if (spec.numberedHeaders) {
    const prefix = spec.numberedHeaders;
    return Object.keys(request.headers)
      .filter((k) => k.toLowerCase().startsWith(prefix) && /^\d{1,3}$/.test(k.slice(prefix.length)))
      .map((k) => ({ name: k, value: header(request, k) ?? '' }));
  }
  for (const name of spec.headers) {
    const value = header(request, name);
    if (value !== undefined) return [{ name, value }];
  }
  return [];
}

function candidates(spec: HmacBodySpec, values: readonly string[]): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (const value of values) {
    const items = spec.listSeparator ? value.split(spec.listSeparator) : [value];
    for (const raw of items) {
      const item = raw.trim();
      const prefix = spec.prefix;
      if (prefix !== undefined) {
        if (item.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) {
          if (spec.listSeparator) continue; // another version's entry: skip it
          return undefined;
        }
      }
      const bytes = decode(spec.encoding, prefix === undefined ? item : item.slice(prefix.length));
      if (bytes === undefined) return undefined;
      out.push(bytes);
    }
  }
  return out;
}

/** A verifier for one row of {@link HMAC_BODY_SPECS}. */
export function hmacBodyVerifier(spec: HmacBodySpec): SchemeVerifier {
  const headerLabel = spec.numberedHeaders ? `${spec.numberedHeaders}N` : spec.headers[0] ?? '';
  const expectedForm = `${spec.prefix ?? ''}<${spec.encoding} HMAC-${spec.algorithm.toUpperCase()}>${spec.listSeparator ? ' (list)' : ''}`;
  return {
    describe: `${headerLabel}: ${expectedForm} of the raw body`,
    verify(secret, request, now): SchemeVerdict {
      const found = signatureHeaders(spec, request);
      if (found.length === 0) return fail(missing(headerLabel));
      const sigs = candidates(spec, found.map((f) => f.value));
      if (sigs === undefined) return fail(malformed(found[0]!.name, expectedForm));
      if (sigs.length === 0) return fail(malformed(found[0]!.name, expectedForm));
      let key: string | Buffer = secret;
      if (spec.base64Key) {
        const decoded = fromBase64(secret);
        if (decoded === undefined) return fail('the configured secret is not base64, as this provider\'s security token is');
        key = decoded;
      }
      const expected = hmac(spec.algorithm, key, request.body);
      const matched = firstMatch(expected, sigs);
      if (!matched) return fail(MISMATCH);
      let window = FALLBACK_WINDOW_SECONDS;
      if (spec.freshness) {
        const fresh = spec.freshness(request.body, now);
        if (fresh.problem) return fail(fresh.problem);
        window = fresh.windowSeconds;
      }
      return pass(matched.toString('hex'), window);
    },
    ...(spec.handshake ? { handshake: (secret: string, request: WebhookRequest) => spec.handshake!(secret, request) } : {}),
  };
}
