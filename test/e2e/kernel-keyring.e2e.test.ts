// A headless Linux box without a Secret Service: the built CLI keeps its secrets in the kernel
// keyring, says so once at login (not on every command), and reads them back for share.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openKeychain } from '../../src/secrets/keychain-store.js';
import { UserError } from '../../src/errors.js';
import { isolatedEnv, runCli } from '../support/cli.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';

let sandbox: RunningSandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-sbx-')) });
});
afterAll(async () => sandbox?.close());

describe('kernel keyring on a machine with no session bus', () => {
  it('logs in, tells the user once where the secrets live, and whoami finds the token', async (ctx) => {
    try {
      await openKeychain({ prefer: 'keyutils', service: 'devtunnel-e2e-probe', env: {} });
    } catch (error) {
      if (error instanceof UserError && error.code === 'no_keychain') ctx.skip(`kernel keyring unusable here: ${error.message}`);
      throw error;
    }
    // No DBUS_SESSION_BUS_ADDRESS and no XDG_RUNTIME_DIR: the Secret Service cannot be reached.
    const user = isolatedEnv();
    const login = await runCli(['login', '--stdin'], { env: user.env, input: sandbox.info.invite });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('Authtoken stored in: keyutils');
    expect(login.stderr).toMatch(/kernel keyring.*until reboot/s);

    const who = await runCli(['whoami', '--json'], { env: user.env });
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout).authtoken).toEqual({ present: true, source: 'keyutils' });
    expect(who.stderr).not.toMatch(/kernel keyring/);

    const logout = await runCli(['logout', '--json'], { env: user.env });
    expect(JSON.parse(logout.stdout)).toMatchObject({ was_logged_in: true, removed_keychain_entries: 2 });
    const after = await runCli(['whoami'], { env: user.env });
    expect(after.code).toBe(3);
    user.cleanup();
  }, 60_000);
});
