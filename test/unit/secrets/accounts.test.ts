import { describe, expect, it } from 'vitest';
import {
  adminApiAccount,
  adminKeyAccount,
  authtokenAccount,
  parseAccount,
  teamSecretAccount,
  webhookAccount,
  webhookSecretAccount,
} from '../../../src/secrets/accounts.js';

describe('keychain account names', () => {
  it('follow the DESIGN.md layout', () => {
    expect(authtokenAccount('acme')).toBe('authtoken:acme');
    expect(teamSecretAccount('acme', 'db-password')).toBe('team-secret:acme:db-password');
    expect(webhookAccount('acme', 'github')).toBe('webhook:acme:github');
    expect(webhookSecretAccount('acme', 'github')).toBe('webhook:acme:github');
    expect(adminKeyAccount('acme')).toBe('admin-key:acme');
    expect(adminApiAccount('acme')).toBe('admin-api:acme');
  });

  it('refuse parts that could forge another account', () => {
    expect(() => authtokenAccount('acme:other')).toThrow(RangeError);
    expect(() => teamSecretAccount('acme', '')).toThrow(RangeError);
    expect(() => webhookAccount('acme', 'git hub')).toThrow(RangeError);
  });

  it('parse back into their parts', () => {
    expect(parseAccount('authtoken:acme')).toEqual({ kind: 'authtoken', team: 'acme' });
    expect(parseAccount('team-secret:acme:db')).toEqual({ kind: 'team-secret', team: 'acme', name: 'db' });
    expect(parseAccount('webhook:acme:stripe')).toEqual({ kind: 'webhook', team: 'acme', name: 'stripe' });
    expect(parseAccount('admin-key:acme')).toEqual({ kind: 'admin-key', team: 'acme' });
    expect(parseAccount('admin-api:acme:extra')).toBeUndefined();
    expect(parseAccount('team-secret:acme')).toBeUndefined();
    expect(parseAccount('something:acme')).toBeUndefined();
    expect(parseAccount('devtunnel-probe')).toBeUndefined();
  });
});
