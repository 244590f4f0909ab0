// Sign-in profiles enforced end to end: a real headless Chromium (playwright-core driving the
// Debian package), the built CLI sharing a real app through the real @ngrok/ngrok agent, the
// sandbox edge enforcing the compiled Traffic Policy, and the sandbox's stub identity provider.
// Also the IP policies (IPv4 and IPv6 clients through the real SDK) and the bypass attempts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ngrok from '@ngrok/ngrok';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring-session.js';
import { CliProcess, isolatedEnv, runCli } from '../support/cli.js';
import { startSampleApp, type SampleApp } from '../support/sample-app.js';
import { publicRequest } from '../support/public-request.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { signInWithStubIdp } from '../../src/sandbox/idp/sign-in.js';

let keyring: PrivateKeyring;
let sandbox: RunningSandbox;
let app: SampleApp;
let browser: Browser;
let user: ReturnType<typeof isolatedEnv>;
const children: CliProcess[] = [];
const contexts: BrowserContext[] = [];

/** Chromium trusts the sandbox CA through its SPKI pin (works in headless mode without an NSS database). */
function caSpkiHash(caPath: string): string {
  const der = new X509Certificate(readFileSync(caPath)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

async function share(profile: string, name: string): Promise<string> {
  const child = new CliProcess(['share', String(app.port), '--profile', profile, '--name', name, '--json'], { env: user.env });
  children.push(child);
  const ready = await child.waitForEvent((e) => e.event === 'ready', 20_000);
  return ready.url as string;
}

async function newPage(): Promise<Page> {
  // ignoreHTTPSErrors stays false: the sandbox CA is trusted via --ignore-certificate-errors-spki-list.
  const context = await browser.newContext({ ignoreHTTPSErrors: false });
  contexts.push(context);
  return context.newPage();
}

/** On the stub IdP's page: type the email and press Sign in; resolves with the final document response. */
async function signInAs(page: Page, email: string, landingPath: string, opts: { pick?: boolean } = {}) {
  expect(new URL(page.url()).hostname).toBe('idp.devtunnel.localhost');
  const landing = page.waitForResponse((r) => r.request().isNavigationRequest() && new URL(r.url()).pathname === landingPath && r.status() !== 302);
  if (opts.pick) await page.click(`button[name="pick"][value="${email}"]`);
  else {
    await page.fill('input[name="email"]', email);
    await page.click('#sign-in');
  }
  return landing;
}

const seenPaths = () => app.seen.map((r) => r.url);

beforeAll(async () => {
  keyring = await startPrivateKeyring();
  sandbox = await startSandbox({ stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-sbx-')) });
  app = await startSampleApp();
  user = isolatedEnv(keyring.env);
  const login = await runCli(['login', '--stdin', '--json'], { env: user.env, input: `${sandbox.info.invite}\n` });
  expect(login.code, login.stderr).toBe(0);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP *.localhost 127.0.0.1',
      `--ignore-certificate-errors-spki-list=${caSpkiHash(sandbox.edge.caPath)}`,
    ],
  });
}, 60_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  for (const child of children) child.kill();
  await ngrok.kill().catch(() => {});
  await app?.close();
  await sandbox?.close();
  user?.cleanup();
  await keyring?.stop();
});

