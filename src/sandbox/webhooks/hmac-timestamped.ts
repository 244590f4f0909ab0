/**
 * Family B (webhook-providers.md §3): an HMAC over a signed timestamp joined to the raw body.
 * The timestamp must lie within the provider's tolerance (ngrok's 180 s fallback where the
 * provider documents none), and a signature is remembered for that window so a replay inside
 * it is refused too.
 */
import {
  FALLBACK_WINDOW_SECONDS,
  MISMATCH,
  decode,
  fail,
  firstMatch,
  header,
  hmac,
  malformed,
  missing,
  parseIsoSeconds,
  parseUnixSeconds,
  pass,
  timestampProblem,
  type Encoding,
  type HandshakeResponse,
  type SchemeVerdict,
  type SchemeVerifier,
  type WebhookRequest,
} from './scheme.js';

interface Parsed {
  timestampText: string;
  signatures: string[];
}

export interface HmacTimestampedSpec {
  signatureHeaders: readonly string[];
  /** Separate timestamp header; absent when the timestamp sits inside the signature header. */
  timestampHeader?: string;
  timestampFormat: 'unix' | 'iso';
  encoding: Encoding;
  /** Splits the signature header (and the timestamp, when it lives there). Undefined when malformed. */
  parse(signatureHeader: string, timestampHeader: string | undefined): Parsed | undefined;
  expectedForm: string;
  /** The signed bytes, in words (for docs and descriptions). */
  signedForm: string;
  /** The signed bytes. */
  signed(timestamp: string, body: Buffer): Array<string | Buffer>;
  toleranceSeconds: number;
  handshake?: (secret: string, request: WebhookRequest, now: Date, verify: SchemeVerifier['verify']) => HandshakeResponse | undefined;
}

/** `t=…,v1=…[,v1=…]` (Stripe, Calendly, Mux) and lookalikes with other key names. */
const keyValueList = (timestampKey: string, signatureKey: string) => (value: string): Parsed | undefined => {
  let timestampText: string | undefined;
  const signatures: string[] = [];
  for (const item of value.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const k = item.slice(0, eq).trim();
    const v = item.slice(eq + 1).trim();
    if (k === timestampKey) timestampText = v;
    else if (k === signatureKey) signatures.push(v);
  }
  return timestampText === undefined || signatures.length === 0 ? undefined : { timestampText, signatures };
};

/** `v0=<hex>` in one header, the timestamp in another (Slack, Zoom, Frame.io, Pinwheel). */
const versioned = (version: string) => (value: string, ts: string | undefined): Parsed | undefined => {
  const items = value.split(/[\s,]+/).filter((i) => i.startsWith(`${version}=`));
  return ts === undefined || items.length === 0 ? undefined : { timestampText: ts, signatures: items.map((i) => i.slice(version.length + 1)) };
};

const plain = (value: string, ts: string | undefined): Parsed | undefined => (ts === undefined ? undefined : { timestampText: ts, signatures: [value.trim()] });

const stripeLike = (headerName: string, toleranceSeconds: number, tKey = 't', sigKey = 'v1'): HmacTimestampedSpec => ({
  signatureHeaders: [headerName],
  timestampFormat: 'unix',
  encoding: 'hex',
  parse: keyValueList(tKey, sigKey),
  expectedForm: `${tKey}=<unix>,${sigKey}=<hex>`,
  signedForm: 'timestamp + "." + body',
  signed: (t, body) => [t, '.', body],
  toleranceSeconds,
});

const colonJoined = (name: string, tsHeader: string, version: string, toleranceSeconds: number): HmacTimestampedSpec => ({
  signatureHeaders: [name],
  timestampHeader: tsHeader,
  timestampFormat: 'unix',
  encoding: 'hex',
  parse: versioned(version),
  expectedForm: `${version}=<hex>`,
  signedForm: `"${version}:" + timestamp + ":" + body`,
  signed: (t, body) => [`${version}:`, t, ':', body],
  toleranceSeconds,
});

/**
 * Zoom's `endpoint.url_validation`, which ngrok answers itself: reply with the plain token and its
 * HMAC. That answer is an HMAC of caller-chosen text under the signing key, so it is only given to
 * a request that itself carries a valid, fresh Zoom signature (Zoom signs these requests).
 */
function zoomUrlValidation(secret: string, request: WebhookRequest, now: Date, verify: SchemeVerifier['verify']): HandshakeResponse | undefined {
  if (request.method.toUpperCase() !== 'POST') return undefined;
  let event: unknown;
  try {
    event = JSON.parse(request.body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (event === null || typeof event !== 'object' || (event as Record<string, unknown>)['event'] !== 'endpoint.url_validation') return undefined;
  const payload = (event as Record<string, unknown>)['payload'];
  const plainToken = payload !== null && typeof payload === 'object' ? (payload as Record<string, unknown>)['plainToken'] : undefined;
  if (typeof plainToken !== 'string') return undefined;
  if (!verify(secret, request, now).ok) return undefined; // not answered: the normal check then refuses it
  const encryptedToken = hmac('sha256', secret, plainToken).toString('hex');
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ plainToken, encryptedToken })) };
}

