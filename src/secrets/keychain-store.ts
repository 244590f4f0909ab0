import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ExitCode, UserError } from '../errors.js';
import { resolveKeychainService, type SecretStore } from './secret-store.js';

/**
 * The OS keychain behind SecretStore, through @napi-rs/keyring (keytar's API, prebuilt binaries).
 * See docs/keychain.md for how a Linux store is chosen and why the kernel keyring needs a
 * "warm-up" entry before it works in processes that have no session keyring of their own.
 */

export type KeychainBackend = 'macos-keychain' | 'windows-credential-manager' | 'secret-service' | 'keyutils';
export type LinuxKeychainBackend = 'secret-service' | 'keyutils';

/** The part of @napi-rs/keyring devtunnel uses; tests pass fakes through `loadBinding`. */
export interface KeyringEntryOptions {
  linux?: { store?: LinuxKeychainBackend };
}
export interface AsyncKeyringEntry {
  setPassword(password: string, signal?: AbortSignal | null): Promise<void>;
  getPassword(signal?: AbortSignal | null): Promise<string | null>;
  deletePassword(signal?: AbortSignal | null): Promise<boolean>;
}
export interface SyncKeyringEntry {
  setPassword(password: string): void;
  getPassword(): string | null;
  deletePassword(): boolean;
}
export interface KeyringBinding {
  AsyncEntry: new (service: string, account: string, options?: KeyringEntryOptions | null) => AsyncKeyringEntry;
  Entry: new (service: string, account: string, options?: KeyringEntryOptions | null) => SyncKeyringEntry;
}

export interface OpenKeychainOptions {
  /** Keychain service name; default `DEVTUNNEL_KEYCHAIN_SERVICE` or `devtunnel`. */
  service?: string;
  /** Default `process.platform`. */
  platform?: NodeJS.Platform;
  /** Limit for every keychain call, probes included. Default 5000 ms. */
  timeoutMs?: number;
  /** Linux only: use this store and no other. Default `DEVTUNNEL_KEYCHAIN_BACKEND`, else automatic. */
  prefer?: LinuxKeychainBackend;
  /** Where DEVTUNNEL_* settings are read from (the native library itself always sees the real process env). */
  env?: NodeJS.ProcessEnv;
  /** Loads the native binding; tests inject fakes. Default: dynamic import of @napi-rs/keyring. */
  loadBinding?: () => Promise<KeyringBinding>;
  /**
   * Checks that the Secret Service answers; rejects with the reason if not. Default: a child
   * process (killable, see probeSecretServiceInChild) with the real binding, in-process with an
   * injected one.
   */
  probeSecretService?: (service: string, timeoutMs: number) => Promise<void>;
}

export interface KeychainStore extends SecretStore {
  readonly backend: KeychainBackend;
  readonly service: string;
  /** Something the user should be told once (e.g. secrets last until reboot), or undefined. */
  readonly notice: string | undefined;
}

export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 5_000;
/** Account used to probe a store; never holds a secret. */
export const PROBE_ACCOUNT = 'devtunnel-probe';

const LABELS: Record<KeychainBackend, string> = {
  'macos-keychain': 'macOS Keychain',
  'windows-credential-manager': 'Windows Credential Manager',
  'secret-service': 'Secret Service',
  keyutils: 'Linux kernel keyring',
};

export const KEYUTILS_NOTICE =
  'No Secret Service answered on D-Bus, so devtunnel keeps its secrets in the Linux kernel keyring. ' +
  'They stay in memory only: they last until reboot (and are dropped after a few days unused), so you may need to log in again.';

const CI_SUGGESTION = 'In CI, set DEVTUNNEL_AUTHTOKEN (and DEVTUNNEL_WEBHOOK_SECRET) instead of logging in; nothing is stored then.';
const SECRET_SERVICE_SUGGESTION =
  'Install and start a Secret Service: `sudo apt-get install gnome-keyring dbus-user-session libsecret-tools`, then log in again ' +
  '(over SSH: `dbus-run-session -- bash`, then `echo -n "<keyring password>" | gnome-keyring-daemon --unlock --components=secrets`).';

/**
 * Opens the OS keychain. On Linux it uses the Secret Service when it answers, otherwise the kernel
 * keyring (with a `notice`), otherwise throws UserError exit 6 `no_keychain`. Never falls back to a file.
 */
