import { describe, expect, it } from 'vitest';
import { WEBHOOK_PROVIDERS, findWebhookProvider, isWebhookProvider, suggestWebhookProviders } from '../../../src/profiles/webhook-providers.js';

describe('webhook provider catalogue', () => {
  it('holds ngrok’s 69 identifiers, unique and sorted', () => {
    const ids = WEBHOOK_PROVIDERS.map((p) => p.id);
    expect(ids).toHaveLength(69);
    expect(new Set(ids).size).toBe(69);
    expect([...ids].sort()).toEqual(ids);
  });

  it('knows the common ones and refuses non-ngrok ids', () => {
    for (const id of ['github', 'gitlab', 'stripe', 'slack', 'twilio', 'shopify', 'svix', 'linear', 'jira', 'sns']) expect(isWebhookProvider(id)).toBe(true);
    for (const id of ['okta', 'discord', 'segment', 'GitHub', 'signalsciences', 'autodesk_forge']) expect(isWebhookProvider(id)).toBe(false);
    expect(findWebhookProvider('sns')?.needsSecret).toBe(false);
    expect(findWebhookProvider('stripe')).toEqual({ id: 'stripe', name: 'Stripe', needsSecret: true, sandbox: true });
  });

  it('suggests near misses', () => {
    expect(suggestWebhookProviders('githib')).toContain('github');
    expect(suggestWebhookProviders('strpe')).toContain('stripe');
    expect(suggestWebhookProviders('zzzzzz')).toEqual([]);
  });
});
