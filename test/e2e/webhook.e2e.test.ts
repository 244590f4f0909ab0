// `devtunnel webhook` end to end: the built CLI, the real @ngrok/ngrok agent, the sandbox edge
// enforcing verify-webhook, a real local app, and a private keychain. Deliveries are signed by the
// providers' own libraries; forgeries, stale and replayed deliveries must never reach the app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AsyncEntry } from '@napi-rs/keyring';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import Stripe from 'stripe';
import { Webhook as SvixWebhook } from 'svix';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring-session.js';
import { CliProcess, isolatedEnv, runCli } from '../support/cli.js';
import { startSampleApp, type SampleApp } from '../support/sample-app.js';
import { publicRequest, type PublicResponse } from '../support/public-request.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';

let keyring: PrivateKeyring;
let sandbox: RunningSandbox;
let app: SampleApp;
const children: CliProcess[] = [];

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

function readKeychain(env: Record<string, string>, account: string): Promise<string | undefined> {
  process.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
  return new AsyncEntry(env.DEVTUNNEL_KEYCHAIN_SERVICE!, account, { linux: { store: 'secret-service' } })
    .getPassword()
    .then((value) => value ?? undefined);
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function loggedInUser() {
  const user = isolatedEnv(keyring.env);
  const login = await runCli(['login', '--stdin'], { env: user.env, input: sandbox.info.invite });
  expect(login.code, login.stderr).toBe(0);
  return user;
}

async function startWebhook(provider: string, env: Record<string, string>, secret?: string) {
  const args = ['webhook', provider, String(app.port), '--json', ...(secret === undefined ? [] : ['--secret-stdin'])];
  const child = new CliProcess(args, { env, input: secret === undefined ? '' : `${secret}\n` });
  children.push(child);
  const ready = await child.waitForEvent((e) => e.event === 'ready', 20_000);
  return { child, ready, url: ready.url as string };
}

/** POSTs through the public HTTPS ingress and says whether the app saw it. */
async function deliver(url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ res: PublicResponse; reached: boolean }> {
  const before = app.seen.length;
  const res = await publicRequest({ url, method: 'POST', path: new URL(url).pathname, body, headers: { 'content-type': 'application/json', ...headers }, caPath: sandbox.edge.caPath });
  return { res, reached: app.seen.length > before };
}

function expectRefused(r: { res: PublicResponse; reached: boolean }, what: string) {
  expect(r.res.status, `${what}: ${r.res.body.toString()}`).toBe(403);
  expect(r.res.headers['ngrok-error-code'], what).toBe('ERR_NGROK_3204');
  expect(r.reached, `${what} must not reach the app`).toBe(false);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

const payload = (n: number) => JSON.stringify({ action: 'opened', number: n, note: 'ünïcode ✓ survives byte for byte', pad: ' '.repeat(n) });

describe('devtunnel webhook through the sandbox edge', () => {
  it('github: secret on stdin into the keychain; octokit-signed deliveries arrive byte for byte; forgeries and replays never do; canary secret leaks nowhere', async () => {
    const user = await loggedInUser();
    const SECRET = 'CANARY-gh-webhook-secret-5b8e0d1f';
    const { child, ready, url } = await startWebhook('github', user.env, SECRET);
    expect(ready).toMatchObject({ event: 'ready', provider: 'github', local: `http://localhost:${app.port}`, host: 'github.dev.devtunnel.localhost', secret_source: 'stdin' });
    expect(url).toBe(`https://github.dev.devtunnel.localhost:${sandbox.edge.httpsPort}`);
    expect(await readKeychain(user.env, 'webhook:demo:github')).toBe(SECRET);
    // The secret is not in the process's argv.
    const cmdline = readFileSync(`/proc/${child.child.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('webhook');
    expect(cmdline).not.toContain(SECRET);

    const body = Buffer.from(payload(1));
    const signature = await octokitSign(SECRET, body.toString('utf8'));
    const headers = { 'X-Hub-Signature-256': signature, 'X-GitHub-Event': 'pull_request', 'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' };
    const genuine = await deliver(url, body, headers);
    expect(genuine.res.status, genuine.res.body.toString()).toBe(200);
    expect(genuine.reached).toBe(true);
    const seen = app.seen.at(-1)!;
    expect(seen.bodySha256).toBe(sha256(body));
    expect(seen.bodyLength).toBe(body.length);
    expect(seen.headers['x-hub-signature-256']).toBe(signature);
    expect(seen.headers['x-github-event']).toBe('pull_request');
    expect(seen.headers['x-github-delivery']).toBe(headers['X-GitHub-Delivery']);

    const tampered = Buffer.from(body);
    tampered[10] = tampered[10]! ^ 1;
    expectRefused(await deliver(url, tampered, headers), 'one byte changed');
    expectRefused(await deliver(url, body, { ...headers, 'X-Hub-Signature-256': await octokitSign('wrong-secret', body.toString()) }), 'wrong secret');
    expectRefused(await deliver(url, body, { 'X-GitHub-Event': 'pull_request' }), 'missing signature');
    expectRefused(await deliver(url, body, headers), 'replay');
    // A new delivery still gets through.
    const second = Buffer.from(payload(2));
    const ok2 = await deliver(url, second, { ...headers, 'X-Hub-Signature-256': await octokitSign(SECRET, second.toString()) });
    expect(ok2.res.status).toBe(200);
    expect(app.seen.at(-1)!.bodySha256).toBe(sha256(second));

    child.child.kill('SIGINT');
    expect((await child.wait(5_000)).code).toBe(130);
    expect(child.events().at(-1)).toMatchObject({ event: 'closed', reason: 'interrupted' });
    expect(child.stdout + child.stderr).not.toContain(SECRET);

    // Asked once: the next run takes it from the keychain, without stdin.
    const again = await startWebhook('github', user.env);
    expect(again.ready).toMatchObject({ secret_source: 'keychain' });
    again.child.child.kill('SIGINT');
    expect((await again.child.wait(5_000)).code).toBe(130);
    expect(again.child.stdout + again.child.stderr).not.toContain(SECRET);

    for (const file of filesUnder(user.configDir)) expect(readFileSync(file, 'utf8'), file).not.toContain(SECRET);

    // logout removes the webhook secret too.
    const logout = await runCli(['logout', '--json'], { env: user.env });
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stdout).not.toContain(SECRET);
    expect(await readKeychain(user.env, 'webhook:demo:github')).toBeUndefined();
    user.cleanup();
  }, 90_000);

  it('stripe: generateTestHeaderString deliveries arrive; tampered, wrong secret, missing, stale and replayed do not', async () => {
    const user = await loggedInUser();
    const SECRET = 'whsec_CANARYstripe0123456789abcdef';
    const { child, url } = await startWebhook('stripe', user.env, SECRET);
    const stripe = new Stripe('sk_test_e2e');
    const body = payload(3);
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET });
    const genuine = await deliver(url, body, { 'Stripe-Signature': header });
    expect(genuine.res.status, genuine.res.body.toString()).toBe(200);
    expect(app.seen.at(-1)!.bodySha256).toBe(sha256(body));
    expect(app.seen.at(-1)!.headers['stripe-signature']).toBe(header);

    expectRefused(await deliver(url, body.replace('"number":3', '"number":4'), { 'Stripe-Signature': header }), 'tampered');
    expectRefused(await deliver(url, body, { 'Stripe-Signature': stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_wrong' }) }), 'wrong secret');
    expectRefused(await deliver(url, body, {}), 'missing header');
    const stale = stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 600 });
    expectRefused(await deliver(url, body, { 'Stripe-Signature': stale }), 'stale');
    expectRefused(await deliver(url, body, { 'Stripe-Signature': header }), 'replay');

    child.child.kill('SIGINT');
    expect((await child.wait(5_000)).code).toBe(130);
    expect(child.stdout + child.stderr).not.toContain(SECRET);
    await runCli(['logout'], { env: user.env });
    user.cleanup();
  }, 90_000);

  it('clerk (Svix): svix-signed deliveries arrive; tampered, wrong secret, missing, stale and replayed do not', async () => {
    const user = await loggedInUser();
    const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const { child, url } = await startWebhook('clerk', user.env, SECRET);
    expect(url).toBe(`https://clerk.dev.devtunnel.localhost:${sandbox.edge.httpsPort}`);
    const body = payload(5);
    const svixHeaders = (secret: string, id: string, at: Date, b = body) => ({
      'svix-id': id,
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': new SvixWebhook(secret).sign(id, at, b),
    });
    const headers = svixHeaders(SECRET, 'msg_e2e_1', new Date());
    const genuine = await deliver(url, body, headers);
    expect(genuine.res.status, genuine.res.body.toString()).toBe(200);
    expect(app.seen.at(-1)!.bodySha256).toBe(sha256(body));
    expect(app.seen.at(-1)!.headers['svix-signature']).toBe(headers['svix-signature']);

    expectRefused(await deliver(url, `${body} `, headers), 'tampered');
    expectRefused(await deliver(url, body, svixHeaders('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'msg_e2e_2', new Date())), 'wrong secret');
    expectRefused(await deliver(url, body, { 'svix-id': 'msg_e2e_3', 'svix-timestamp': headers['svix-timestamp'] }), 'missing signature');
    expectRefused(await deliver(url, body, svixHeaders(SECRET, 'msg_e2e_4', new Date(Date.now() - 10 * 60_000))), 'stale');
    expectRefused(await deliver(url, body, headers), 'replay');

    child.child.kill('SIGINT');
    expect((await child.wait(5_000)).code).toBe(130);
    await runCli(['logout'], { env: user.env });
    user.cleanup();
  }, 90_000);

  it('refuses unapproved providers (exit 4, listing the approved ones) and a missing secret when it cannot ask (exit 2)', async () => {
    const user = await loggedInUser();
    const sns = await runCli(['webhook', 'sns', '8080'], { env: user.env });
    expect(sns.code).toBe(4);
    expect(sns.stderr).toMatch(/Amazon SNS webhooks are not approved by team Demo Team\. Approved webhook providers: .*github.*stripe/);
    const asJson = await runCli(['webhook', 'okta', '8080', '--json'], { env: user.env });
    expect(asJson.code).toBe(4);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ error: { code: 'webhook_not_approved', exit_code: 4 } });
    const noSecret = await runCli(['webhook', 'github', '8080'], { env: user.env });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('--secret-stdin');
    await runCli(['logout'], { env: user.env });
    user.cleanup();
  }, 60_000);
});
