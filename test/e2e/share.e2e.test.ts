// The walking skeleton, end to end: the built CLI as a real process, the real @ngrok/ngrok
// agent, the sandbox edge, a real local app, and a real OS keychain (a private gnome-keyring).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { AsyncEntry } from '@napi-rs/keyring';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring-session.js';
import { CliProcess, isolatedEnv, runCli } from '../support/cli.js';
import { startSampleApp, type SampleApp } from '../support/sample-app.js';
import { publicRequest } from '../support/public-request.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { compileProfile } from '../../src/profiles/compile.js';
import { signInWithStubIdp } from '../../src/sandbox/idp/sign-in.js';
import { createDemoTeam } from '../../src/team/demo-team.js';

let keyring: PrivateKeyring;
let sandbox: RunningSandbox;
let app: SampleApp;
const children: CliProcess[] = [];

function readKeychain(env: Record<string, string>, account: string): Promise<string | undefined> {
  process.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
  return new AsyncEntry(env.DEVTUNNEL_KEYCHAIN_SERVICE!, account, { linux: { store: 'secret-service' } })
    .getPassword()
    .then((value) => value ?? undefined);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

beforeAll(async () => {
  keyring = await startPrivateKeyring();
  sandbox = await startSandbox({ stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-sbx-')) });
  app = await startSampleApp();
});

afterAll(async () => {
  for (const child of children) child.kill();
  await app?.close();
  await sandbox?.close();
  await keyring?.stop();
});

function newUser() {
  const iso = isolatedEnv(keyring.env);
  return iso;
}

describe('login → whoami → share through the sandbox edge', () => {
  it('logs in with the invite, keeps the token only in the keychain, and shares a real app', async () => {
    const user = newUser();
    const login = await runCli(['login', '--stdin', '--json'], { env: user.env, input: `${sandbox.info.invite}\n` });
    expect(login.stderr).not.toContain(sandbox.demoCredential.token);
    expect(login.code, login.stderr).toBe(0);
    const loginJson = JSON.parse(login.stdout);
    expect(loginJson).toMatchObject({ team: { id: 'demo' }, user: { email: 'dev@example.com', label: 'dev' }, keychain: 'secret-service' });
    expect(loginJson.key_fingerprint).toBe(sandbox.info.team_fingerprint);
    expect(login.stdout).not.toContain(sandbox.demoCredential.token);

    // The real keychain holds the token and the team secret; no file under the config dir does.
    expect(await readKeychain(user.env, 'authtoken:demo')).toBe(sandbox.demoCredential.token);
    expect(await readKeychain(user.env, 'team-secret:demo:demo-oidc')).toBe(sandbox.demo.secrets['demo-oidc']);
    const files = filesUnder(user.configDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text).not.toContain(sandbox.demoCredential.token);
      expect(text).not.toContain(sandbox.demo.secrets['demo-oidc']);
      expect(text).not.toContain(sandbox.info.invite);
    }

    const who = await runCli(['whoami', '--json'], { env: user.env });
    expect(who.code, who.stderr).toBe(0);
    const whoJson = JSON.parse(who.stdout);
    expect(whoJson).toMatchObject({
      team: { id: 'demo', name: sandbox.demo.policy.team.name },
      user: { email: 'dev@example.com' },
      ingress: sandbox.edge.agentAddr,
      domain: 'devtunnel.localhost',
      authtoken: { present: true, source: 'secret-service' },
    });
    expect(who.stdout).not.toContain(sandbox.demoCredential.token);

    const share = new CliProcess(['share', String(app.port), '--profile', 'sso', '--json'], { env: user.env });
    children.push(share);
    const ready = await share.waitForEvent((e) => e.event === 'ready', 20_000);
    const host = 'app.dev.devtunnel.localhost';
    expect(ready).toMatchObject({ event: 'ready', profile: 'sso', local: `http://localhost:${app.port}`, host });
    expect(ready.url).toBe(`https://${host}:${sandbox.edge.httpsPort}`);

    // The edge recorded the bind: expected host, ACL check passed, and exactly the compiled policy.
    const bind = sandbox.edge.events.list('bind').find((e) => e.type === 'bind' && e.host === host);
    expect(bind).toBeDefined();
    expect(bind).toMatchObject({ acl_check: 'passed', host });
    const expected = compileProfile(sandbox.demo.policy.profiles.sso!, {
      user: { email: 'dev@example.com', label: 'dev' },
      team: sandbox.demo.policy.team,
      secrets: sandbox.demo.secrets,
    });
    expect(bind && bind.type === 'bind' ? bind.traffic_policy : undefined).toEqual(JSON.parse(JSON.stringify(expected)));
    // One agent session (the one connected at start-up, before oclif loaded, is the one used):
    // it says who runs it; the endpoint says which profile.
    const sessions = sandbox.edge.sessions().filter((s) => s.credentialId === sandbox.demoCredential.id);
    expect(sessions, JSON.stringify(sandbox.edge.sessions())).toHaveLength(1);
    expect(JSON.parse(sessions[0]!.metadata)).toMatchObject({ user: 'dev@example.com', team: 'demo', policy_version: 1 });
    const endpoint = sandbox.edge.endpoints().find((e) => e.host === host);
    expect(endpoint?.sessionId).toBe(sessions[0]!.id);
    expect(JSON.parse(endpoint!.metadata)).toEqual({ profile: 'sso' });

    // The sso profile is enforced: without a session the edge sends the visitor to sign in, and
    // the app sees nothing. Signed in through the stub IdP, requests carry the session cookie.
    const seenBefore = app.seen.length;
    const anonymous = await publicRequest({ url: ready.url as string, path: '/teapot', caPath: sandbox.edge.caPath });
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.location).toContain(`${sandbox.idp.issuer}/authorize?`);
    expect(app.seen.length).toBe(seenBefore);
    const { cookie } = await signInWithStubIdp({ url: `${ready.url as string}/teapot`, email: 'dev@example.com', caPath: sandbox.edge.caPath });

    // A real request through the tunnel returns the app's exact status, headers and body.
    const teapot = await publicRequest({ url: ready.url as string, path: '/teapot', caPath: sandbox.edge.caPath, headers: { cookie } });
    expect(teapot.status, teapot.body.toString()).toBe(418);
    expect(teapot.headers['x-sample']).toBe('yes');
    expect(teapot.headers['content-type']).toBe('text/plain');
    expect(teapot.body.toString()).toBe("I'm a teapot");

    // 5 MB POST arrives intact.
    const body = randomBytes(5 * 1024 * 1024);
    const post = await publicRequest({ url: ready.url as string, method: 'POST', path: '/upload', body, caPath: sandbox.edge.caPath, headers: { cookie } });
    expect(post.status).toBe(200);
    const echoed = JSON.parse(post.body.toString());
    expect(echoed.bodyLength).toBe(body.length);
    expect(echoed.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));

    // WebSocket echo through the tunnel (plain HTTP ingress, Host-routed), with the session.
    const ws = new WebSocket(`ws://127.0.0.1:${sandbox.edge.httpPort}/ws`, { headers: { host, cookie } });
    const echo = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('ping through devtunnel'));
      ws.on('message', (data) => resolve(data.toString()));
      ws.on('error', reject);
    });
    ws.close();
    expect(echo).toBe('ping through devtunnel');

    // Ctrl-C: the edge sees the Unbind and the CLI exits 130 within 2 s.
    const started = Date.now();
    share.child.kill('SIGINT');
    const exit = await share.wait(5_000);
    expect(exit.code).toBe(130);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sandbox.edge.events.list('unbind').some((e) => e.type === 'unbind' && e.host === host)).toBe(true);
    expect(share.events().at(-1)).toMatchObject({ event: 'closed', reason: 'interrupted' });
    const gone = await publicRequest({ url: ready.url as string, path: '/teapot', caPath: sandbox.edge.caPath });
    expect(gone.status).toBe(404);
    expect(share.stdout + share.stderr).not.toContain(sandbox.demoCredential.token);
    expect(share.stdout + share.stderr).not.toContain(sandbox.demo.secrets['demo-oidc']);

    // Logout removes every keychain entry it wrote.
    const logout = await runCli(['logout', '--json'], { env: user.env });
    expect(logout.code, logout.stderr).toBe(0);
    expect(await readKeychain(user.env, 'authtoken:demo')).toBeUndefined();
    expect(await readKeychain(user.env, 'team-secret:demo:demo-oidc')).toBeUndefined();
    const after = await runCli(['whoami'], { env: user.env });
    expect(after.code).toBe(3);
    user.cleanup();
  }, 90_000);

  it('refuses an unknown profile with exit 4 and lists the approved ones; exit 3 when not logged in', async () => {
    const user = newUser();
    const notLoggedIn = await runCli(['share', '3000', '--profile', 'sso'], { env: user.env });
    expect(notLoggedIn.code).toBe(3);
    expect(notLoggedIn.stderr).toMatch(/not logged in/i);
    expect(notLoggedIn.stderr).toContain('devtunnel login');

    expect((await runCli(['login', '--stdin'], { env: user.env, input: sandbox.info.invite })).code).toBe(0);
    const before = sandbox.edge.events.list().at(-1)?.seq ?? 0;
    const unknown = await runCli(['share', '3000', '--profile', 'public'], { env: user.env });
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('Profile "public" is not approved');
    expect(unknown.stderr).toContain('Approved profiles: contractors, office, sso.');
    // The session connected at start-up (before the profile was known) bound nothing and is gone.
    const since = () => sandbox.edge.events.list().filter((e) => e.seq > before);
    for (let i = 0; i < 40 && since().filter((e) => e.type === 'session_closed').length < since().filter((e) => e.type === 'session_auth').length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(since().filter((e) => e.type === 'bind')).toEqual([]);
    expect(since().filter((e) => e.type === 'session_closed')).toHaveLength(since().filter((e) => e.type === 'session_auth').length);
    const missing = await runCli(['share', '3000'], { env: user.env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--profile');
    expect(missing.stderr).toContain('contractors, office, sso');
    const webhookName = await runCli(['share', '3000', '--profile', 'github'], { env: user.env });
    expect(webhookName.code).toBe(4);
    expect(webhookName.stderr).toContain('devtunnel webhook github');
    const asJson = await runCli(['share', '3000', '--profile', 'public', '--json'], { env: user.env });
    expect(asJson.code).toBe(4);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ error: { code: 'unknown_profile', exit_code: 4 } });
    await runCli(['logout'], { env: user.env });
    user.cleanup();
  }, 60_000);

  it('rejects bad invites with exit 2 and a distinct message each, storing nothing', async () => {
    const [prefix, payload, signature] = sandbox.info.invite.split('.') as [string, string, string];
    // Change one byte of the signed payload (the invitee's email), keeping it well-formed.
    const json = Buffer.from(payload, 'base64url').toString('utf8');
    expect(json).toContain('dev@example.com');
    const flipped = Buffer.from(json.replace('dev@example.com', 'dev@example.con'), 'utf8').toString('base64url');
    const expired = createDemoTeam({
      domain: 'devtunnel.localhost',
      serverAddr: sandbox.edge.agentAddr,
      rootCasPem: readFileSync(sandbox.edge.caPath, 'utf8'),
      idpUrl: 'https://idp.devtunnel.localhost',
      authtoken: 'expired-canary-token-0123456789',
      credentialId: 'cr_expired',
      now: new Date(Date.now() - 10 * 24 * 3600 * 1000),
      inviteTtlSeconds: 3600,
    }).invite;
    const cases: Array<{ name: string; input: string; args?: string[]; message: RegExp }> = [
      { name: 'tampered', input: `${prefix}.${flipped}.${signature}`, message: /signature|tampered|altered/i },
      { name: 'expired', input: expired, message: /expired/i },
      { name: 'wrong fingerprint', input: sandbox.info.invite, args: ['--fingerprint', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'], message: /signed by team key .* but you asked for/i },
      { name: 'garbage', input: 'hello there', message: /not an invite|invite code/i },
    ];
    const messages = new Set<string>();
    for (const c of cases) {
      const user = newUser();
      const result = await runCli(['login', '--stdin', ...(c.args ?? [])], { env: user.env, input: c.input });
      expect(result.code, `${c.name}: ${result.stderr}`).toBe(2);
      expect(result.stderr, c.name).toMatch(c.message);
      expect(result.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
      expect(result.stderr).not.toContain(sandbox.demoCredential.token);
      expect(result.stderr).not.toContain('expired-canary-token-0123456789');
      messages.add(result.stderr.split('\n')[0]!);
      expect(filesUnder(user.configDir)).toEqual([]);
      expect(await readKeychain(user.env, 'authtoken:demo')).toBeUndefined();
      user.cleanup();
    }
    expect(messages.size).toBe(cases.length);
  }, 60_000);
});

describe('edge refusals', () => {
  let narrow: RunningSandbox;
  beforeAll(async () => {
    narrow = await startSandbox({
      stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-sbx-')),
      demoAcl: ['bind:*.someone-else.devtunnel.localhost'],
    });
  });
  afterAll(async () => narrow?.close());

  it('exits 5 with the edge message when the token ACL does not cover the host', async () => {
    const user = newUser();
    expect((await runCli(['login', '--stdin'], { env: user.env, input: narrow.info.invite })).code).toBe(0);
    const share = await runCli(['share', String(app.port), '--profile', 'sso'], { env: user.env, timeoutMs: 20_000 });
    expect(share.code, share.stderr).toBe(5);
    expect(share.stderr).toContain('app.dev.devtunnel.localhost');
    expect(share.stderr).toMatch(/ERR_NGROK_\d+/);
    expect(share.stderr).not.toContain(narrow.demoCredential.token);
    expect(narrow.edge.events.list('bind_refused').length).toBe(1);
    await runCli(['logout'], { env: user.env });
    user.cleanup();
  }, 60_000);
});
