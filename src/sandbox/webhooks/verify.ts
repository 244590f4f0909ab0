/**
 * Webhook verification for the sandbox edge's `verify-webhook` action (traffic-policy.md §2.3):
 * the provider's signature over the exact raw bytes, its timestamp tolerance, replay protection,
 * and the endpoint-verification handshakes ngrok answers itself (Zoom, X/Twitter, Worldline).
 *
 * Replay protection: a request that verifies is remembered (by its matched signature, or its
 * signed message id / token) for the scheme's window — the timestamp tolerance, or ngrok's 180 s
 * fallback where nothing is timestamped — and the same delivery presented again inside that window
 * is refused. Outside the window timestamped schemes refuse it as stale. The secret itself never
 * appears in an error.
 */
import { createHash } from 'node:crypto';
import { HMAC_BODY_SPECS, hmacBodyVerifier } from './hmac-body.js';
import { HMAC_TIMESTAMPED_SPECS, hmacTimestampedVerifier } from './hmac-timestamped.js';
import { SANDBOX_WEBHOOK_PROVIDERS, type SandboxWebhookProviderId } from './providers.js';
import { type HandshakeResponse, type SchemeVerifier, type WebhookRequest } from './scheme.js';
import { sendgridVerifier } from './ecdsa.js';
import { gitlabVerifier, vmwareVerifier } from './shared-token.js';
import { mailgunVerifier } from './signature-in-body.js';
import { standardWebhooksVerifier } from './standard-webhooks.js';
import { hubspotVerifier, squareVerifier, twilioVerifier } from './url-signed.js';

export { SANDBOX_WEBHOOK_PROVIDERS } from './providers.js';
export type { HandshakeResponse, WebhookRequest } from './scheme.js';

/** What `verify-webhook` learns about one request. */
export interface WebhookVerification {
  verified: boolean;
  /** Why it failed, in words safe to show (never the secret). */
  error?: string;
}

const mapValues = <K extends string, V>(specs: Record<K, V>, make: (spec: V) => SchemeVerifier) =>
  Object.fromEntries(Object.entries(specs).map(([id, spec]) => [id, make(spec as V)])) as Record<K, SchemeVerifier>;

/** One verifier per provider the sandbox supports; the type makes it cover exactly that list. */
export const WEBHOOK_VERIFIERS: Readonly<Record<SandboxWebhookProviderId, SchemeVerifier>> = Object.freeze({
  ...mapValues(HMAC_BODY_SPECS, hmacBodyVerifier),
  ...mapValues(HMAC_TIMESTAMPED_SPECS, hmacTimestampedVerifier),
  svix: standardWebhooksVerifier,
  clerk: standardWebhooksVerifier,
  brex: standardWebhooksVerifier,
  twilio: twilioVerifier,
  square: squareVerifier,
  hubspot: hubspotVerifier,
  mailgun: mailgunVerifier,
  sendgrid: sendgridVerifier,
  gitlab: gitlabVerifier,
  vmware: vmwareVerifier,
});

const MAX_REMEMBERED = 50_000;

/**
 * A verifier with its own replay memory. The edge keeps one for its lifetime; tests make their
 * own so deliveries from one test never look like replays in another.
 */
export class WebhookVerifier {
  readonly #seen = new Map<string, number>();

  /** Verify one request; see {@link verifyWebhook}. */
  verify(provider: string, secret: string, request: WebhookRequest, now: Date): WebhookVerification {
    const scheme = schemeFor(provider);
    if (!scheme) return { verified: false, error: `webhook provider "${provider}" is not supported by the sandbox edge` };
    if (!secret && provider !== 'sns') return { verified: false, error: `no secret configured for ${provider}` };
    let verdict;
    try {
      verdict = scheme.verify(secret, request, now);
    } catch {
      verdict = { ok: false as const, error: 'request could not be parsed for verification' };
    }
    if (!verdict.ok) return { verified: false, error: `${provider}: ${verdict.error}` };
    if (verdict.replayWindowSeconds > 0 && verdict.replayKey !== '') {
      const nowMs = now.getTime();
      this.#prune(nowMs);
      // Namespaced by provider and secret, so the same bytes at two endpoints with different keys are distinct.
      const key = `${provider}\u0000${createHash('sha256').update(secret).digest('hex')}\u0000${verdict.replayKey}`;
      const until = this.#seen.get(key);
      if (until !== undefined && until > nowMs) {
        return { verified: false, error: `${provider}: replayed delivery: this signed request was already accepted within the last ${verdict.replayWindowSeconds} s` };
      }
      if (this.#seen.size >= MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value!);
      this.#seen.set(key, nowMs + verdict.replayWindowSeconds * 1000);
    }
    return { verified: true };
  }

  /** The response the edge sends itself for a provider handshake, or undefined for an ordinary request. */
  handshake(provider: string, secret: string, request: WebhookRequest, now: Date): HandshakeResponse | undefined {
    return schemeFor(provider)?.handshake?.(secret, request, now);
  }

  #prune(nowMs: number): void {
    for (const [key, until] of this.#seen) {
      if (until <= nowMs) this.#seen.delete(key);
    }
  }
}

function schemeFor(provider: string): SchemeVerifier | undefined {
  return SANDBOX_WEBHOOK_PROVIDERS.has(provider) ? WEBHOOK_VERIFIERS[provider as SandboxWebhookProviderId] : undefined;
}

// The policy engine calls the plain functions below with a fixed signature, so the edge's replay
// memory lives here, created on first use (nothing happens at import time).
let shared: WebhookVerifier | undefined;

/**
 * Verify a webhook request as ngrok's `verify-webhook` action does for `provider` (an ngrok id,
 * e.g. `github`). `request.url` should be the absolute public URL the provider called; `body` the
 * raw bytes. A delivery accepted once is refused if presented again inside its window.
 */
export function verifyWebhook(
  provider: string,
  secret: string,
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
  now: Date,
): { verified: boolean; error?: string } {
  return (shared ??= new WebhookVerifier()).verify(provider, secret, request, now);
}

/**
 * The edge's own answer to a provider's endpoint-verification handshake (Zoom
 * `endpoint.url_validation`, X/Twitter CRC, Worldline GET), or undefined when `request` is not
 * one. Call it before {@link verifyWebhook}; when it returns a response, send that and do not
 * forward the request upstream.
 */
export function webhookHandshake(
  provider: string,
  secret: string,
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
  now: Date,
): HandshakeResponse | undefined {
  return (shared ??= new WebhookVerifier()).handshake(provider, secret, request, now);
}
