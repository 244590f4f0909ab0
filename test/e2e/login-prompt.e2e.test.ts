// `devtunnel login` with no code: a masked prompt on a real terminal (a pty made by util-linux
// `script`), and a clear refusal naming --stdin when there is no terminal.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { binPath, isolatedEnv, runCli } from '../support/cli.js';
import { useSandboxAndKeyring } from '../support/sandbox-and-keyring.js';

const stage = useSandboxAndKeyring();

describe('login without a code', () => {
  it('asks on a terminal with a masked prompt, and the code never appears on screen', async (ctx) => {
    if (!existsSync('/usr/bin/script')) ctx.skip('util-linux `script` is not installed');
    const user = isolatedEnv({ ...stage.keyring.env, CI: '', TERM: 'xterm' });
    const child = spawn('/usr/bin/script', ['-qfec', `${process.execPath} ${binPath} login`, '/dev/null'], { env: user.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d) => (screen += d));
    child.stderr.on('data', (d) => (screen += d));
    const deadline = Date.now() + 15_000;
    while (!screen.includes('Invite code') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(screen).toContain('Invite code from your team admin');
    child.stdin.write(`${stage.sandbox.info.invite}\r`);
    const typedAt = Date.now();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, screen).toBe(0);
    // Pasting a 4 KB code must not lag: a per-character re-render once took 16 s here.
    expect(Date.now() - typedAt).toBeLessThan(5_000);
    expect(screen).toContain('Logged in to Demo Team (demo) as dev@example.com.');
    expect(screen).not.toContain(stage.sandbox.info.invite.slice(10, 60));
    const who = await runCli(['whoami', '--json'], { env: { ...user.env, CI: '1' } });
    expect(JSON.parse(who.stdout).authtoken.present).toBe(true);
    await runCli(['logout'], { env: user.env });
    user.cleanup();
  }, 60_000);

  it('without a terminal fails at once with exit 2 and names --stdin', async () => {
    const user = isolatedEnv(stage.keyring.env);
    const result = await runCli(['login'], { env: user.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not an interactive terminal');
    expect(result.stderr).toContain('--stdin');
    user.cleanup();
  });
});
