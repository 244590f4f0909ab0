import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../src/errors.js';
import { EnvOverrideStore, UnavailableStore, hasEnvOverrides } from '../../../src/secrets/env-override-store.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';

describe('EnvOverrideStore', () => {
  it('answers authtoken reads from DEVTUNNEL_AUTHTOKEN and says so', async () => {
    const inner = new MemoryStore({ 'authtoken:acme': 'from-keychain' });
    const store = new EnvOverrideStore(inner, { DEVTUNNEL_AUTHTOKEN: 'from-env' });
    expect(await store.getPassword('authtoken:acme')).toBe('from-env');
    expect(await store.getPassword('authtoken:other-team')).toBe('from-env');
    expect(store.overriddenBy('authtoken:acme')).toBe('DEVTUNNEL_AUTHTOKEN');
    expect(store.overriddenBy('webhook:acme:github')).toBeUndefined();
    expect(store.backend).toBe('memory');
  });

  it('answers webhook reads from DEVTUNNEL_WEBHOOK_SECRET', async () => {
    const store = new EnvOverrideStore(new MemoryStore({ 'webhook:acme:github': 'kc' }), { DEVTUNNEL_WEBHOOK_SECRET: 'whsec-env' });
    expect(await store.getPassword('webhook:acme:github')).toBe('whsec-env');
    expect(store.overriddenBy('webhook:acme:github')).toBe('DEVTUNNEL_WEBHOOK_SECRET');
    expect(store.overriddenBy('authtoken:acme')).toBeUndefined();
  });

  it('leaves other accounts and empty variables to the inner store', async () => {
    const inner = new MemoryStore({ 'authtoken:acme': 'kc', 'team-secret:acme:db': 'pw', 'admin-api:acme': 'api' });
    const store = new EnvOverrideStore(inner, { DEVTUNNEL_AUTHTOKEN: '', DEVTUNNEL_WEBHOOK_SECRET: 'w' });
    expect(await store.getPassword('authtoken:acme')).toBe('kc');
    expect(await store.getPassword('team-secret:acme:db')).toBe('pw');
    expect(await store.getPassword('admin-api:acme')).toBe('api');
    expect(store.overriddenBy('team-secret:acme:db')).toBeUndefined();
  });

  it('never uses NGROK_AUTHTOKEN: a personal token must not bypass the team', async () => {
    const env = { NGROK_AUTHTOKEN: 'personal-token' };
    const store = new EnvOverrideStore(new MemoryStore(), env);
    expect(await store.getPassword('authtoken:acme')).toBeUndefined();
    expect(store.overriddenBy('authtoken:acme')).toBeUndefined();
    expect(hasEnvOverrides(env)).toBe(false);
    const withTeamToken = new EnvOverrideStore(new MemoryStore(), { ...env, DEVTUNNEL_AUTHTOKEN: 'team-token' });
    expect(await withTeamToken.getPassword('authtoken:acme')).toBe('team-token');
  });

  it('sends writes and deletes to the inner store even when overridden', async () => {
    const inner = new MemoryStore();
    const store = new EnvOverrideStore(inner, { DEVTUNNEL_AUTHTOKEN: 'from-env' });
    await store.setPassword('authtoken:acme', 'written');
    expect(inner.snapshot()).toEqual({ 'authtoken:acme': 'written' });
    expect(await store.getPassword('authtoken:acme')).toBe('from-env');
    expect(await store.deletePassword('authtoken:acme')).toBe(true);
    expect(inner.snapshot()).toEqual({});
  });

  it('reads the environment when asked, not when built', async () => {
    const env: NodeJS.ProcessEnv = {};
    const store = new EnvOverrideStore(new MemoryStore(), env);
    expect(await store.getPassword('authtoken:acme')).toBeUndefined();
    env.DEVTUNNEL_AUTHTOKEN = 'late';
    expect(await store.getPassword('authtoken:acme')).toBe('late');
  });
});

describe('UnavailableStore behind the override (CI without a keychain)', () => {
  const noKeychain = new UserError('No OS keychain', { exitCode: ExitCode.noKeychain, code: 'no_keychain' });

  it('serves overridden reads and fails everything else with the keychain error', async () => {
    const store = new EnvOverrideStore(new UnavailableStore(noKeychain), { DEVTUNNEL_AUTHTOKEN: 'ci-token' });
    expect(store.backend).toBe('env');
    expect(await store.getPassword('authtoken:acme')).toBe('ci-token');
    await expect(store.getPassword('team-secret:acme:db')).rejects.toBe(noKeychain);
    await expect(store.setPassword('authtoken:acme', 'x')).rejects.toBe(noKeychain);
    await expect(store.deletePassword('authtoken:acme')).rejects.toBe(noKeychain);
  });
});
