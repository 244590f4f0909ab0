import { describe, expect, it, vi } from 'vitest';
import { ExitCode, UserError } from '../../../src/errors.js';
import {
  KEYUTILS_NOTICE,
  PROBE_ACCOUNT,
  openKeychain,
  type AsyncKeyringEntry,
  type KeyringBinding,
  type KeyringEntryOptions,
  type SyncKeyringEntry,
} from '../../../src/secrets/keychain-store.js';
import { openSecretStore } from '../../../src/secrets/open-secret-store.js';

type Mode = 'ok' | 'fail' | 'hang';

/** A stand-in for @napi-rs/keyring: one map per store, with switchable failures. */
function fakeBinding(modes: { secretService?: Mode; keyutils?: Mode; errorEchoesSecret?: boolean } = {}) {
  const stores = { ss: new Map<string, string>(), ku: new Map<string, string>() };
  const log: Array<{ kind: 'async' | 'sync'; service: string; account: string; options: KeyringEntryOptions | null | undefined }> = [];
  const signals: AbortSignal[] = [];
  const never = () => new Promise<never>(() => undefined);

  class AsyncEntry implements AsyncKeyringEntry {
    private readonly map: Map<string, string>;
    constructor(
      private readonly service: string,
      private readonly account: string,
      options?: KeyringEntryOptions | null,
    ) {
      log.push({ kind: 'async', service, account, options });
      if ((modes.secretService ?? 'ok') === 'fail') throw new Error('Platform failure: DBus error: Failed to connect to socket /nowhere');
      this.map = stores.ss;
    }
    private key() {
      return `${this.service}/${this.account}`;
    }
    async setPassword(password: string, signal?: AbortSignal | null) {
      if (signal) signals.push(signal);
      if (modes.secretService === 'hang') return never();
      if (modes.errorEchoesSecret) throw new Error(`could not store ${password} for you`);
      this.map.set(this.key(), password);
    }
    async getPassword(signal?: AbortSignal | null) {
      if (signal) signals.push(signal);
      if (modes.secretService === 'hang') return never();
      return this.map.get(this.key()) ?? null;
    }
    async deletePassword(signal?: AbortSignal | null) {
      if (signal) signals.push(signal);
      if (modes.secretService === 'hang') return never();
      return this.map.delete(this.key());
    }
  }

  class Entry implements SyncKeyringEntry {
    constructor(
      private readonly service: string,
      private readonly account: string,
      options?: KeyringEntryOptions | null,
    ) {
      log.push({ kind: 'sync', service, account, options });
    }
    private check() {
      if (modes.keyutils === 'fail') throw new Error("Couldn't access platform storage: AccessDenied");
    }
    private key() {
      return `${this.service}/${this.account}`;
    }
    setPassword(password: string) {
      this.check();
      stores.ku.set(this.key(), password);
    }
    getPassword() {
      this.check();
      return stores.ku.get(this.key()) ?? null;
    }
    deletePassword() {
      this.check();
      return stores.ku.delete(this.key());
    }
  }

  const binding: KeyringBinding = { AsyncEntry, Entry };
  return { binding, stores, log, signals, loadBinding: async () => binding };
}

