// Endpoint-verification handshakes ngrok's edge answers itself (webhook-providers.md §2, §8).
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebhookVerifier, webhookHandshake } from '../../../../src/sandbox/webhooks/verify.js';
import { signFor } from './signers.js';

const now = new Date('2026-05-04T12:00:00Z');

describe('Zoom endpoint.url_validation', () => {
  const secret = 'zoom-secret-token';
  const body = Buffer.from(JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' }, event_ts: 1 }));

  it('answers a signed validation with the plain token and its HMAC', () => {
    const s = signFor('zoom', { secret, body, now });
    const answer = new WebhookVerifier().handshake('zoom', secret, s, now);
    expect(answer?.status).toBe(200);
    expect(answer?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer!.body.toString())).toEqual({
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: createHmac('sha256', secret).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex'),
    });
  });

  it('matches the §6b fixture (plainToken abc123, secret test_secret)', () => {
    const b = Buffer.from(JSON.stringify({ event: 'endpoint.url_validation', payload: { plainToken: 'abc123' } }));
    const answer = webhookHandshake('zoom', 'test_secret', signFor('zoom', { secret: 'test_secret', body: b, now: new Date() }), new Date());
    expect(JSON.parse(answer!.body.toString()).encryptedToken).toBe('cacececb6088e5d0c304643a43593c802c3e795119b7599da461bafe5fbe347c');
  });

  it('does not answer (so is no signing oracle) without a valid signature; ordinary events are not handshakes', () => {
    const s = signFor('zoom', { secret: 'someone-else', body, now });
    expect(new WebhookVerifier().handshake('zoom', secret, s, now)).toBeUndefined();
    expect(new WebhookVerifier().verify('zoom', secret, s, now).verified).toBe(false);
    const event = signFor('zoom', { secret, body: Buffer.from('{"event":"meeting.started"}'), now });
    expect(new WebhookVerifier().handshake('zoom', secret, event, now)).toBeUndefined();
  });
});

describe('X / Twitter CRC', () => {
  it('answers GET ?crc_token= with sha256=<base64 HMAC> (§6b fixture)', () => {
    const answer = new WebhookVerifier().handshake('twitter', 'test_secret', { method: 'GET', url: '/webhooks/twitter?crc_token=abc123', headers: {}, body: Buffer.alloc(0) }, now);
    expect(answer?.status).toBe(200);
    expect(JSON.parse(answer!.body.toString())).toEqual({ response_token: 'sha256=ys7Oy2CI5dDDBGQ6Q1k8gCw+eVEZt1mdpGG6/l++NHw=' });
  });

  it('refuses tokens that could double as a webhook body (signing oracle)', () => {
    const url = `/hook?crc_token=${encodeURIComponent('{"evil":true}')}`;
    expect(new WebhookVerifier().handshake('twitter', 'test_secret', { method: 'GET', url, headers: {}, body: Buffer.alloc(0) }, now)?.status).toBe(400);
    expect(new WebhookVerifier().handshake('twitter', 'test_secret', { method: 'POST', url: '/hook?crc_token=abc', headers: {}, body: Buffer.alloc(0) }, now)).toBeUndefined();
  });
});

describe('Worldline endpoint verification', () => {
  it('echoes X-GCS-Webhooks-Endpoint-Verification as text/plain', () => {
    const answer = new WebhookVerifier().handshake('worldline', 's', { method: 'GET', url: '/wl', headers: { 'X-GCS-Webhooks-Endpoint-Verification': 'verify-me-123' }, body: Buffer.alloc(0) }, now);
    expect(answer).toEqual({ status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('verify-me-123') });
  });
});

it('providers without a handshake never answer', () => {
  const r = { method: 'GET', url: '/?crc_token=abc&hub.challenge=1', headers: {}, body: Buffer.alloc(0) };
  for (const p of ['github', 'stripe', 'slack', 'svix', 'okta']) expect(new WebhookVerifier().handshake(p, 's', r, now)).toBeUndefined();
});
