// Every provider the sandbox verifies: genuine → verified; one byte of body changed, wrong secret,
// missing signature header, stale timestamp, replay → refused with a clear error.
import { describe, expect, it } from 'vitest';
import { WEBHOOK_VERIFIERS, WebhookVerifier } from '../../../../src/sandbox/webhooks/verify.js';
import { SANDBOX_WEBHOOK_PROVIDERS, SANDBOX_WEBHOOK_PROVIDER_IDS } from '../../../../src/sandbox/webhooks/providers.js';
import { WEBHOOK_PROVIDERS, findWebhookProvider, sandboxWebhookProviders } from '../../../../src/profiles/webhook-providers.js';
import { demoPolicy } from '../../../../src/team/demo-team.js';
import { bodyFor, secretFor, signFor, wrongSecretFor, type Signed } from './signers.js';

const NOW = new Date('2026-05-04T12:00:00Z');
const later = (s: number) => new Date(NOW.getTime() + s * 1000);
/** Providers whose body is not covered by what they sign (Mailgun) or that sign nothing (shared tokens). */
const BODY_UNSIGNED = new Set(['mailgun', 'gitlab', 'vmware']);
const NO_REPLAY_PROTECTION = new Set(['gitlab', 'vmware']);

const ids = [...SANDBOX_WEBHOOK_PROVIDER_IDS];

function flipOneByte(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  const i = copy.indexOf('world') >= 0 ? copy.indexOf('world') : Math.floor(copy.length / 2);
  copy[i] = copy[i]! ^ 0x01;
  return copy;
}

function request(s: Signed, patch: Partial<Signed> = {}) {
  const r = { ...s, ...patch };
  return { method: r.method, url: r.url, headers: r.headers, body: r.body };
}

describe('the sandbox provider list', () => {
  it('has a verifier for exactly the listed providers, all ngrok ids, marked in the catalogue', () => {
    expect(Object.keys(WEBHOOK_VERIFIERS).sort()).toEqual([...ids].sort());
    expect(ids.length).toBeGreaterThanOrEqual(12);
    for (const id of ids) expect(findWebhookProvider(id), id).toBeDefined();
    expect(sandboxWebhookProviders().map((p) => p.id)).toEqual([...ids].sort());
    for (const p of WEBHOOK_PROVIDERS) expect(p.sandbox).toBe(SANDBOX_WEBHOOK_PROVIDERS.has(p.id));
    for (const id of ['github', 'gitlab', 'stripe', 'slack', 'twilio', 'shopify', 'svix', 'pagerduty', 'zoom', 'linear', 'sendgrid']) {
      expect(SANDBOX_WEBHOOK_PROVIDERS.has(id), id).toBe(true);
    }
  });

  it('the demo policy approves a webhook profile for every provider the sandbox verifies', () => {
    const policy = demoPolicy({ domain: 'devtunnel.localhost', serverAddr: '127.0.0.1:4443', rootCasPem: '-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n', idpUrl: 'https://idp.devtunnel.localhost:8443' });
    const approved = new Set(Object.values(policy.webhooks ?? {}).map((w) => w.provider));
    expect([...SANDBOX_WEBHOOK_PROVIDERS].filter((id) => !approved.has(id))).toEqual([]);
  });

  it('refuses providers it does not verify and empty secrets', () => {
    const v = new WebhookVerifier();
    const r = { method: 'POST', url: '/', headers: {}, body: Buffer.from('{}') };
    expect(v.verify('okta', 's', r, NOW)).toEqual({ verified: false, error: expect.stringMatching(/not supported/) });
    expect(v.verify('github', '', r, NOW)).toEqual({ verified: false, error: expect.stringMatching(/no secret/) });
  });
});

describe.each(ids)('%s', (provider) => {
  const secret = secretFor(provider);
  const sign = (now = NOW, s = secret) => signFor(provider, { secret: s, body: bodyFor(provider, now), now });

  it('accepts a genuine delivery', () => {
    const result = new WebhookVerifier().verify(provider, secret, request(sign()), NOW);
    expect(result).toEqual({ verified: true });
  });

  it.skipIf(BODY_UNSIGNED.has(provider))('refuses a body changed by one byte', () => {
    const s = sign();
    const result = new WebhookVerifier().verify(provider, secret, request(s, { body: flipOneByte(s.body) }), NOW);
    expect(result.verified).toBe(false);
    expect(result.error).toMatch(/does not (match|verify)|tampered|webhookTimestamp/);
  });

  it('refuses the wrong secret', () => {
    const result = new WebhookVerifier().verify(provider, wrongSecretFor(provider), request(sign()), NOW);
    expect(result.verified).toBe(false);
    expect(result.error).toMatch(/do(es)? not (match|verify)/);
    expect(result.error).not.toContain(secret);
  });

  it('refuses a request without its signature', () => {
    const s = sign();
    let patched: Partial<Signed>;
    if (s.signatureHeader) {
      const headers = { ...s.headers };
      delete headers[s.signatureHeader];
      patched = { headers };
    } else {
      patched = { body: bodyFor(provider, NOW) }; // Mailgun: the signature object taken out of the body
    }
    const result = new WebhookVerifier().verify(provider, secret, request(s, patched), NOW);
    expect(result.verified).toBe(false);
    expect(result.error).toMatch(/missing|lacks|no Mailgun signature/i);
  });

  it('refuses a stale timestamp (when the scheme signs one)', () => {
    const s = sign(later(-3600));
    const result = new WebhookVerifier().verify(provider, secret, request(s), NOW);
    if (!s.timestamped) return expect(result.verified).toBe(true);
    expect(result.verified).toBe(false);
    expect(result.error).toMatch(/old|outside the \d+ s tolerance/);
  });

  it.skipIf(NO_REPLAY_PROTECTION.has(provider))('refuses a replay of an accepted delivery', () => {
    const v = new WebhookVerifier();
    const s = sign();
    expect(v.verify(provider, secret, request(s), NOW)).toEqual({ verified: true });
    const again = v.verify(provider, secret, request(s), later(5));
    expect(again.verified).toBe(false);
    expect(again.error).toMatch(/replayed/);
    // A different delivery still passes.
    const other = signFor(provider, { secret, body: Buffer.concat([bodyFor(provider, later(6)).subarray(0, 1), Buffer.from(' '), bodyFor(provider, later(6)).subarray(1)]), now: later(6) });
    expect(v.verify(provider, secret, request(other), later(6))).toEqual({ verified: true });
  });
});
