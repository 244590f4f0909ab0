import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import { resolveKeychainService } from '../../../src/secrets/secret-store.js';

describe('MemoryStore', () => {
  it('sets, gets and deletes like the keychain', async () => {
    const store = new MemoryStore({ 'authtoken:acme': 'tok' });
    expect(store.backend).toBe('memory');
    expect(await store.getPassword('authtoken:acme')).toBe('tok');
    await store.setPassword('webhook:acme:github', 'whsec');
    expect(store.snapshot()).toEqual({ 'authtoken:acme': 'tok', 'webhook:acme:github': 'whsec' });
    expect(await store.deletePassword('authtoken:acme')).toBe(true);
    expect(await store.deletePassword('authtoken:acme')).toBe(false);
    expect(await store.getPassword('authtoken:acme')).toBeUndefined();
  });
});

describe('resolveKeychainService', () => {
  it('defaults to devtunnel and honours DEVTUNNEL_KEYCHAIN_SERVICE', () => {
    expect(resolveKeychainService({})).toBe('devtunnel');
    expect(resolveKeychainService({ DEVTUNNEL_KEYCHAIN_SERVICE: '  ' })).toBe('devtunnel');
    expect(resolveKeychainService({ DEVTUNNEL_KEYCHAIN_SERVICE: 'devtunnel-test' })).toBe('devtunnel-test');
  });
});
