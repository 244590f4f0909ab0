// The start-up warm-up (src/tunnel/warmup.ts) with fakes, and its hand-off to the command's
// context (src/cli/base-command.ts buildContext): it connects ahead with the login's ingress and
// the stored token, gives up silently wherever the command would fail, hands over the store it
// opened (or that failure) so the keychain is opened once, and never prints.
import { describe, expect, it, vi } from 'vitest';
import { buildContext } from '../../../src/cli/base-command.js';
import { handOverPrewarmed, takePrewarmed, type Prewarmed } from '../../../src/cli/prewarmed.js';
import { ExitCode, UserError } from '../../../src/errors.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import type { SecretStore } from '../../../src/secrets/secret-store.js';
import { demoPolicy } from '../../../src/team/demo-team.js';
import type { LoginState } from '../../../src/team/team-store.js';
import type { SessionParams } from '../../../src/tunnel/ngrok-tunnel-starter.js';
import { teamTunnelRequest } from '../../../src/tunnel/tunnel-session.js';
import { shouldWarmUp, startTunnelWarmup, type WarmableStarter, type WarmupDeps } from '../../../src/tunnel/warmup.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n';
const policy = demoPolicy({
  domain: 'devtunnel.localhost',
  serverAddr: '127.0.0.1:4443',
  rootCasPem: PEM,
  idpUrl: 'https://idp.devtunnel.localhost:8443',
});
const login = {
  policy,
  teamId: 'demo',
  email: 'dev@example.com',
  userLabel: 'dev',
  webhookProviders: [],
  secretNames: ['demo-oidc'],
} as unknown as LoginState;

function fakeStarter() {
  const ahead: SessionParams[] = [];
  let released = 0;
  const starter: WarmableStarter = {
    preload: vi.fn(),
    connectAhead: (p) => void ahead.push(p),
    release: async () => void released++,
    start: async () => ({ url: 'https://x', close: async () => undefined }),
  };
  return { starter, ahead, released: () => released };
}

function deps(overrides: Partial<WarmupDeps> & { store?: SecretStore } = {}) {
  const fake = fakeStarter();
  const opened: Array<{ env: NodeJS.ProcessEnv }> = [];
  const d: WarmupDeps = {
    loadLogin: () => login,
    openSecretStore: async (opts) => {
      opened.push(opts);
      return overrides.store ?? new MemoryStore({ 'authtoken:demo': 'tok_fake' });
    },
    createStarter: () => fake.starter,
    ...overrides,
  };
  return { deps: d, fake, opened };
}

const env = { DEVTUNNEL_CONFIG_DIR: '/nonexistent' };

describe('shouldWarmUp', () => {
  it.each([
    [['share', '3000', '--profile', 'sso'], true],
    [['webhook', 'github', '8080'], true],
    [['share'], false],
    [['share', '3000', '--help'], false],
    [['webhook', '-h'], false],
    [['whoami'], false],
    [['login', '--stdin'], false],
    [[], false],
  ])('%j → %s', (argv, expected) => {
    expect(shouldWarmUp(argv)).toBe(expected);
  });
});

