// The login service with fakes: a real TeamStore in a temp dir, an in-memory keychain, a fake
// prompter. Checks what is stored where, and the refusals that store nothing.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { CliContext } from '../../../src/cli/context.js';
import { UserError } from '../../../src/errors.js';
import { login, readInviteCode } from '../../../src/account/login.js';
import { logout } from '../../../src/account/logout.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import { createDemoTeam } from '../../../src/team/demo-team.js';
import { TeamStore } from '../../../src/team/team-store.js';
import { createOutput } from '../../../src/ui/output.js';
import { Redactor } from '../../../src/ui/redact.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n';
const TOKEN = 'tok_canary_0123456789abcdefghij';
const demo = createDemoTeam({
  domain: 'devtunnel.localhost',
  serverAddr: '127.0.0.1:4443',
  rootCasPem: PEM,
  idpUrl: 'https://idp.devtunnel.localhost:8443',
  authtoken: TOKEN,
  credentialId: 'cr_test',
});

function fakeContext(opts: { stdin?: string; interactive?: boolean; answer?: string } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'devtunnel-login-'));
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
  const keychain = new MemoryStore();
  const asked: string[] = [];
  const ctx: CliContext = {
    env: {},
    stdin: Readable.from(opts.stdin === undefined ? [] : [opts.stdin]),
    stdout: sink(),
    stderr: sink(),
    tty: { stdin: false, stdout: false, stderr: false },
    out: createOutput({ stdout: sink(), stderr: sink(), json: true, color: false }),
    prompter: {
      interactive: opts.interactive ?? false,
      secret: async (q) => {
        asked.push(q);
        return opts.answer ?? '';
      },
      confirm: async () => false,
    },
    redactor: new Redactor(),
    now: () => new Date(),
    version: '0.0.0-test',
    teamStore: async () => new TeamStore({ cwd: dir }),
    secretStore: async () => keychain,
    tunnelStarter: async () => {
      throw new Error('not used');
    },
  };
  return { ctx, dir, keychain, asked };
}

describe('readInviteCode', () => {
  it('reads --stdin, trims it, and registers it for redaction', async () => {
    const f = fakeContext({ stdin: `  ${demo.invite}\n` });
    expect(await readInviteCode(f.ctx, { stdin: true })).toBe(demo.invite);
    expect(f.ctx.redactor.redact(`x ${demo.invite} y`)).toBe('x [redacted] y');
  });

  it('asks with a secret prompt on a terminal, and refuses without one naming --stdin', async () => {
    const f = fakeContext({ interactive: true, answer: demo.invite });
    expect(await readInviteCode(f.ctx, { stdin: false })).toBe(demo.invite);
    expect(f.asked).toEqual(['Invite code from your team admin:']);
    const g = fakeContext();
    await expect(readInviteCode(g.ctx, { stdin: false })).rejects.toMatchObject({ exitCode: 2, suggestions: [expect.stringContaining('--stdin')] });
  });

  it('refuses an argument together with --stdin, and an empty code', async () => {
    await expect(readInviteCode(fakeContext().ctx, { arg: demo.invite, stdin: true })).rejects.toBeInstanceOf(UserError);
    await expect(readInviteCode(fakeContext({ stdin: '\n' }).ctx, { stdin: true })).rejects.toMatchObject({ code: 'invite_empty' });
  });
});

describe('login and logout', () => {
  it('puts the token and team secrets in the keychain and only public facts in the store', async () => {
    const f = fakeContext();
    const result = await login(f.ctx, demo.invite, {});
    expect(result).toMatchObject({ team: { id: 'demo' }, user: { email: 'dev@example.com', label: 'dev' }, replaced_previous_login: false });
    expect(f.keychain.snapshot()).toEqual({ 'authtoken:demo': TOKEN, 'team-secret:demo:demo-oidc': demo.secrets['demo-oidc'] });
    for (const file of readdirSync(f.dir)) {
      const text = readFileSync(path.join(f.dir, file), 'utf8');
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(demo.secrets['demo-oidc']!);
    }
    const out = await logout(f.ctx);
    expect(out).toMatchObject({ was_logged_in: true, removed_keychain_entries: 2 });
    expect(f.keychain.snapshot()).toEqual({});
  });

  it('a wrong --fingerprint stores nothing', async () => {
    const f = fakeContext();
    await expect(login(f.ctx, demo.invite, { fingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).rejects.toMatchObject({ exitCode: 2 });
    expect(f.keychain.snapshot()).toEqual({});
    expect(readdirSync(f.dir)).toEqual([]);
  });
});
