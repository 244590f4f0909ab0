// The real keychain on Linux: a private Secret Service (gnome-keyring on a private D-Bus), no D-Bus
// at all, a bus that never answers, and the kernel keyring. Needs the Debian packages installed by
// .ci/run (dbus, gnome-keyring, libsecret-tools, keyutils).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../src/errors.js';
import { EnvOverrideStore } from '../../src/secrets/env-override-store.js';
import {
  KEYUTILS_NOTICE,
  openKeychain,
  probeSecretServiceInChild,
  type KeychainStore,
  type KeyringBinding,
} from '../../src/secrets/keychain-store.js';
import { findOnPath, startPrivateKeyring, type PrivateKeyring } from '../support/keyring-session.js';

const linuxOnly = process.platform === 'linux' ? describe : describe.skip;
const service = `devtunnel-test-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Sets variables on process.env (the native library reads the real environment); returns an undo. */
function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  return () => apply(saved);
}

/** Runs a tool; `input` goes to stdin, so secrets never appear in argv. */
function runTool(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = execFile(file, args, { env: opts.env ?? process.env, timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.on('error', reject);
    child.stdin?.end(opts.input ?? '');
  });
}

function requireTool(binary: string, debianPackage: string): string {
  const found = findOnPath(binary);
  if (!found) throw new Error(`${binary} is missing: install the Debian package ${debianPackage} (see .ci/run)`);
  return found;
}

async function expectUserError(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

/** Whether the kernel keyring works for devtunnel here; the reason if not. */
async function kernelKeyring(): Promise<{ store: KeychainStore } | { reason: string }> {
  try {
    return { store: await openKeychain({ service, prefer: 'keyutils', env: {} }) };
  } catch (error) {
    if (error instanceof UserError && error.code === 'no_keychain') return { reason: error.message };
    throw error;
  }
}

linuxOnly('keychain: Secret Service on a private gnome-keyring', () => {
  let keyring: PrivateKeyring | undefined;
  let restoreEnv: (() => void) | undefined;

  beforeAll(async () => {
    requireTool('secret-tool', 'libsecret-tools');
    keyring = await startPrivateKeyring();
    restoreEnv = setEnv({ ...keyring.env, DEVTUNNEL_KEYCHAIN_BACKEND: undefined });
  });

  afterAll(async () => {
    restoreEnv?.();
    await keyring?.stop();
  });

  const secretTool = (args: string[], input?: string) =>
    runTool('secret-tool', args, { env: { ...process.env, ...keyring?.env }, input });

  it('is chosen automatically and round-trips set/get/delete, visible to another client', async () => {
    const store = await openKeychain({ service, env: {} });
    expect(store.backend).toBe('secret-service');
    expect(store.notice).toBeUndefined();

    const secret = `tok_${randomBytes(12).toString('hex')}`;
    await store.setPassword('authtoken:acme', secret);
    expect(await store.getPassword('authtoken:acme')).toBe(secret);

    // Read back independently, through libsecret rather than @napi-rs/keyring.
    const lookup = await secretTool(['lookup', 'service', service, 'username', 'authtoken:acme']);
    expect(lookup.code).toBe(0);
    expect(lookup.stdout).toBe(secret);

    expect(await store.deletePassword('authtoken:acme')).toBe(true);
    expect(await store.deletePassword('authtoken:acme')).toBe(false);
    expect(await store.getPassword('authtoken:acme')).toBeUndefined();
    const gone = await secretTool(['lookup', 'service', service, 'username', 'authtoken:acme']);
    expect(gone.stdout).toBe('');
  });

  it('reads an entry another client stored', async () => {
    const secret = `whsec_${randomBytes(12).toString('hex')}`;
    const stored = await secretTool(['store', '--label=devtunnel test', 'service', service, 'username', 'webhook:acme:github'], secret);
    expect(stored.code, stored.stderr).toBe(0);
    const store = await openKeychain({ service, env: {} });
    expect(await store.getPassword('webhook:acme:github')).toBe(secret);
    expect(await store.deletePassword('webhook:acme:github')).toBe(true);
  });

  it('DEVTUNNEL_AUTHTOKEN wins for reads, while writes still reach the keychain', async () => {
    const keychain = await openKeychain({ service, env: {} });
    const env = { DEVTUNNEL_AUTHTOKEN: 'env-token', NGROK_AUTHTOKEN: 'personal-token' };
    const store = new EnvOverrideStore(keychain, env);
    await store.setPassword('authtoken:acme', 'keychain-token');
    expect(await store.getPassword('authtoken:acme')).toBe('env-token');
    expect(store.overriddenBy('authtoken:acme')).toBe('DEVTUNNEL_AUTHTOKEN');
    expect(await keychain.getPassword('authtoken:acme')).toBe('keychain-token');

    const withoutOverride = new EnvOverrideStore(keychain, { NGROK_AUTHTOKEN: 'personal-token' });
    expect(await withoutOverride.getPassword('authtoken:acme')).toBe('keychain-token');
    expect(await store.deletePassword('authtoken:acme')).toBe(true);
    expect(await withoutOverride.getPassword('authtoken:acme')).toBeUndefined();
  });
});

linuxOnly('keychain: without a Secret Service', () => {
  let dir = '';
  let restoreEnv: (() => void) | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'devtunnel-nobus-'));
    restoreEnv = setEnv({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(dir, 'no-bus-here')}`, DEVTUNNEL_KEYCHAIN_BACKEND: undefined });
  });

  afterAll(async () => {
    restoreEnv?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails with exit 6 when there is no D-Bus and the kernel keyring is unavailable', async () => {
    const real = await import('@napi-rs/keyring');
    // The kernel keyring cannot be switched off from inside a test, so its binding is replaced by one
    // that fails the way a container's seccomp profile makes it fail; the D-Bus side is real.
    const binding: KeyringBinding = {
      AsyncEntry: real.AsyncEntry,
      Entry: class {
        constructor() {
          throw new Error("Couldn't access platform storage: keyctl: Operation not permitted");
        }
      } as unknown as KeyringBinding['Entry'],
    };
    const error = await expectUserError(
      openKeychain({ service, env: {}, loadBinding: async () => binding, probeSecretService: probeSecretServiceInChild }),
    );
    expect(error.exitCode).toBe(ExitCode.noKeychain);
    expect(error.code).toBe('no_keychain');
    expect(error.message).toMatch(/Secret Service: .*no-bus-here/);
    expect(error.message).toMatch(/Linux kernel keyring: .*Operation not permitted/);
    expect(error.suggestions.join('\n')).toMatch(/gnome-keyring.*dbus-user-session/);
    expect(error.suggestions.join('\n')).toMatch(/DEVTUNNEL_AUTHTOKEN/);
  });

  it('fails with exit 6 when only the Secret Service is allowed and there is no D-Bus', async () => {
    const error = await expectUserError(openKeychain({ service, env: { DEVTUNNEL_KEYCHAIN_BACKEND: 'secret-service' } }));
    expect(error.exitCode).toBe(ExitCode.noKeychain);
    expect(error.message).toMatch(/DEVTUNNEL_KEYCHAIN_BACKEND=secret-service/);
  });

  it('times out a D-Bus socket that never answers, within the limit', async () => {
    // A listener that accepts and never speaks: @napi-rs/keyring would block the thread forever here.
    const silent = net.createServer(() => undefined);
    const socketPath = path.join(dir, 'silent-bus');
    await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
    const restore = setEnv({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${socketPath}` });
    try {
      const started = Date.now();
      const error = await expectUserError(openKeychain({ service, prefer: 'secret-service', timeoutMs: 1_000, env: {} }));
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(error.exitCode).toBe(ExitCode.noKeychain);
      expect(error.message).toMatch(/Secret Service: no answer within 1 s/);
    } finally {
      restore();
      silent.close();
    }
  });

  it('falls back to the kernel keyring with a notice, when the kernel allows it', async (ctx) => {
    const probe = await kernelKeyring();
    if ('reason' in probe) ctx.skip(`kernel keyring unusable on this machine: ${probe.reason}`);
    const store = await openKeychain({ service, env: {} });
    expect(store.backend).toBe('keyutils');
    expect(store.notice).toBe(KEYUTILS_NOTICE);
  });
});

linuxOnly('keychain: Linux kernel keyring (keyutils)', () => {
  it('round-trips set/get/delete and the value is readable from another process', async (ctx) => {
    const probe = await kernelKeyring();
    if ('reason' in probe) ctx.skip(`kernel keyring unusable on this machine: ${probe.reason}`);
    const { store } = probe as { store: KeychainStore };
    expect(store.backend).toBe('keyutils');

    const secret = `tok_${randomBytes(12).toString('hex')}`;
    await store.setPassword('authtoken:acme', secret);
    try {
      expect(await store.getPassword('authtoken:acme')).toBe(secret);

      // Independently: keyctl in a fresh session keyring, finding the key through the user's
      // persistent keyring, which is where @napi-rs/keyring links it for other processes.
      const keyctl = requireTool('keyctl', 'keyutils');
      const description = `keyring:authtoken:acme@${service}`;
      const other = await runTool(
        keyctl,
        ['session', '-', 'sh', '-c', 'keyctl get_persistent @s >/dev/null && keyctl pipe "%user:$DEVTUNNEL_KEY_DESCRIPTION"'],
        { env: { ...process.env, DEVTUNNEL_KEY_DESCRIPTION: description } },
      );
      expect(other.stderr).not.toContain(secret);
      expect(other.stdout).toBe(secret);
    } finally {
      expect(await store.deletePassword('authtoken:acme')).toBe(true);
    }
    expect(await store.getPassword('authtoken:acme')).toBeUndefined();
    expect(await store.deletePassword('authtoken:acme')).toBe(false);
  });

  it('works in a process that joined no session keyring (the case that used to fail with AccessDenied)', async (ctx) => {
    const probe = await kernelKeyring();
    if ('reason' in probe) ctx.skip(`kernel keyring unusable on this machine: ${probe.reason}`);
    // A fresh node process using devtunnel's warm-up recipe directly on @napi-rs/keyring: first
    // Entry only to settle the session keyring, then the real calls. The secret arrives via env.
    const script = `
      const { Entry } = require('@napi-rs/keyring');
      const o = { linux: { store: 'keyutils' } };
      const { SVC, SECRET } = process.env;
      new Entry(SVC, 'devtunnel-probe', o);
      new Entry(SVC, 'authtoken:child', o).setPassword(SECRET);
      process.stdout.write(String(new Entry(SVC, 'authtoken:child', o).getPassword() === SECRET));
    `;
    const secret = randomBytes(16).toString('hex');
    const result = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, SVC: service, SECRET: secret }, cwd: process.cwd() });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child failed (${String(code)}): ${err}`))));
    });
    expect(result).toBe('true');
    const { store } = probe as { store: KeychainStore };
    expect(await store.getPassword('authtoken:child')).toBe(secret);
    expect(await store.deletePassword('authtoken:child')).toBe(true);
  });
});
