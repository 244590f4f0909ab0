// The providers' own libraries as independent oracles: deliveries signed by the library must
// verify in the sandbox, and where a library only verifies, it must accept what the sandbox
// accepts (signed by the test signers) and refuse what the sandbox refuses.
import { createRequire } from 'node:module';
import { generateKeyPairSync, sign as ecSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { WebhookVerifier } from '../../../../src/sandbox/webhooks/verify.js';
import { signFor } from './signers.js';

const require = createRequire(import.meta.url);
const twilio = require('twilio') as typeof import('twilio');
const { EventWebhook } = require('@sendgrid/eventwebhook') as typeof import('@sendgrid/eventwebhook');
const req = (headers: Record<string, string>, body: string | Buffer, url = 'https://hooks.example.test/in', method = 'POST') => ({
  method,
  url,
  headers,
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
});
const ok = { verified: true };
const payload = JSON.stringify({ id: 'evt_1', type: 'thing.happened', data: { emoji: '✓ ünïcode', n: 42 } });

describe('@octokit/webhooks-methods (GitHub)', () => {
  it('sign() output verifies; verify() agrees on tampering', async () => {
    const { sign, verify } = await import('@octokit/webhooks-methods');
    const secret = 'octokit-oracle-secret';
    const signature = await sign(secret, payload);
    expect(new WebhookVerifier().verify('github', secret, req({ 'X-Hub-Signature-256': signature, 'X-GitHub-Delivery': 'abc' }, payload), new Date())).toEqual(ok);
    const tampered = payload.replace('42', '43');
    expect(await verify(secret, tampered, signature)).toBe(false);
    expect(new WebhookVerifier().verify('github', secret, req({ 'X-Hub-Signature-256': signature }, tampered), new Date()).verified).toBe(false);
    expect(new WebhookVerifier().verify('github', 'other', req({ 'X-Hub-Signature-256': signature }, payload), new Date()).verified).toBe(false);
  });
});

describe('stripe (generateTestHeaderString / constructEvent)', () => {
  const stripe = new Stripe('sk_test_oracle');
  const secret = 'whsec_stripe_oracle_0123456789abcdef';

  it('a library-signed header verifies now, and is stale 301 s later', () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const header = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
    const now = new Date(timestamp * 1000);
    expect(new WebhookVerifier().verify('stripe', secret, req({ 'Stripe-Signature': header }, payload), now)).toEqual(ok);
    expect(new WebhookVerifier().verify('stripe', secret, req({ 'Stripe-Signature': header }, payload), new Date(now.getTime() + 301_000)).error).toMatch(/301 s old/);
    expect(() => stripe.webhooks.constructEvent(payload.replace('42', '41'), header, secret)).toThrow();
    expect(new WebhookVerifier().verify('stripe', secret, req({ 'Stripe-Signature': header }, payload.replace('42', '41')), now).verified).toBe(false);
  });

  it('what the sandbox signer produces, the library accepts', () => {
    const now = new Date();
    const s = signFor('stripe', { secret, body: Buffer.from(payload), now });
    expect(stripe.webhooks.constructEvent(payload, s.headers['Stripe-Signature']!, secret).id).toBe('evt_1');
  });
});

describe('svix and standardwebhooks (Svix, Clerk, Brex)', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  it.each(['svix', 'clerk', 'brex'])('%s: Webhook.sign output verifies; a changed id or body fails', (provider) => {
    const now = new Date();
    const signature = new SvixWebhook(secret).sign('msg_oracle_1', now, payload);
    const headers = { 'svix-id': 'msg_oracle_1', 'svix-timestamp': String(Math.floor(now.getTime() / 1000)), 'svix-signature': signature };
    expect(new WebhookVerifier().verify(provider, secret, req(headers, payload), now)).toEqual(ok);
    expect(new WebhookVerifier().verify(provider, secret, req({ ...headers, 'svix-id': 'msg_oracle_2' }, payload), now).verified).toBe(false);
    expect(new WebhookVerifier().verify(provider, secret, req(headers, `${payload} `), now).verified).toBe(false);
    // The library agrees with the sandbox signer's output (webhook-* header names).
    const s = signFor('brex', { secret, body: Buffer.from(payload), now });
    expect(new StandardWebhook(secret).verify(payload, s.headers)).toMatchObject({ id: 'evt_1' });
  });
});

