// `devtunnel sandbox` as a user starts it: the admin quick start it prints works as printed, in a
// shell, against that sandbox (and again on a second run, as after a restart).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring-session.js';
import { binPath, CliProcess, isolatedEnv, runCli } from '../support/cli.js';

const exec = promisify(execFile);
let keyring: PrivateKeyring;
let work: string;
let sandbox: CliProcess;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  keyring = await startPrivateKeyring();
  work = mkdtempSync(path.join(tmpdir(), 'devtunnel-sandbox-cli-'));
}, 30_000);

afterAll(async () => {
  sandbox?.kill();
  for (const c of cleanups) c();
  rmSync(work, { recursive: true, force: true });
  await keyring?.stop();
});

async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout: ${sandbox.stdout}\nstderr: ${sandbox.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('devtunnel sandbox prints an admin quick start that works as printed', () => {
  it('init, login from the key file, sign and invite succeed in a shell; members then lists the invitee', async () => {
    const sbxEnv = isolatedEnv(keyring.env);
    cleanups.push(sbxEnv.cleanup);
    sandbox = new CliProcess(['sandbox', '--state', path.join(work, 'state')], { env: sbxEnv.env });
    await waitFor(() => sandbox.stderr.includes('Press Ctrl-C'), 'the sandbox to start');

    const lines = sandbox.stdout.split('\n');
    const start = lines.findIndex((l) => l.startsWith('Or act as the team admin'));
    expect(start, sandbox.stdout).toBeGreaterThan(0);
    expect(lines[start]).toContain('docs/administrators.md');
    const commands = lines
      .slice(start + 1)
      .filter((l) => l.startsWith('  devtunnel '))
      .map((l) => l.trim());
    expect(commands.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'devtunnel admin init',
      'devtunnel admin login',
      'devtunnel admin policy',
      'devtunnel admin invite',
    ]);
    expect(sandbox.stdout).not.toContain('<id>');

    // `devtunnel` on PATH, as after `npm link`; a fresh admin (its own config dir and keychain service).
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(binPath, path.join(bin, 'devtunnel'));
    const admin = isolatedEnv(keyring.env);
    cleanups.push(admin.cleanup);
    const adminEnv = { ...admin.env, PATH: `${bin}${path.delimiter}${admin.env.PATH}` };
    const cwd = path.join(work, 'admin');
    mkdirSync(cwd);
    for (const round of [1, 2]) {
      for (const command of commands) {
        const r = await exec('bash', ['-c', command], { cwd, env: adminEnv, timeout: 30_000 }).catch((e: { code: number; stdout: string; stderr: string }) => e);
        expect((r as { code?: number }).code ?? 0, `round ${round}: ${command}\n${r.stderr}`).toBe(0);
      }
      expect(readFileSync(path.join(cwd, 'alice.invite'), 'utf8')).toMatch(/^dtinv1\./);
    }
    const members = await runCli(['admin', 'members', '--team', 'sandbox', '--json'], { env: adminEnv });
    expect(members.code, members.stderr).toBe(0);
    const list = JSON.parse(members.stdout).members as Array<{ email: string; label: string }>;
    expect(list.map((m) => m.email)).toEqual(['alice@example.com', 'alice@example.com']);

    sandbox.child.kill('SIGINT');
    expect((await sandbox.wait(10_000)).code).toBe(130);
  }, 90_000);
});