describe('sso profile (OpenID Connect, example.com only) in a real browser', () => {
  let url: string;
  beforeAll(async () => {
    url = await share('sso', 'app');
  }, 30_000);

  it('redirects to the stub IdP, signs in an allowed email, shows the app, and logs out', async () => {
    const page = await newPage();
    await page.goto(`${url}/dashboard?tab=1`);
    expect(page.url()).toContain(`${sandbox.idp.issuer}/authorize?`);
    expect(await page.textContent('h1')).toContain('Sign in with');
    expect(await page.textContent('main')).toContain('app.dev.devtunnel.localhost');
    expect(seenPaths()).not.toContain('/dashboard?tab=1');

    const landed = await signInAs(page, 'dev@example.com', '/dashboard');
    expect(landed.status()).toBe(200);
    expect(page.url()).toBe(`${url}/dashboard?tab=1`);
    expect(JSON.parse((await page.textContent('body'))!)).toMatchObject({ hello: 'from the local app', url: '/dashboard?tab=1' });
    const seen = app.seen.find((r) => r.url === '/dashboard?tab=1');
    expect(seen?.headers['x-devtunnel-user']).toBe('dev@example.com');

    // The session cookie is HttpOnly, Secure, SameSite=Lax and scoped to the endpoint host only.
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'ngrok_session');
    expect(session).toMatchObject({ domain: 'app.dev.devtunnel.localhost', httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });

    // Signed in, the next page goes straight through.
    const again = await page.goto(`${url}/second`);
    expect(again?.status()).toBe(200);
    expect(app.seen.find((r) => r.url === '/second')?.headers['x-devtunnel-user']).toBe('dev@example.com');

    // Logout: the edge answers itself (never forwarded); afterwards the app needs a new sign-in.
    const out = await page.goto(`${url}/ngrok/logout`);
    expect(out?.status()).toBe(200);
    expect(await page.textContent('h1')).toBe('Signed out');
    expect(seenPaths().some((p) => p.startsWith('/ngrok'))).toBe(false);
    await page.goto(`${url}/after-logout`);
    expect(new URL(page.url()).hostname).toBe('idp.devtunnel.localhost');
    expect(seenPaths()).not.toContain('/after-logout');
    // The old cookie value is dead server-side too, even if a client replays it.
    const replay = await publicRequest({ url, path: '/replayed', caPath: sandbox.edge.caPath, headers: { cookie: `ngrok_session=${session!.value}` } });
    expect(replay.status).toBe(302);
    expect(seenPaths()).not.toContain('/replayed');
  }, 60_000);

  it.each(['eve@evil.test', 'a@evilexample.com', 'a@example.com.evil.test'])('denies %s with 403 after sign-in; the app sees nothing', async (email) => {
    const page = await newPage();
    const p = `/private-${email.replace(/[^a-z]/g, '')}`;
    await page.goto(`${url}${p}`);
    const denied = await signInAs(page, email, p);
    expect(denied.status()).toBe(403);
    expect(seenPaths()).not.toContain(p);
    const event = sandbox.edge.events.list('policy_denied').find((e) => e.path === p);
    expect(event).toMatchObject({ rule: 'allowed-users', action: 'deny', status: 403, host: 'app.dev.devtunnel.localhost' });
  }, 60_000);
});

describe('contractors profile (GitHub OAuth, one named email) in a real browser', () => {
  let url: string;
  beforeAll(async () => {
    url = await share('contractors', 'crew');
  }, 30_000);

  it('lets contractor@partner.test in (quick-pick button) and keeps another partner.test address out', async () => {
    const page = await newPage();
    await page.goto(`${url}/board`);
    expect(await page.textContent('h1')).toContain('GitHub');
    const landed = await signInAs(page, 'contractor@partner.test', '/board', { pick: true });
    expect(landed.status()).toBe(200);
    expect(JSON.parse((await page.textContent('body'))!)).toMatchObject({ url: '/board' });

    const other = await newPage();
    await other.goto(`${url}/board-2`);
    const denied = await signInAs(other, 'someone@partner.test', '/board-2');
    expect(denied.status()).toBe(403);
    expect(seenPaths()).not.toContain('/board-2');
  }, 60_000);

  it('refuses the session cookie of another endpoint', async () => {
    const sso = sandbox.edge.endpoints().find((e) => e.host === 'app.dev.devtunnel.localhost')!;
    const { cookie } = await signInWithStubIdp({ url: `${sso.url}/x`, email: 'dev@example.com', caPath: sandbox.edge.caPath });
    const mine = await publicRequest({ url: sso.url, path: '/own-cookie', caPath: sandbox.edge.caPath, headers: { cookie } });
    expect(mine.status).toBe(200);
    const foreign = await publicRequest({ url, path: '/foreign-cookie', caPath: sandbox.edge.caPath, headers: { cookie } });
    expect(foreign.status).toBe(302);
    expect(foreign.headers.location).toContain('/authorize?');
    expect(seenPaths()).not.toContain('/foreign-cookie');
  }, 30_000);
});

describe('bypass attempts on the sso endpoint', () => {
  let url: string;
  beforeAll(() => {
    url = sandbox.edge.endpoints().find((e) => e.host === 'app.dev.devtunnel.localhost')!.url;
  });

  it.each([
    '/ngrok/../secret',
    '/ngrok/%2e%2e/secret',
    '/%2e%2e/secret',
    '//secret',
    '/./secret',
    '/ngrok/logout/../../secret',
    '/ngrok%2f..%2fsecret',
    '/secret%2f',
    '/ngrok/oauth2/callback/../../secret',
  ])('%s without a session never reaches the app', async (p) => {
    const before = app.seen.length;
    const res = await publicRequest({ url, path: p, caPath: sandbox.edge.caPath });
    expect([302, 400, 404]).toContain(res.status);
    if (res.status === 302) expect(res.headers.location).toContain(`${sandbox.idp.issuer}/authorize?`);
    expect(app.seen.length).toBe(before);
  });

  it('/ngrok/* paths are served by the edge, even with a session, and never forwarded', async () => {
    const { cookie } = await signInWithStubIdp({ url: `${url}/`, email: 'dev@example.com', caPath: sandbox.edge.caPath });
    const before = app.seen.length;
    const res = await publicRequest({ url, path: '/ngrok/anything', caPath: sandbox.edge.caPath, headers: { cookie } });
    expect(res.status).toBe(404);
    const dotted = await publicRequest({ url, path: '/a/../secret', caPath: sandbox.edge.caPath, headers: { cookie } });
    expect(dotted.status).toBe(200);
    expect(app.seen.length).toBe(before + 1);
    expect(app.seen.at(-1)?.url).toBe('/secret'); // the app sees the path the policy judged
  });

  it('a forged callback (unknown state, no flow cookie) is refused', async () => {
    const res = await publicRequest({ url, path: '/ngrok/oauth2/callback?code=x&state=forged', caPath: sandbox.edge.caPath });
    expect(res.status).toBe(400);
  });

  it('a client-sent X-Devtunnel-User is replaced by the signed-in identity', async () => {
    const { cookie } = await signInWithStubIdp({ url: `${url}/`, email: 'dev@example.com', caPath: sandbox.edge.caPath });
    await publicRequest({ url, path: '/whoami-spoof', caPath: sandbox.edge.caPath, headers: { cookie, 'x-devtunnel-user': 'ceo@example.com' } });
    expect(app.seen.find((r) => r.url === '/whoami-spoof')?.headers['x-devtunnel-user']).toBe('dev@example.com');
  });
});

