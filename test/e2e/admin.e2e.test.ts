// The admin story end to end, as real processes: a sandbox (`devtunnel sandbox --json`), an admin
// (its own config dir and keychain service) and developers (theirs), the real SDK and a private
// Secret Service. admin init → login → policy sign → invite → developer login → share → revoke.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { AsyncEntry } from '@napi-rs/keyring';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring-session.js';
import { CliProcess, isolatedEnv, runCli, type CliResult } from '../support/cli.js';
import { startSampleApp, type SampleApp } from '../support/sample-app.js';
import { publicRequest, type PublicResponse } from '../support/public-request.js';
import { signInWithStubIdp } from '../../src/sandbox/idp/index.js';
import { signPolicy } from '../../src/team/signed-policy.js';
import { generateTeamKey } from '../../src/team/team-key.js';

let keyring: PrivateKeyring;
let sandbox: CliProcess;
let info: Record<string, string>;
let app: SampleApp;
let work: string;
let admin: ReturnType<typeof isolatedEnv>;
const children: CliProcess[] = [];
const results: CliResult[] = [];
const cleanups: Array<() => void> = [];

const run = async (args: string[], env: Record<string, string>, input?: string) => {
  const r = await runCli(args, { env, input, timeoutMs: 30_000 });
  results.push(r);
  return r;
};