export async function openKeychain(opts: OpenKeychainOptions = {}): Promise<KeychainStore> {
  const env = opts.env ?? process.env;
  const service = opts.service ?? resolveKeychainService(env);
  const platform = opts.platform ?? process.platform;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS;
  const forced = opts.prefer ?? parseForcedBackend(env.DEVTUNNEL_KEYCHAIN_BACKEND);

  const binding = await loadKeyring(opts.loadBinding);
  const probeSecretService =
    opts.probeSecretService ?? (opts.loadBinding ? undefined : probeSecretServiceInChild);

  if (platform === 'darwin' || platform === 'win32') {
    const backend: KeychainBackend = platform === 'darwin' ? 'macos-keychain' : 'windows-credential-manager';
    return new AsyncKeychainStore(binding, backend, service, timeoutMs, undefined, undefined);
  }
  if (platform !== 'linux') {
    throw noKeychainError(`devtunnel has no keychain support on ${platform}.`, []);
  }

  const reasons: string[] = [];
  if (!forced && !opts.loadBinding && !opts.probeSecretService && !sessionBusConfigured(process.env)) {
    // (process.env, not opts.env: the native binding reads the real environment to find the bus.)
    // No session bus is configured at all: asking would only fail (slowly, in a child process).
    reasons.push('Secret Service: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist)');
  } else if (forced !== 'keyutils') {
    const store = new AsyncKeychainStore(binding, 'secret-service', service, timeoutMs, { linux: { store: 'secret-service' } }, undefined);
    try {
      if (probeSecretService) await probeSecretService(service, timeoutMs);
      else await store.probe();
      return store;
    } catch (error) {
      reasons.push(`Secret Service: ${detailOf(error)}`);
    }
  }
  if (forced !== 'secret-service') {
    try {
      return KeyutilsStore.open(binding, service);
    } catch (error) {
      reasons.push(`Linux kernel keyring: ${detailOf(error)}`);
    }
  }
  const scope = forced ? ` (DEVTUNNEL_KEYCHAIN_BACKEND=${forced} allows no other store)` : '';
  throw noKeychainError(`No OS keychain is available to keep devtunnel's secrets${scope}.`, reasons, forced);
}

/** Whether a D-Bus session bus could be reached: an address in the environment, or the systemd user bus socket. */
export function sessionBusConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env.DBUS_SESSION_BUS_ADDRESS) return true;
  const runtimeDir = env.XDG_RUNTIME_DIR;
  return runtimeDir !== undefined && runtimeDir !== '' && existsSync(path.join(runtimeDir, 'bus'));
}

const CHILD_PROBE_SCRIPT = `
const { AsyncEntry } = require(process.env.DEVTUNNEL_PROBE_KEYRING_MODULE);
const fail = (e) => { process.stderr.write(String((e && e.message) || e)); process.exit(3); };
try {
  new AsyncEntry(process.env.DEVTUNNEL_PROBE_SERVICE, process.env.DEVTUNNEL_PROBE_ACCOUNT, { linux: { store: 'secret-service' } })
    .getPassword().then(() => process.exit(0), fail);
} catch (e) { fail(e); }
`;

/**
 * Asks the Secret Service for the probe entry from a child process. @napi-rs/keyring connects to
 * D-Bus synchronously in the AsyncEntry constructor, and against a bus or keyring daemon that never
 * replies that blocks the calling thread for 25 s or forever; no timer in this process can interrupt
 * it and a stuck worker thread keeps the process from exiting. A child can simply be killed.
 */
export function probeSecretServiceInChild(service: string, timeoutMs: number): Promise<void> {
  const modulePath = createRequire(import.meta.url).resolve('@napi-rs/keyring');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD_PROBE_SCRIPT], {
      env: {
        ...process.env,
        DEVTUNNEL_PROBE_KEYRING_MODULE: modulePath,
        DEVTUNNEL_PROBE_SERVICE: service,
        DEVTUNNEL_PROBE_ACCOUNT: PROBE_ACCOUNT,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4000) stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(timeoutError('secret-service', 'probe', PROBE_ACCOUNT, timeoutMs));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(stderr.trim() || `probe process ended with ${signal ?? `exit code ${String(code)}`}`));
    });
  });
}