describe('twilio (getExpectedTwilioSignature / validateRequest)', () => {
  const token = 'twilio-auth-token-oracle';
  const url = 'https://sms.dev.devtunnel.localhost:8443/sms?tenant=a&x=2';
  it('form POST signed by the library verifies; a changed field fails', () => {
    const params = { Body: 'hello ✓', From: '+15550001111', To: '+15550002222', MediaUrl0: 'https://x.test/a?b=c' };
    const signature = twilio.getExpectedTwilioSignature(token, url, params);
    const body = new URLSearchParams(params).toString();
    const headers = { 'X-Twilio-Signature': signature, 'content-type': 'application/x-www-form-urlencoded' };
    expect(new WebhookVerifier().verify('twilio', token, req(headers, body, url), new Date())).toEqual(ok);
    expect(new WebhookVerifier().verify('twilio', token, req(headers, body.replace('hello', 'hellp'), url), new Date()).verified).toBe(false);
    expect(twilio.validateRequest(token, signature, url, params)).toBe(true);
  });

  it('JSON body with bodySHA256 signed by the library verifies', () => {
    const hash = twilio.getExpectedBodyHash(payload);
    const full = `${url}&bodySHA256=${hash}`;
    const signature = twilio.getExpectedTwilioSignature(token, full, {});
    const headers = { 'X-Twilio-Signature': signature, 'content-type': 'application/json' };
    expect(new WebhookVerifier().verify('twilio', token, req(headers, payload, full), new Date())).toEqual(ok);
    expect(twilio.validateRequestWithBody(token, signature, full, payload)).toBe(true);
  });
});

describe('@sendgrid/eventwebhook', () => {
  it('library and sandbox agree on signed, tampered and stale deliveries', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const now = new Date();
    const ts = String(Math.floor(now.getTime() / 1000));
    const body = `[${payload}]\r\n`;
    const sig = ecSign('sha256', Buffer.from(ts + body), privateKey).toString('base64');
    const ew = new EventWebhook();
    const ecdsa = ew.convertPublicKeyToECDSA(key);
    const headers = { 'X-Twilio-Email-Event-Webhook-Signature': sig, 'X-Twilio-Email-Event-Webhook-Timestamp': ts };
    expect(ew.verifySignature(ecdsa, body, sig, ts)).toBe(true);
    expect(new WebhookVerifier().verify('sendgrid', key, req(headers, body), now)).toEqual(ok);
    expect(ew.verifySignature(ecdsa, body.replace('42', '24'), sig, ts)).toBe(false);
    expect(new WebhookVerifier().verify('sendgrid', key, req(headers, body.replace('42', '24')), now).verified).toBe(false);
  });
});

describe('square (WebhooksHelper.verifySignature)', () => {
  it('accepts what the sandbox accepts, refuses a different URL', async () => {
    const { WebhooksHelper } = await import('square');
    const secret = 'square-signature-key-oracle';
    const url = 'https://pay.dev.devtunnel.localhost:8443/square';
    const s = signFor('square', { secret, body: Buffer.from(payload), now: new Date(), url });
    const signatureHeader = s.headers['x-square-hmacsha256-signature']!;
    expect(await WebhooksHelper.verifySignature({ requestBody: payload, signatureHeader, signatureKey: secret, notificationUrl: url })).toBe(true);
    expect(new WebhookVerifier().verify('square', secret, req(s.headers, payload, url), new Date())).toEqual(ok);
    expect(await WebhooksHelper.verifySignature({ requestBody: payload, signatureHeader, signatureKey: secret, notificationUrl: `${url}/x` })).toBe(false);
    expect(new WebhookVerifier().verify('square', secret, req(s.headers, payload, `${url}/x`), new Date()).verified).toBe(false);
  });
});