function readKeychain(env: Record<string, string>, account: string): Promise<string | undefined> {
  process.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
  return new AsyncEntry(env.DEVTUNNEL_KEYCHAIN_SERVICE!, account, { linux: { store: 'secret-service' } }).getPassword().then((v) => v ?? undefined);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** GET through the tunnel; signs in at the stub IdP first when the edge asks for it. */
async function throughTunnel(url: string, email: string): Promise<PublicResponse> {
  const first = await publicRequest({ url, path: '/teapot', caPath: info.ca_path! });
  if (first.status !== 302) return first;
  const { cookie } = await signInWithStubIdp({ url: `${url}/teapot`, email, caPath: info.ca_path! });
  return publicRequest({ url, path: '/teapot', caPath: info.ca_path!, headers: { cookie } });
}

function cmdline(pid: number | undefined): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

beforeAll(async () => {
  keyring = await startPrivateKeyring();
  work = mkdtempSync(path.join(tmpdir(), 'devtunnel-admin-'));
  const sbxEnv = isolatedEnv(keyring.env);
  cleanups.push(sbxEnv.cleanup);
  sandbox = new CliProcess(['sandbox', '--json', '--state', path.join(work, 'sandbox')], { env: sbxEnv.env });
  children.push(sandbox);
  info = (await sandbox.waitForEvent((e) => e.event === 'sandbox_ready', 20_000)) as Record<string, string>;
  app = await startSampleApp();
  admin = isolatedEnv(keyring.env);
  cleanups.push(admin.cleanup);
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill();
  await app?.close();
  for (const c of cleanups) c();
  await keyring?.stop();
});

const policyFile = () => path.join(work, 'policy.yaml');
const signedFile = () => path.join(work, 'policy.signed.json');
let aliceEnv: Record<string, string>;
let bobEnv: Record<string, string>;
let aliceShare: CliProcess;
let v1Signed = '';

describe('admin: from nothing to a first invite, through the sandbox REST API', () => {
  it('admin init makes the key (keychain only) and a starter policy; validate reports problems with line numbers', async () => {
    expect(info.api_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info.api_key).toMatch(/.{20,}/);
    const init = await run(
      ['admin', 'init', '--team', 'acme', '--name', 'Acme Corp', '--domain', info.domain!, '--ingress', info.agent_addr!, '--root-cas', info.ca_path!,
        '--api-url', info.api_url!, '--allow-domain', 'example.com', '--output', policyFile(), '--json'],
      admin.env,
    );
    expect(init.code, init.stderr).toBe(0);
    const out = JSON.parse(init.stdout);
    expect(out).toMatchObject({ team: { id: 'acme', name: 'Acme Corp' }, keychain: 'secret-service', policy_file: policyFile() });
    expect(out.key_fingerprint).toMatch(/^SHA256:/);
    const privateKey = await readKeychain(admin.env, 'admin-key:acme');
    expect(privateKey).toContain('BEGIN PRIVATE KEY');

    const ok = await run(['admin', 'policy', 'validate', policyFile()], admin.env);
    expect(ok.code, ok.stderr).toBe(0);

    // A broken copy: every problem is named with its line.
    const broken = path.join(work, 'broken.yaml');
    const doc = parseDocument(readFileSync(policyFile(), 'utf8'));
    doc.setIn(['profiles', 'open'], doc.createNode({ description: 'no sign-in' }));
    doc.setIn(['profiles', 'google', 'oauth', 'allow_domain'], 'typo.example');
    doc.setIn(['limits', 'max_ttl'], '72h');
    writeFileSync(broken, doc.toString());
    const bad = await run(['admin', 'policy', 'validate', broken, '--json'], admin.env);
    expect(bad.code).toBe(2);
    const err = JSON.parse(bad.stdout).error;
    expect(err.code).toBe('policy_invalid');
    const text = readFileSync(broken, 'utf8').split('\n');
    const lineOf = (needle: string) => text.findIndex((l) => l.includes(needle)) + 1;
    expect(err.message).toContain(`broken.yaml:${lineOf('open:') + 1}`);
    expect(err.message).toMatch(/profiles\.open: needs a sign-in method/);
    expect(err.message).toContain(`broken.yaml:${lineOf('allow_domain:')}`);
    expect(err.message).toContain('unknown field "allow_domain"');
    expect(err.message).toContain(`broken.yaml:${lineOf('max_ttl:')}`);
  }, 60_000);

  it('admin login takes the API key on stdin; policy sign writes the signed policy; invite prints only the code', async () => {
    const login = await run(['admin', 'login', '--stdin'], admin.env, `${info.api_key}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(await readKeychain(admin.env, 'admin-api:acme')).toBe(info.api_key);
    const wrong = await run(['admin', 'login', '--stdin', '--team', 'acme'], { ...admin.env, DEVTUNNEL_KEYCHAIN_SERVICE: `${admin.env.DEVTUNNEL_KEYCHAIN_SERVICE}-x` }, 'not-the-api-key\n');
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/ERR_NGROK_SBX_401|API key/);
    expect(wrong.stderr).not.toContain('not-the-api-key');

    const sign = await run(['admin', 'policy', 'sign', policyFile(), '--json'], admin.env);
    expect(sign.code, sign.stderr).toBe(0);
    expect(JSON.parse(sign.stdout)).toMatchObject({ output: signedFile(), version: 1, profiles: ['google'] });
    v1Signed = readFileSync(signedFile(), 'utf8');

    const invite = await run(['admin', 'invite', 'alice@example.com'], admin.env);
    expect(invite.code, invite.stderr).toBe(0);
    expect(invite.stdout).toMatch(/^dtinv1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    const bob = await run(['admin', 'invite', 'bob@example.com', '--expires', '2d', '--json'], admin.env);
    expect(bob.code, bob.stderr).toBe(0);
    const bobJson = JSON.parse(bob.stdout);
    expect(bobJson).toMatchObject({ email: 'bob@example.com', label: 'bob', acl: [`bind:*.bob.${info.domain}`] });

    const members = await run(['admin', 'members', '--json'], admin.env);
    expect(members.code, members.stderr).toBe(0);
    const list = JSON.parse(members.stdout).members;
    expect(list.map((m: { email: string }) => m.email)).toEqual(['alice@example.com', 'bob@example.com']);
    expect(list[0].acl).toEqual([`bind:*.alice.${info.domain}`]);
    const table = await run(['admin', 'members'], admin.env);
    expect(table.stdout.trim().split('\n')).toHaveLength(2);
    expect(table.stdout).toContain(`alice@example.com\t${list[0].credential_id}\t`);

    const a = isolatedEnv(keyring.env);
    const b = isolatedEnv(keyring.env);
    cleanups.push(a.cleanup, b.cleanup);
    aliceEnv = a.env;
    bobEnv = b.env;
    const aliceLogin = await run(['login', '--stdin', '--json'], aliceEnv, invite.stdout);
    expect(aliceLogin.code, aliceLogin.stderr).toBe(0);
    expect(JSON.parse(aliceLogin.stdout)).toMatchObject({ team: { id: 'acme' }, user: { email: 'alice@example.com', label: 'alice' }, profiles: ['google'] });
    expect((await run(['login', '--stdin'], bobEnv, bobJson.invite)).code).toBe(0);
  }, 60_000);

  it('invite refuses a second person on the same URL name (exit 4); the same email in another case is a re-invite', async () => {
    const before = JSON.parse((await run(['admin', 'members', '--json'], admin.env)).stdout).members as Array<{ email: string; credential_id: string }>;
    const other = await run(['admin', 'invite', 'alice@other.test'], admin.env);
    expect(other.code, other.stderr).toBe(4);
    expect(other.stdout).toBe('');
    expect(other.stderr).toContain('alice@other.test would get the URL name "alice"');
    expect(other.stderr).toContain(`alice@example.com (credential ${before[0]!.credential_id})`);
    expect(other.stderr).toMatch(/→ Invite an email alias/);
    expect(other.stderr).toContain('→ If alice@example.com no longer needs access: `devtunnel admin revoke alice@example.com`');
    const json = await run(['admin', 'invite', 'alice@other.test', '--json'], admin.env);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'user_label_taken', exit_code: 4 });

    const again = await run(['admin', 'invite', 'Alice@Example.com', '--json'], admin.env);
    expect(again.code, again.stderr).toBe(0);
    const reinvite = JSON.parse(again.stdout);
    expect(reinvite).toMatchObject({ email: 'alice@example.com', label: 'alice', earlier_credentials: [before[0]!.credential_id] });
    // Leave the team as it was for the tests below.
    expect((await run(['admin', 'revoke', reinvite.credential_id], admin.env)).code).toBe(0);
    const after = JSON.parse((await run(['admin', 'members', '--json'], admin.env)).stdout).members;
    expect(after).toEqual(before);

    // A credential id that is not one of this team's members (the sandbox's own demo developer)
    // is refused, and the credential survives: the API key reaches the whole ngrok account.
    const demoCredential = JSON.parse(Buffer.from(info.invite!.split('.')[1]!, 'base64url').toString('utf8')).credential_id as string;
    const foreign = await run(['admin', 'revoke', demoCredential], admin.env);
    expect(foreign.code, foreign.stderr).toBe(4);
    expect(foreign.stderr).toContain(`Credential ${demoCredential} is not a devtunnel member of team`);
    const list = await fetch(`${info.api_url}/credentials`, { headers: { authorization: `Bearer ${info.api_key}`, 'ngrok-version': '2' } });
    const ids = ((await list.json()) as { credentials: Array<{ id: string }> }).credentials.map((c) => c.id);
    expect(ids).toContain(demoCredential);
  }, 60_000);

  it('the invited developer shares on its own host; its token cannot bind another developer’s host', async () => {
    aliceShare = new CliProcess(['share', String(app.port), '--profile', 'google', '--json'], { env: aliceEnv });
    children.push(aliceShare);
    const ready = await aliceShare.waitForEvent((e) => e.event === 'ready', 20_000);
    expect(ready.host).toBe(`app.alice.${info.domain}`);
    const res = await throughTunnel(ready.url as string, 'alice@example.com');
    expect(res.status, res.body.toString()).toBe(418);

    // Bob's login with Alice's token (the CI override): the edge refuses app.bob.* for it.
    const aliceToken = (await readKeychain(aliceEnv, 'authtoken:acme'))!;
    const crossed = await run(['share', String(app.port), '--profile', 'google'], { ...bobEnv, DEVTUNNEL_AUTHTOKEN: aliceToken });
    expect(crossed.code, crossed.stderr).toBe(5);
    expect(crossed.stderr).toContain(`app.bob.${info.domain}`);
    expect(crossed.stderr).toContain('ERR_NGROK_319');
    expect(crossed.stderr).not.toContain(aliceToken);
  }, 60_000);

  it('sync: a newer signed policy adds a profile share can use; older, other-key and hand-edited ones are refused', async () => {
    const doc = parseDocument(readFileSync(policyFile(), 'utf8'));
    doc.set('version', 2);
    doc.setIn(['profiles', 'partners'], doc.createNode({ description: 'GitHub sign-in for named partners', oauth: { provider: 'github', allow_emails: ['bob@example.com'] } }));
    writeFileSync(policyFile(), doc.toString());
    // Version must go up: signing v1 content changes under v1 again is refused by validate/sign.
    const sign = await run(['admin', 'policy', 'sign', policyFile()], admin.env);
    expect(sign.code, sign.stderr).toBe(0);
    const v2Signed = readFileSync(signedFile(), 'utf8');

    // Served over HTTP (loopback), as policy_url would be.
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/v1' ? v1Signed : v2Signed);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const sync = await run(['sync', '--from', `${base}/v2`, '--json'], bobEnv);
      expect(sync.code, sync.stderr).toBe(0);
      expect(JSON.parse(sync.stdout)).toMatchObject({ updated: true, from_version: 1, to_version: 2, profiles: { added: ['partners'], removed: [], changed: [] } });
      const human = await run(['sync', '--from', `${base}/v2`], bobEnv);
      expect(human.stdout).toContain('Already up to date');

      const older = await run(['sync', '--from', `${base}/v1`], bobEnv);
      expect(older.code).toBe(4);
      expect(older.stderr).toMatch(/no rollback|version 2 is already in use/);

      const otherKey = generateTeamKey();
      const foreign = path.join(work, 'foreign.json');
      writeFileSync(foreign, JSON.stringify(signPolicy({ ...JSON.parse(v2Signed).policy, version: 3 }, otherKey.privateKeyPem)));
      const wrongKey = await run(['sync', '--from', foreign], bobEnv);
      expect(wrongKey.code).toBe(4);
      expect(wrongKey.stderr).toContain('not by your team');

      const edited = JSON.parse(v2Signed);
      edited.policy.version = 3;
      edited.policy.profiles.partners.oauth.allow_emails.push('mallory@evil.example');
      const editedFile = path.join(work, 'edited.json');
      writeFileSync(editedFile, JSON.stringify(edited));
      const handEdited = await run(['sync', '--from', editedFile, '--json'], bobEnv);
      expect(handEdited.code).toBe(4);
      expect(JSON.parse(handEdited.stdout).error.code).toBe('policy_signature_invalid');

      const profiles = await run(['profiles', '--json'], bobEnv);
      expect(profiles.stdout).toContain('partners');
      expect(profiles.stdout).not.toContain('mallory');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }

    const share = new CliProcess(['share', String(app.port), '--profile', 'partners', '--name', 'api', '--json'], { env: bobEnv });
    children.push(share);
    const ready = await share.waitForEvent((e) => e.event === 'ready', 20_000);
    expect(ready).toMatchObject({ profile: 'partners', host: `api.bob.${info.domain}` });
    share.child.kill('SIGINT');
    expect((await share.wait(5_000)).code).toBe(130);
  }, 90_000);

  it('admin revoke cuts the live share (exit 5, access revoked) and a new share fails the same way', async () => {
    const revoke = await run(['admin', 'revoke', 'alice@example.com', '--json'], admin.env);
    expect(revoke.code, revoke.stderr).toBe(0);
    const result = JSON.parse(revoke.stdout);
    expect(result.revoked).toEqual([expect.objectContaining({ email: 'alice@example.com' })]);
    expect(result.sessions_stopped.length).toBe(1);

    const exit = await aliceShare.wait(10_000);
    expect(exit.code, aliceShare.stderr).toBe(5);
    expect(aliceShare.stdout).toContain('"access_revoked"');
    expect(aliceShare.events().find((e) => e.event === 'closed')).toMatchObject({ reason: 'revoked' });

    const again = await run(['share', String(app.port), '--profile', 'google'], aliceEnv);
    expect(again.code, again.stderr).toBe(5);
    expect(again.stderr).toMatch(/revoked your access/);

    const members = await run(['admin', 'members', '--json'], admin.env);
    expect(JSON.parse(members.stdout).members.map((m: { email: string }) => m.email)).toEqual(['bob@example.com']);
  }, 60_000);

  it('canary: the admin private key and API key never reach files, output or argv', async () => {
    const privateKey = (await readKeychain(admin.env, 'admin-key:acme'))!;
    const body = privateKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const apiKey = info.api_key!;
    const secrets = [privateKey, body, apiKey];
    const files = [...filesUnder(admin.configDir), ...filesUnder(work).filter((f) => !f.includes(`${path.sep}sandbox${path.sep}`))];
    expect(files.some((f) => f.endsWith('admin.json'))).toBe(true);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const s of secrets) expect(text.includes(s), `${file} holds a secret`).toBe(false);
    }
    for (const r of results) for (const s of secrets) expect((r.stdout + r.stderr).includes(s)).toBe(false);
    for (const c of children.filter((c) => c !== sandbox)) for (const s of secrets) expect((c.stdout + c.stderr).includes(s)).toBe(false);
    // Long-running children's argv as the kernel shows it; and an admin command caught while it runs.
    const live = new CliProcess(['admin', 'members'], { env: admin.env });
    children.push(live);
    const seen = cmdline(live.child.pid);
    await live.wait(20_000);
    for (const s of secrets) {
      expect(seen.includes(s)).toBe(false);
      expect(cmdline(sandbox.child.pid).includes(s)).toBe(false);
    }
  }, 60_000);

  it('sandbox --json: every line names its "event" (edge events keep "type"); OAuth codes and states are redacted', () => {
    const lines = sandbox.stdout.split('\n').filter((l) => l.trim() !== '');
    const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]!.event).toBe('sandbox_ready');
    const later = events.slice(1);
    expect(later.length).toBeGreaterThan(5);
    for (const e of later) expect(e.event, JSON.stringify(e)).toBe(e.type);
    expect(later.map((e) => e.event)).toEqual(expect.arrayContaining(['session_auth', 'bind', 'proxy']));
    expect(sandbox.stdout).not.toMatch(/[?&](code|state)=(?!\[redacted\])/);
  });

  it('admin logout removes the API key and keeps the team key; --forget-team-key needs --yes without a terminal', async () => {
    const logout = await run(['admin', 'logout', '--json'], admin.env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(JSON.parse(logout.stdout)).toMatchObject({ team: 'acme', removed: ['admin-api:acme'], kept: [expect.objectContaining({ account: 'admin-key:acme' })] });
    expect(await readKeychain(admin.env, 'admin-api:acme')).toBeUndefined();
    expect(await readKeychain(admin.env, 'admin-key:acme')).toContain('BEGIN PRIVATE KEY');
    const members = await run(['admin', 'members'], admin.env);
    expect(members.code).toBe(3);
    expect(members.stderr).toContain('admin login');

    const unconfirmed = await run(['admin', 'logout', '--forget-team-key'], admin.env);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('--yes');
    expect(await readKeychain(admin.env, 'admin-key:acme')).toContain('BEGIN PRIVATE KEY');
    const forget = await run(['admin', 'logout', '--forget-team-key', '--yes'], admin.env);
    expect(forget.code, forget.stderr).toBe(0);
    expect(forget.stdout).toContain('Removed admin-key:acme');
    expect(await readKeychain(admin.env, 'admin-key:acme')).toBeUndefined();
    expect((await run(['admin', 'members'], admin.env)).code).toBe(3);
  }, 60_000);
});