function parseForcedBackend(value: string | undefined): LinuxKeychainBackend | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'secret-service' || value === 'keyutils') return value;
  throw new UserError(`DEVTUNNEL_KEYCHAIN_BACKEND must be "secret-service" or "keyutils", not ${JSON.stringify(value)}.`, {
    exitCode: ExitCode.usage,
    code: 'invalid_keychain_backend',
    suggestions: ['Unset DEVTUNNEL_KEYCHAIN_BACKEND to let devtunnel pick the store.'],
  });
}

async function loadKeyring(load: (() => Promise<KeyringBinding>) | undefined): Promise<KeyringBinding> {
  try {
    if (load) return await load();
    // Imported here, not at the top: loading the native addon costs start-up time for commands that never touch secrets.
    // require(), not import(): it is CommonJS, and import() would run Node's CJS export lexer over its
    // 29 kB loader first (time, and the lexer's TurboFan compile raises peak memory).
    const mod = createRequire(import.meta.url)('@napi-rs/keyring') as typeof import('@napi-rs/keyring');
    return { AsyncEntry: mod.AsyncEntry, Entry: mod.Entry };
  } catch (error) {
    throw noKeychainError('The OS keychain library (@napi-rs/keyring) could not be loaded.', [reasonOf(error)]);
  }
}

function noKeychainError(headline: string, reasons: string[], forced?: LinuxKeychainBackend): UserError {
  const details = reasons.map((r) => `\n  - ${r}`).join('');
  const suggestions: string[] = [];
  if (forced !== 'keyutils') suggestions.push(SECRET_SERVICE_SUGGESTION);
  if (forced !== 'secret-service') {
    suggestions.push('To use the kernel keyring, run devtunnel inside a session keyring: `keyctl session - devtunnel …` (Debian package keyutils).');
    suggestions.push(
      'Containers often block the kernel keyring (Docker\'s default seccomp profile denies keyctl); run devtunnel on the host or give the container a Secret Service.',
    );
  }
  if (forced) suggestions.push('Unset DEVTUNNEL_KEYCHAIN_BACKEND to let devtunnel try every store.');
  suggestions.push(CI_SUGGESTION);
  return new UserError(`${headline}${details}\ndevtunnel never writes secrets to disk in plaintext.`, {
    exitCode: ExitCode.noKeychain,
    code: 'no_keychain',
    suggestions,
  });
}

/** The first line of an error's message, with `secret` (if given) blanked out. */
function reasonOf(error: unknown, secret?: string): string {
  const text = error instanceof Error ? error.message : String(error);
  return redact(text.split('\n')[0] ?? text, secret);
}

/** For the no-keychain summary: the underlying reason without our own "could not …" wrapper. */
function detailOf(error: unknown): string {
  if (error instanceof UserError && error.cause instanceof Error) return error.cause.message;
  return reasonOf(error);
}

function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}

type Action = 'store' | 'read' | 'delete' | 'probe';
const VERBS: Record<Action, string> = { store: 'store', read: 'read', delete: 'delete', probe: 'answer a probe for' };

function failureError(backend: KeychainBackend, action: Action, account: string, error: unknown, secret?: string): UserError {
  const suggestions =
    backend === 'secret-service'
      ? ['Unlock your login keyring (or start gnome-keyring-daemon) and try again.', CI_SUGGESTION]
      : [`Check that the ${LABELS[backend]} is unlocked and that devtunnel may use it.`, CI_SUGGESTION];
  const reason = reasonOf(error, secret);
  // The cause is a fresh Error holding only the redacted text, never the native error itself.
  return new UserError(`The ${LABELS[backend]} could not ${VERBS[action]} ${JSON.stringify(account)}: ${reason}`, {
    exitCode: ExitCode.noKeychain,
    code: 'keychain_failed',
    suggestions,
    cause: new Error(reason),
  });
}