/** A request to the public ingress from a chosen loopback source address (IPv4 or IPv6). */
function fromAddress(opts: { url: string; path: string; localAddress: string; headers?: Record<string, string> }): Promise<{ status: number; body: string }> {
  const target = new URL(opts.url);
  const v6 = opts.localAddress.includes(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: v6 ? '::1' : '127.0.0.1', port: Number(target.port), path: opts.path, localAddress: opts.localAddress, headers: { host: target.host, ...opts.headers }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('IP policies through the real SDK (IPv4 and IPv6 clients)', () => {
  it('office profile: 127.0.0.0/8 and ::1 get to sign in and through', async () => {
    const url = await share('office', 'office');
    const httpUrl = `http://office.dev.devtunnel.localhost:${sandbox.edge.httpPort}`;
    const { cookie } = await signInWithStubIdp({ url: `${url}/`, email: 'dev@example.com', caPath: sandbox.edge.caPath });
    for (const localAddress of ['127.0.0.1', '127.0.0.9', '::1']) {
      const res = await fromAddress({ url: httpUrl, path: `/office-${localAddress}`, localAddress, headers: { cookie } });
      expect(res.status, `${localAddress}: ${res.body}`).toBe(200);
      expect(seenPaths()).toContain(`/office-${localAddress}`);
    }
  }, 30_000);

  it('allow/deny lists with deny winning, IPv6 outside the allow list, and X-Forwarded-For ignored', async () => {
    const policy = {
      on_http_request: [{ name: 'net', actions: [{ type: 'restrict-ips', config: { enforce: true, allow: ['127.0.0.0/8'], deny: ['127.0.0.77/32'] } }] }],
    };
    const listener = await ngrok.forward({
      addr: `127.0.0.1:${app.port}`,
      authtoken: sandbox.demoCredential.token,
      server_addr: sandbox.edge.agentAddr,
      root_cas: sandbox.edge.caPath,
      domain: 'ipcheck.dev.devtunnel.localhost',
      traffic_policy: JSON.stringify(policy),
      force_new_session: true,
    });
    try {
      const httpUrl = `http://ipcheck.dev.devtunnel.localhost:${sandbox.edge.httpPort}`;
      const cases: Array<[string, Record<string, string>, number]> = [
        ['127.0.0.1', {}, 200],
        ['127.0.0.78', {}, 200],
        ['127.0.0.77', {}, 403], // denied range wins over the allowed 127.0.0.0/8
        ['::1', {}, 403], // IPv6 loopback is not in an IPv4 allow list
        ['127.0.0.77', { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1', forwarded: 'for=127.0.0.1' }, 403],
        ['::1', { 'x-forwarded-for': '127.0.0.1' }, 403],
      ];
      for (const [localAddress, headers, expected] of cases) {
        const p = `/ip-${localAddress}-${Object.keys(headers).length}`;
        const res = await fromAddress({ url: httpUrl, path: p, localAddress, headers });
        expect(res.status, `${localAddress} ${JSON.stringify(headers)}: ${res.body}`).toBe(expected);
        expect(seenPaths().includes(p), p).toBe(expected === 200);
      }
      const denials = sandbox.edge.events.list('policy_denied').filter((e) => e.host === 'ipcheck.dev.devtunnel.localhost');
      expect(denials.length).toBe(4);
      expect(denials.map((e) => e.clientIp).sort()).toEqual(['127.0.0.77', '127.0.0.77', '::1', '::1']);
    } finally {
      await listener.close();
    }
  }, 30_000);
});
