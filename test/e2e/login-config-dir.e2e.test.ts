// login checks where it will write before it writes anything: a config "directory" that is a
// file is exit 2 with nothing stored in the keychain.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { AsyncEntry } from '@napi-rs/keyring';
import { isolatedEnv, runCli } from '../support/cli.js';
import { useSandboxAndKeyring } from '../support/sandbox-and-keyring.js';

const stage = useSandboxAndKeyring();

describe('login into an unusable config dir', () => {
  it('is refused with exit 2 before anything reaches the keychain', async () => {
    const user = isolatedEnv(stage.keyring.env);
    const file = path.join(user.configDir, 'a-file');
    writeFileSync(file, 'x');
    const env: Record<string, string> = { ...user.env, DEVTUNNEL_CONFIG_DIR: file };
    const result = await runCli(['login', '--stdin', '--json'], { env, input: stage.sandbox.info.invite });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: 'config_dir_unusable', exit_code: 2 });
    process.env.DBUS_SESSION_BUS_ADDRESS = stage.keyring.env.DBUS_SESSION_BUS_ADDRESS;
    const stored = await new AsyncEntry(env.DEVTUNNEL_KEYCHAIN_SERVICE!, 'authtoken:demo', { linux: { store: 'secret-service' } }).getPassword();
    expect(stored ?? undefined).toBeUndefined();
    user.cleanup();
  });
});
