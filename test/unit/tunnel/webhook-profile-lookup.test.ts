import { describe, expect, it } from 'vitest';
import { findWebhookProfile } from '../../../src/tunnel/webhook.js';
import type { TeamPolicy } from '../../../src/team/policy-schema.js';

const policy = {
  webhooks: {
    github: { provider: 'github' },
    'launch-darkly': { provider: 'launch_darkly' },
    'stripe-billing': { provider: 'stripe', path: '/billing' },
    stripe: { provider: 'stripe' },
  },
} as unknown as TeamPolicy;

describe('findWebhookProfile', () => {
  it('finds a profile by the key that `profiles` and `login` list', () => {
    expect(findWebhookProfile(policy, 'launch-darkly')).toEqual({ key: 'launch-darkly', profile: { provider: 'launch_darkly' } });
    expect(findWebhookProfile(policy, 'stripe-billing')?.profile.path).toBe('/billing');
  });

  it('finds a profile by provider id, preferring the key of the same name', () => {
    expect(findWebhookProfile(policy, 'launch_darkly')?.key).toBe('launch-darkly');
    expect(findWebhookProfile(policy, 'stripe')?.key).toBe('stripe');
  });

  it('finds nothing for a provider the team did not approve', () => {
    expect(findWebhookProfile(policy, 'slack')).toBeUndefined();
  });
});