/** Every family-B provider the sandbox verifies, with its tolerance (webhook-providers.md §4–§5). */
export const HMAC_TIMESTAMPED_SPECS = {
  stripe: stripeLike('stripe-signature', 300),
  calendly: stripeLike('calendly-webhook-signature', FALLBACK_WINDOW_SECONDS),
  mux: stripeLike('mux-signature', 300),
  tiktok: stripeLike('tiktok-signature', FALLBACK_WINDOW_SECONDS, 't', 's'),
  buildkite: stripeLike('x-buildkite-signature', FALLBACK_WINDOW_SECONDS, 'timestamp', 'signature'),
  slack: colonJoined('x-slack-signature', 'x-slack-request-timestamp', 'v0', 300),
  zoom: { ...colonJoined('x-zm-signature', 'x-zm-request-timestamp', 'v0', FALLBACK_WINDOW_SECONDS), handshake: zoomUrlValidation },
  frameio: colonJoined('x-frameio-signature', 'x-frameio-request-timestamp', 'v0', 300),
  pinwheel: colonJoined('x-pinwheel-signature', 'x-timestamp', 'v2', FALLBACK_WINDOW_SECONDS),
  airship: {
    signatureHeaders: ['x-ua-signature'],
    timestampHeader: 'x-ua-timestamp',
    timestampFormat: 'unix',
    encoding: 'hex',
    parse: plain,
    expectedForm: '<hex>',
    signedForm: 'timestamp + ":" + body',
    signed: (t, body) => [t, ':', body],
    toleranceSeconds: FALLBACK_WINDOW_SECONDS,
  },
  zendesk: {
    signatureHeaders: ['x-zendesk-webhook-signature'],
    timestampHeader: 'x-zendesk-webhook-signature-timestamp',
    timestampFormat: 'iso',
    encoding: 'base64',
    parse: plain,
    expectedForm: '<base64>',
    signedForm: 'timestamp + body (ISO-8601 timestamp)',
    signed: (t, body) => [t, body],
    toleranceSeconds: FALLBACK_WINDOW_SECONDS,
  },
  box: {
    // Box signs with a primary and a secondary key; ngrok takes one secret, which may match either.
    signatureHeaders: ['box-signature-primary', 'box-signature-secondary'],
    timestampHeader: 'box-delivery-timestamp',
    timestampFormat: 'iso',
    encoding: 'base64',
    parse: plain,
    expectedForm: '<base64>',
    signedForm: 'body + timestamp (ISO-8601; primary or secondary key header)',
    signed: (t, body) => [body, t],
    toleranceSeconds: 600,
  },
  orb: {
    signatureHeaders: ['x-orb-signature'],
    timestampHeader: 'x-orb-timestamp',
    timestampFormat: 'iso',
    encoding: 'hex',
    parse: versioned('v1'),
    expectedForm: 'v1=<hex> (space-separated list)',
    signedForm: '"v1:" + timestamp + ":" + body (ISO-8601 timestamp, UTC)',
    signed: (t, body) => ['v1:', t, ':', body],
    toleranceSeconds: 300,
  },
} satisfies Record<string, HmacTimestampedSpec>;

/** A verifier for one row of {@link HMAC_TIMESTAMPED_SPECS}. */
export function hmacTimestampedVerifier(spec: HmacTimestampedSpec): SchemeVerifier {
  const sigName = spec.signatureHeaders[0] ?? '';
  const verify = (secret: string, request: WebhookRequest, now: Date): SchemeVerdict => {
    const present = spec.signatureHeaders.map((n) => ({ name: n, value: header(request, n) })).filter((h) => h.value !== undefined);
    if (present.length === 0) return fail(missing(sigName));
    const tsValue = spec.timestampHeader ? header(request, spec.timestampHeader) : undefined;
    if (spec.timestampHeader && tsValue === undefined) return fail(missing(spec.timestampHeader));
    const parsed = present.map((h) => spec.parse(h.value!, tsValue));
    if (parsed.some((p) => p === undefined)) return fail(malformed(present[0]!.name, spec.expectedForm));
    const first = parsed[0]!;
    const seconds = spec.timestampFormat === 'unix' ? parseUnixSeconds(first.timestampText) : parseIsoSeconds(first.timestampText);
    if (seconds === undefined) return fail(`malformed timestamp ${JSON.stringify(first.timestampText.slice(0, 40))}`);
    const sigs: Buffer[] = [];
    for (const text of parsed.flatMap((p) => p!.signatures)) {
      const bytes = decode(spec.encoding, text);
      if (bytes !== undefined) sigs.push(bytes);
    }
    if (sigs.length === 0) return fail(malformed(present[0]!.name, spec.expectedForm));
    const expected = hmac('sha256', secret, ...spec.signed(first.timestampText, request.body));
    const matched = firstMatch(expected, sigs);
    if (!matched) return fail(MISMATCH);
    // Checked after the signature, so a stale genuine delivery says "stale" rather than "mismatch".
    const stale = timestampProblem(seconds, now, spec.toleranceSeconds);
    if (stale) return fail(stale);
    return pass(matched.toString('hex'), spec.toleranceSeconds);
  };
  return {
    describe: `${sigName}${spec.timestampHeader ? ` + ${spec.timestampHeader}` : ''}: ${spec.expectedForm}, ${spec.encoding} HMAC-SHA256 over ${spec.signedForm}, ${spec.toleranceSeconds} s tolerance`,
    verify,
    ...(spec.handshake ? { handshake: (secret: string, request: WebhookRequest, now: Date) => spec.handshake!(secret, request, now, verify) } : {}),
  };
}
