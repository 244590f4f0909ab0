// A damaged or edited login file is never used, and the commands the error suggests repair it:
// `logout` removes it, and `login` replaces it directly.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { isolatedEnv, runCli } from '../support/cli.js';
import { useSandboxAndKeyring } from '../support/sandbox-and-keyring.js';

const stage = useSandboxAndKeyring();

describe('a damaged login file', () => {
  it('is refused with exit 3, removed by logout, and replaced by login', async () => {
    const user = isolatedEnv(stage.keyring.env);
    writeFileSync(path.join(user.configDir, 'team.json'), '{not json');
    const who = await runCli(['whoami'], { env: user.env });
    expect(who.code).toBe(3);
    expect(who.stderr).toContain('damaged or was edited');

    const logout = await runCli(['logout', '--json'], { env: user.env });
    expect(logout.code, logout.stderr).toBe(0);
    expect(JSON.parse(logout.stdout)).toMatchObject({ removed_damaged_login: true });
    expect((await runCli(['whoami'], { env: user.env })).code).toBe(3);
    expect(JSON.parse((await runCli(['logout', '--json'], { env: user.env })).stdout)).toMatchObject({ was_logged_in: false });

    // Straight over a damaged file, without logging out first.
    writeFileSync(path.join(user.configDir, 'team.json'), '{not json');
    const login = await runCli(['login', '--stdin'], { env: user.env, input: stage.sandbox.info.invite });
    expect(login.code, login.stderr).toBe(0);
    const whoAfter = await runCli(['whoami', '--json'], { env: user.env });
    expect(whoAfter.code, whoAfter.stderr).toBe(0);
    expect(JSON.parse(whoAfter.stdout).user.email).toBe('dev@example.com');
    await runCli(['logout'], { env: user.env });
    user.cleanup();
  }, 60_000);

  it('in a config "directory" that is a file says so, with exit 2', async () => {
    const user = isolatedEnv({ ...stage.keyring.env });
    const notADir = path.join(user.configDir, 'plain-file');
    writeFileSync(notADir, 'x');
    const who = await runCli(['whoami'], { env: { ...user.env, DEVTUNNEL_CONFIG_DIR: notADir } });
    expect(who.code).toBe(2);
    expect(who.stderr).toContain('is not a directory');
    expect(who.stderr).toContain('DEVTUNNEL_CONFIG_DIR');
    user.cleanup();
  });
});