describe('@linear/sdk (LinearWebhookClient.verify)', () => {
  it('accepts a fresh signed body, refuses a stale one, like the sandbox', async () => {
    const { LinearWebhookClient } = await import('@linear/sdk/webhooks');
    const secret = 'linear-oracle-secret';
    const now = new Date();
    const s = signFor('linear', { secret, body: Buffer.from(JSON.stringify({ action: 'create', webhookTimestamp: now.getTime() })), now });
    const client = new LinearWebhookClient(secret);
    expect(client.verify(s.body, s.headers['Linear-Signature']!)).toBe(true);
    expect(new WebhookVerifier().verify('linear', secret, req(s.headers, s.body), now)).toEqual(ok);
    const old = new Date(now.getTime() - 120_000);
    const stale = signFor('linear', { secret, body: Buffer.from(JSON.stringify({ action: 'create', webhookTimestamp: old.getTime() })), now: old });
    expect(() => client.verify(stale.body, stale.headers['Linear-Signature']!)).toThrow();
    expect(new WebhookVerifier().verify('linear', secret, req(stale.headers, stale.body), now).error).toMatch(/old/);
  });
});

describe('@mux/mux-node and orb-billing (webhooks.verifySignature)', () => {
  it('mux accepts the sandbox-accepted header', async () => {
    const { default: Mux } = await import('@mux/mux-node');
    const secret = 'mux-oracle-secret';
    const now = new Date();
    const s = signFor('mux', { secret, body: Buffer.from(payload), now });
    const mux = new Mux({ tokenId: 'x', tokenSecret: 'y' });
    const headers = { 'mux-signature': s.headers['Mux-Signature']! };
    // verifySignature is async in this SDK version.
    await expect(Promise.resolve().then(() => mux.webhooks.verifySignature(payload, headers, secret))).resolves.not.toThrow();
    await expect(Promise.resolve().then(() => mux.webhooks.verifySignature(payload.replace('42', '43'), headers, secret))).rejects.toThrow(/signature/);
    expect(new WebhookVerifier().verify('mux', secret, req(s.headers, payload), now)).toEqual(ok);
  });

  it('orb accepts the sandbox-accepted header', async () => {
    const { default: Orb } = await import('orb-billing');
    const secret = 'orb-oracle-secret';
    const now = new Date();
    const s = signFor('orb', { secret, body: Buffer.from(payload), now });
    const orb = new Orb({ apiKey: 'x' });
    const headers = { 'x-orb-signature': s.headers['X-Orb-Signature']!, 'x-orb-timestamp': s.headers['X-Orb-Timestamp']! };
    await expect(Promise.resolve().then(() => orb.webhooks.verifySignature(payload, headers, secret))).resolves.not.toThrow();
    await expect(Promise.resolve().then(() => orb.webhooks.verifySignature(payload.replace('42', '43'), headers, secret))).rejects.toThrow();
    expect(new WebhookVerifier().verify('orb', secret, req(s.headers, payload), now)).toEqual(ok);
  });
});

describe('pusher (webhook().isValid)', () => {
  it('accepts what the sandbox accepts', () => {
    const Pusher = require('pusher') as new (opts: Record<string, unknown>) => {
      webhook(r: { headers: Record<string, string>; rawBody: string }): { isValid(): boolean };
    };
    const secret = 'pusher-app-secret-oracle';
    const pusher = new Pusher({ appId: '1', key: 'app-key', secret, cluster: 'eu' });
    const s = signFor('pusher', { secret, body: Buffer.from(payload), now: new Date() });
    const headers = { 'x-pusher-key': 'app-key', 'x-pusher-signature': s.headers['X-Pusher-Signature']!, 'content-type': 'application/json' };
    expect(pusher.webhook({ headers, rawBody: payload }).isValid()).toBe(true);
    expect(pusher.webhook({ headers, rawBody: `${payload} ` }).isValid()).toBe(false);
    expect(new WebhookVerifier().verify('pusher', secret, req(headers, payload), new Date())).toEqual(ok);
    expect(new WebhookVerifier().verify('pusher', secret, req(headers, `${payload} `), new Date()).verified).toBe(false);
  });
});