const linux = { platform: 'linux' as const, service: 'devtunnel-unit', env: {} };

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('openKeychain on Linux', () => {
  it('uses the Secret Service, pinned, when it answers', async () => {
    const fake = fakeBinding();
    const store = await openKeychain({ ...linux, loadBinding: fake.loadBinding });
    expect(store.backend).toBe('secret-service');
    expect(store.notice).toBeUndefined();
    await store.setPassword('authtoken:acme', 'tok-1');
    expect(await store.getPassword('authtoken:acme')).toBe('tok-1');
    expect(fake.stores.ss.get('devtunnel-unit/authtoken:acme')).toBe('tok-1');
    expect(await store.deletePassword('authtoken:acme')).toBe(true);
    expect(await store.getPassword('authtoken:acme')).toBeUndefined();
    expect(fake.log.every((e) => e.kind === 'async' && e.options?.linux?.store === 'secret-service')).toBe(true);
    expect(fake.log.some((e) => e.account === PROBE_ACCOUNT)).toBe(true);
  });

  it('falls back to the kernel keyring, pinned, with a notice that secrets last until reboot', async () => {
    const fake = fakeBinding({ secretService: 'fail' });
    const store = await openKeychain({ ...linux, loadBinding: fake.loadBinding });
    expect(store.backend).toBe('keyutils');
    expect(store.notice).toBe(KEYUTILS_NOTICE);
    expect(store.notice).toMatch(/until reboot/);
    await store.setPassword('authtoken:acme', 'tok-2');
    expect(await store.getPassword('authtoken:acme')).toBe('tok-2');
    expect([...fake.stores.ku.keys()]).toEqual(['devtunnel-unit/authtoken:acme']); // the probe cleaned up
    expect(fake.log.filter((e) => e.kind === 'sync').every((e) => e.options?.linux?.store === 'keyutils')).toBe(true);
  });

  it('fails with exit 6 and says how to get a keychain when neither store works', async () => {
    const fake = fakeBinding({ secretService: 'fail', keyutils: 'fail' });
    const error = await rejection(openKeychain({ ...linux, loadBinding: fake.loadBinding }));
    expect(error.exitCode).toBe(ExitCode.noKeychain);
    expect(error.code).toBe('no_keychain');
    expect(error.message).toMatch(/No OS keychain/);
    expect(error.message).toMatch(/Secret Service: Platform failure: DBus error/);
    expect(error.message).toMatch(/Linux kernel keyring: Couldn't access platform storage: AccessDenied/);
    expect(error.message).toMatch(/never writes secrets to disk in plaintext/);
    const suggestions = error.suggestions.join('\n');
    expect(suggestions).toMatch(/gnome-keyring/);
    expect(suggestions).toMatch(/dbus-user-session/);
    expect(suggestions).toMatch(/DEVTUNNEL_AUTHTOKEN/);
  });

  it('honours DEVTUNNEL_KEYCHAIN_BACKEND=secret-service: no kernel keyring fallback', async () => {
    const fake = fakeBinding({ secretService: 'fail' });
    const error = await rejection(
      openKeychain({ ...linux, env: { DEVTUNNEL_KEYCHAIN_BACKEND: 'secret-service' }, loadBinding: fake.loadBinding }),
    );
    expect(error.code).toBe('no_keychain');
    expect(error.message).toMatch(/DEVTUNNEL_KEYCHAIN_BACKEND=secret-service/);
    expect(fake.log.some((e) => e.kind === 'sync')).toBe(false);
  });

  it('honours prefer: keyutils without probing the Secret Service', async () => {
    const fake = fakeBinding();
    const store = await openKeychain({ ...linux, prefer: 'keyutils', loadBinding: fake.loadBinding });
    expect(store.backend).toBe('keyutils');
    expect(fake.log.some((e) => e.kind === 'async')).toBe(false);
  });

  it('rejects an unknown DEVTUNNEL_KEYCHAIN_BACKEND as a usage error', async () => {
    const fake = fakeBinding();
    const error = await rejection(openKeychain({ ...linux, env: { DEVTUNNEL_KEYCHAIN_BACKEND: 'plaintext' }, loadBinding: fake.loadBinding }));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.code).toBe('invalid_keychain_backend');
  });

  it('uses DEVTUNNEL_KEYCHAIN_SERVICE as the service name', async () => {
    const fake = fakeBinding();
    const store = await openKeychain({ platform: 'linux', env: { DEVTUNNEL_KEYCHAIN_SERVICE: 'devtunnel-demo' }, loadBinding: fake.loadBinding });
    expect(store.service).toBe('devtunnel-demo');
    await store.setPassword('authtoken:acme', 't');
    expect(fake.stores.ss.has('devtunnel-demo/authtoken:acme')).toBe(true);
  });

  it('uses an injected Secret Service probe', async () => {
    const fake = fakeBinding();
    const calls: Array<[string, number]> = [];
    const store = await openKeychain({
      ...linux,
      timeoutMs: 1234,
      loadBinding: fake.loadBinding,
      probeSecretService: async (service, timeoutMs) => {
        calls.push([service, timeoutMs]);
        throw new Error('nobody home');
      },
    });
    expect(calls).toEqual([['devtunnel-unit', 1234]]);
    expect(store.backend).toBe('keyutils');
  });
});