describe('startTunnelWarmup', () => {
  it('connects ahead with the ingress, trust and stored token of the login, and the same session metadata share sends', async () => {
    const { deps: d, fake, opened } = deps();
    const warm = startTunnelWarmup({ env, version: '0.1.0' }, d);
    await warm.begun;
    expect(opened).toHaveLength(1);
    expect(opened[0]!.env).toBe(env);
    expect(fake.starter.preload).toHaveBeenCalled();
    const request = teamTunnelRequest({
      policy,
      email: 'dev@example.com',
      version: '0.1.0',
      authtoken: 'tok_fake',
      host: 'app.dev.devtunnel.localhost',
      upstreamAddr: 'localhost:3000',
      trafficPolicy: '{}',
      extra: { profile: 'sso' },
    });
    expect(fake.ahead).toEqual([
      { serverAddr: request.serverAddr, rootCas: request.rootCas, authtoken: request.authtoken, sessionMetadata: request.sessionMetadata },
    ]);
    expect(request.endpointMetadata).toBe('{"profile":"sso"}');
    expect(JSON.parse(request.sessionMetadata)).toEqual({
      user: 'dev@example.com',
      team: 'demo',
      devtunnel: '0.1.0',
      policy_version: policy.version,
    });
    expect(warm.prewarmed.tunnelStarter).toBe(fake.starter);
    await warm.prewarmed.release();
    expect(fake.released()).toBe(1);
  });

  it('not logged in, or a damaged store: nothing opened, nothing connected', async () => {
    for (const loadLogin of [
      () => undefined,
      () => {
        throw new UserError('damaged', { exitCode: ExitCode.notLoggedIn, code: 'team_store_invalid' });
      },
    ]) {
      const { deps: d, fake, opened } = deps({ loadLogin });
      const warm = startTunnelWarmup({ env, version: '0.1.0' }, d);
      await warm.begun;
      expect(opened).toHaveLength(0);
      expect(fake.ahead).toHaveLength(0);
      expect(warm.prewarmed.secretStore).toBeUndefined();
      expect(warm.prewarmed.tunnelStarter).toBeUndefined();
      await expect(warm.prewarmed.release()).resolves.toBeUndefined();
    }
  });

  it('no keychain: hands over that very failure (no unhandled rejection) and connects nothing', async () => {
    const noKeychain = new UserError('No OS keychain is available', { exitCode: ExitCode.noKeychain, code: 'no_keychain' });
    const { deps: d, fake } = deps({ openSecretStore: () => Promise.reject(noKeychain) });
    const warm = startTunnelWarmup({ env, version: '0.1.0' }, d);
    await warm.begun;
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.ahead).toHaveLength(0);
    await expect(warm.prewarmed.secretStore).rejects.toBe(noKeychain);
  });

  it('no stored token, or a failing read: connects nothing (the command reports it)', async () => {
    const failing: SecretStore = {
      backend: 'memory',
      getPassword: async () => Promise.reject(new Error('locked')),
      setPassword: async () => undefined,
      deletePassword: async () => false,
    };
    for (const store of [new MemoryStore({}), failing]) {
      const { deps: d, fake } = deps({ store });
      const warm = startTunnelWarmup({ env, version: '0.1.0' }, d);
      await warm.begun;
      await new Promise((resolve) => setImmediate(resolve));
      expect(fake.ahead).toHaveLength(0);
      await expect(warm.prewarmed.secretStore).resolves.toMatchObject({ store });
    }
  });

  it('keeps the store notice for the command instead of printing it', async () => {
    const store = new MemoryStore({ 'authtoken:demo': 'tok_fake' });
    const write = vi.spyOn(process.stderr, 'write');
    const { deps: d } = deps({
      openSecretStore: async (opts) => {
        opts.notice('secrets last until reboot');
        return store;
      },
    });
    const warm = startTunnelWarmup({ env, version: '0.1.0' }, d);
    await warm.begun;
    await expect(warm.prewarmed.secretStore).resolves.toEqual({ store, notice: 'secrets last until reboot' });
    expect(write).not.toHaveBeenCalled();
    write.mockRestore();
  });

  it('a Secret Service still probing does not hold back the big loads: begun settles on the next turn', async () => {
    const { deps: d, fake } = deps({ openSecretStore: () => new Promise<SecretStore>(() => undefined) });
    const warm = startTunnelWarmup({ env, version: '0.1.0' }, d);
    await warm.begun;
    expect(fake.ahead).toHaveLength(0);
    expect(fake.starter.preload).toHaveBeenCalled();
  });
});

describe('the hand-off to the command context', () => {
  const ctxOpts = { json: true, noColor: true, version: '0.1.0', showKeychainNotice: false };

  it('is taken once', () => {
    const prewarmed: Prewarmed = { release: async () => undefined };
    handOverPrewarmed(prewarmed);
    expect(takePrewarmed()).toBe(prewarmed);
    expect(takePrewarmed()).toBeUndefined();
  });

  it('the context reuses the opened store and the warm starter', async () => {
    const store = new MemoryStore({ 'authtoken:demo': 'tok_fake' });
    const starter = fakeStarter().starter;
    const ctx = buildContext(ctxOpts, {
      secretStore: Promise.resolve({ store, notice: undefined }),
      tunnelStarter: starter,
      release: async () => undefined,
    });
    expect(await ctx.secretStore()).toBe(store);
    expect(await ctx.secretStore()).toBe(store);
    expect(await ctx.tunnelStarter()).toBe(starter);
  });

  it('a store that failed to open fails the command the same way', async () => {
    const noKeychain = new UserError('No OS keychain is available', { exitCode: ExitCode.noKeychain, code: 'no_keychain' });
    const failed = Promise.reject(noKeychain);
    failed.catch(() => undefined);
    const ctx = buildContext(ctxOpts, { secretStore: failed, release: async () => undefined });
    await expect(ctx.secretStore()).rejects.toBe(noKeychain);
  });

  it('shows the store notice only for commands that show it', async () => {
    const store = new MemoryStore({});
    for (const showKeychainNotice of [false, true]) {
      const ctx = buildContext(
        { ...ctxOpts, json: false, showKeychainNotice },
        { secretStore: Promise.resolve({ store, notice: 'kernel keyring: until reboot' }), release: async () => undefined },
      );
      const notices: string[] = [];
      ctx.out.notice = (line: string) => void notices.push(line);
      await ctx.secretStore();
      expect(notices).toEqual(showKeychainNotice ? ['kernel keyring: until reboot'] : []);
    }
  });
});