function timeoutError(backend: KeychainBackend, action: Action, account: string, timeoutMs: number): UserError {
  const seconds = timeoutMs >= 1000 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`;
  return new UserError(
    `The ${LABELS[backend]} did not answer within ${seconds} when asked to ${VERBS[action]} ${JSON.stringify(account)}.`,
    {
      exitCode: ExitCode.noKeychain,
      code: 'keychain_timeout',
      cause: new Error(`no answer within ${seconds}`),
      suggestions: [
        backend === 'secret-service'
          ? 'A keyring unlock prompt may be waiting on another screen, or the keyring daemon is stuck; unlock or restart it and try again.'
          : `Check that the ${LABELS[backend]} is responsive and try again.`,
        CI_SUGGESTION,
      ],
    },
  );
}

/** Keychains reached through IPC (D-Bus, Security framework, Credential Manager): every call is raced against a timer. */
class AsyncKeychainStore implements KeychainStore {
  constructor(
    private readonly binding: KeyringBinding,
    readonly backend: KeychainBackend,
    readonly service: string,
    private readonly timeoutMs: number,
    private readonly entryOptions: KeyringEntryOptions | undefined,
    readonly notice: string | undefined,
  ) {}

  /** Reads the probe entry: succeeds when the store answers at all. */
  async probe(): Promise<void> {
    await this.call('probe', PROBE_ACCOUNT, undefined, (entry, signal) => entry.getPassword(signal));
  }

  async setPassword(account: string, secret: string): Promise<void> {
    await this.call('store', account, secret, (entry, signal) => entry.setPassword(secret, signal));
  }

  async getPassword(account: string): Promise<string | undefined> {
    const value = await this.call('read', account, undefined, (entry, signal) => entry.getPassword(signal));
    return value ?? undefined;
  }

  async deletePassword(account: string): Promise<boolean> {
    return this.call('delete', account, undefined, (entry, signal) => entry.deletePassword(signal));
  }

  private async call<T>(
    action: Action,
    account: string,
    secret: string | undefined,
    run: (entry: AsyncKeyringEntry, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(timeoutError(this.backend, action, account, this.timeoutMs));
      }, this.timeoutMs);
    });
    try {
      const work = (async () => run(new this.binding.AsyncEntry(this.service, account, this.entryOptions), controller.signal))();
      return await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw failureError(this.backend, action, account, error, secret);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The kernel keyring. Calls are synchronous on purpose: @napi-rs/keyring resolves the session
 * keyring per thread, and async calls run on libuv worker threads whose credentials do not see
 * the session keyring the main thread joined (docs/keychain.md). Kernel keyring syscalls do not
 * block on another process, so they need no timer.
 */
class KeyutilsStore implements KeychainStore {
  readonly backend = 'keyutils' as const;
  readonly notice = KEYUTILS_NOTICE;
  private static readonly options: KeyringEntryOptions = { linux: { store: 'keyutils' } };

  private constructor(
    private readonly binding: KeyringBinding,
    readonly service: string,
  ) {}

  /** Warms up the thread's session keyring, then proves a full write/read/delete works. */
  static open(binding: KeyringBinding, service: string): KeyutilsStore {
    // Without a session keyring of its own, the first entry's KEYCTL_GET_PERSISTENT makes the kernel
    // give this thread a fresh session keyring, after which the serial that entry cached is no longer
    // "possessed" and every later call on it fails with EACCES. Entries made afterwards use the new one.
    new binding.Entry(service, PROBE_ACCOUNT, KeyutilsStore.options);
    const store = new KeyutilsStore(binding, service);
    const marker = randomBytes(12).toString('hex');
    store.sync('probe', PROBE_ACCOUNT, marker, (entry) => entry.setPassword(marker));
    const readBack = store.sync('probe', PROBE_ACCOUNT, marker, (entry) => entry.getPassword());
    store.sync('probe', PROBE_ACCOUNT, marker, (entry) => entry.deletePassword());
    if (readBack !== marker) throw new Error('a value written to the kernel keyring could not be read back');
    return store;
  }

  async setPassword(account: string, secret: string): Promise<void> {
    this.sync('store', account, secret, (entry) => entry.setPassword(secret));
  }

  async getPassword(account: string): Promise<string | undefined> {
    return this.sync('read', account, undefined, (entry) => entry.getPassword()) ?? undefined;
  }

  async deletePassword(account: string): Promise<boolean> {
    return this.sync('delete', account, undefined, (entry) => entry.deletePassword());
  }

  private sync<T>(action: Action, account: string, secret: string | undefined, run: (entry: SyncKeyringEntry) => T): T {
    try {
      return run(new this.binding.Entry(this.service, account, KeyutilsStore.options));
    } catch (error) {
      throw failureError(this.backend, action, account, error, secret);
    }
  }
}