describe('keychain timeouts', () => {
  it('gives up on a Secret Service that never answers the probe', async () => {
    const fake = fakeBinding({ secretService: 'hang' });
    const started = Date.now();
    const error = await rejection(openKeychain({ ...linux, prefer: 'secret-service', timeoutMs: 50, loadBinding: fake.loadBinding }));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.code).toBe('no_keychain');
    expect(error.message).toMatch(/Secret Service: no answer within 50 ms/);
  });

  it('turns a stuck call into exit 6 keychain_timeout and aborts it', async () => {
    const fake = fakeBinding();
    const store = await openKeychain({ ...linux, timeoutMs: 50, loadBinding: fake.loadBinding });
    fake.signals.length = 0;
    const hanging = fakeBinding({ secretService: 'hang' });
    // Same store object, binding switched to a hanging one after opening.
    Object.assign(fake.binding, { AsyncEntry: hanging.binding.AsyncEntry });
    const started = Date.now();
    const error = await rejection(store.setPassword('authtoken:acme', 'tok-secret-value'));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.exitCode).toBe(ExitCode.noKeychain);
    expect(error.code).toBe('keychain_timeout');
    expect(error.message).toMatch(/did not answer within 50 ms/);
    expect(error.message).not.toContain('tok-secret-value');
    expect(hanging.signals.at(-1)?.aborted).toBe(true);
  });

  it('defaults to a 5 s limit', async () => {
    const fake = fakeBinding();
    const store = await openKeychain({ ...linux, loadBinding: fake.loadBinding });
    Object.assign(fake.binding, { AsyncEntry: fakeBinding({ secretService: 'hang' }).binding.AsyncEntry });
    vi.useFakeTimers();
    try {
      const pending = rejection(store.getPassword('authtoken:acme'));
      await vi.advanceTimersByTimeAsync(4_999);
      let settled = false;
      void pending.then(() => (settled = true));
      await Promise.resolve();
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect((await pending).message).toMatch(/within 5 s/);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('keychain errors never carry a secret', () => {
  it('redacts the value even when the native error echoes it', async () => {
    const fake = fakeBinding({ errorEchoesSecret: true });
    const store = await openKeychain({ ...linux, loadBinding: fake.loadBinding });
    const error = await rejection(store.setPassword('authtoken:acme', 'SECRET-abc123'));
    expect(error.code).toBe('keychain_failed');
    expect(error.exitCode).toBe(ExitCode.noKeychain);
    expect(error.message).toContain('[redacted]');
    expect(JSON.stringify({ m: error.message, s: error.suggestions, c: String(error.cause), st: error.stack })).not.toContain('SECRET-abc123');
  });
});

describe('openKeychain on other platforms', () => {
  it('maps macOS and Windows to their keychains without Linux options', async () => {
    for (const [platform, backend] of [
      ['darwin', 'macos-keychain'],
      ['win32', 'windows-credential-manager'],
    ] as const) {
      const fake = fakeBinding();
      const store = await openKeychain({ platform, service: 's', env: {}, loadBinding: fake.loadBinding });
      expect(store.backend).toBe(backend);
      await store.setPassword('authtoken:acme', 'x');
      expect(fake.log.at(-1)?.options).toBeUndefined();
    }
  });

  it('fails with exit 6 on a platform without keychain support', async () => {
    const error = await rejection(openKeychain({ platform: 'aix', env: {}, loadBinding: fakeBinding().loadBinding }));
    expect(error.exitCode).toBe(ExitCode.noKeychain);
  });

  it('fails with exit 6 when the native library cannot be loaded', async () => {
    const error = await rejection(
      openKeychain({
        ...linux,
        loadBinding: async () => {
          throw new Error('Cannot find module @napi-rs/keyring-linux-x64-gnu');
        },
      }),
    );
    expect(error.code).toBe('no_keychain');
    expect(error.message).toMatch(/could not be loaded/);
  });
});

describe('openSecretStore', () => {
  const nothing = () => fakeBinding({ secretService: 'fail', keyutils: 'fail' }).loadBinding;

  it('still works in CI without a keychain when DEVTUNNEL_AUTHTOKEN is set', async () => {
    const store = await openSecretStore({ ...linux, env: { DEVTUNNEL_AUTHTOKEN: 'ci-token' }, loadBinding: nothing() });
    expect(store.backend).toBe('env');
    expect(await store.getPassword('authtoken:acme')).toBe('ci-token');
    expect(store.overriddenBy('authtoken:acme')).toBe('DEVTUNNEL_AUTHTOKEN');
    const error = await rejection(store.getPassword('team-secret:acme:db'));
    expect(error.code).toBe('no_keychain');
  });

  it('throws the keychain error when nothing can answer', async () => {
    const error = await rejection(openSecretStore({ ...linux, env: { NGROK_AUTHTOKEN: 'personal' }, loadBinding: nothing() }));
    expect(error.code).toBe('no_keychain');
  });

  it('reports the keychain notice once through the callback', async () => {
    const notices: string[] = [];
    const store = await openSecretStore({
      ...linux,
      loadBinding: fakeBinding({ secretService: 'fail' }).loadBinding,
      notice: (message) => notices.push(message),
    });
    expect(store.backend).toBe('keyutils');
    expect(notices).toEqual([KEYUTILS_NOTICE]);
    const quiet: string[] = [];
    await openSecretStore({ ...linux, loadBinding: fakeBinding().loadBinding, notice: (m) => quiet.push(m) });
    expect(quiet).toEqual([]);
  });
});

describe('sessionBusConfigured', () => {
  it('is true with a bus address, or with the systemd user bus socket, and false otherwise', async () => {
    const { sessionBusConfigured } = await import('../../../src/secrets/keychain-store.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    expect(sessionBusConfigured({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' })).toBe(true);
    expect(sessionBusConfigured({})).toBe(false);
    const runtime = mkdtempSync(path.join(tmpdir(), 'dt-run-'));
    expect(sessionBusConfigured({ XDG_RUNTIME_DIR: runtime })).toBe(false);
    writeFileSync(path.join(runtime, 'bus'), '');
    expect(sessionBusConfigured({ XDG_RUNTIME_DIR: runtime })).toBe(true);
  });
});
