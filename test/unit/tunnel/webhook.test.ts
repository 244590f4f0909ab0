// The webhook service with fakes: approval (exit 4), secret resolution (keychain, stdin, prompt,
// env, rotation; exit 2 when it cannot ask), path narrowing, and the secret never leaking.
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { UserError } from '../../../src/errors.js';
import { EnvOverrideStore } from '../../../src/secrets/env-override-store.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import { demoPolicy } from '../../../src/team/demo-team.js';
import type { LoginState } from '../../../src/team/team-store.js';
import type { TunnelRequest } from '../../../src/tunnel/tunnel-starter.js';
import { createOutput } from '../../../src/ui/output.js';
import { Redactor } from '../../../src/ui/redact.js';
import { findWebhookProfile, prepareWebhook, runWebhook, type WebhookEvent } from '../../../src/tunnel/webhook.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n';
const policy = demoPolicy({ domain: 'devtunnel.localhost', serverAddr: '127.0.0.1:4443', rootCasPem: PEM, idpUrl: 'https://idp.devtunnel.localhost:8443' });
const login = { policy, teamId: 'demo', email: 'dev@example.com', userLabel: 'dev', webhookProviders: [] } as unknown as LoginState;
const SECRET = 'canary-webhook-secret-7f3a9c';

function fakeContext(opts: { secrets?: Record<string, string>; env?: Record<string, string>; stdin?: string; answers?: string[]; loggedIn?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (to: string[]) => new Writable({ write: (c, _e, cb) => (to.push(String(c)), cb()) });
  const memory = new MemoryStore({ 'authtoken:demo': 'tok_fake_authtoken', ...opts.secrets });
  const store = new EnvOverrideStore(memory, opts.env ?? {});
  const asked: string[] = [];
  const started: TunnelRequest[] = [];
  const ctx: CliContext = {
    env: opts.env ?? {},
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    stdout: sink(out),
    stderr: sink(err),
    tty: { stdin: false, stdout: false, stderr: false },
    out: createOutput({ stdout: sink(out), stderr: sink(err), json: true, color: false }),
    prompter: {
      interactive: opts.answers !== undefined,
      async secret(question) {
        asked.push(question);
        const next = opts.answers?.shift();
        if (next === undefined) throw new Error(`unexpected prompt: ${question}`);
        return next;
      },
      async confirm(question) {
        throw new Error(`unexpected confirm: ${question}`);
      },
    },
    redactor: new Redactor(),
    now: () => new Date(),
    version: '0.0.0-test',
    teamStore: async () => ({ load: () => (opts.loggedIn === false ? undefined : login) }) as never,
    secretStore: async () => store,
    tunnelStarter: async () => ({
      async start(request: TunnelRequest) {
        started.push(request);
        return { url: `https://${request.domain}:8443`, close: async () => undefined };
      },
    }),
  };
  return { ctx, out, err, memory, asked, started };
}

const base = { provider: 'github', target: '8080', rotateSecret: false, secretStdin: false };

async function refusal(p: Promise<unknown>): Promise<UserError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('prepareWebhook', () => {
  it('uses the keychain secret, compiles verify-webhook, names the endpoint after the provider', async () => {
    const f = fakeContext({ secrets: { 'webhook:demo:github': SECRET } });
    const prepared = await prepareWebhook(f.ctx, base);
    expect(prepared.host).toBe('github.dev.devtunnel.localhost');
    expect(prepared.secretSource).toBe('keychain');
    expect(JSON.parse(prepared.tunnel.trafficPolicy)).toEqual({
      on_http_request: [{ name: 'verify-signature', actions: [{ type: 'verify-webhook', config: { provider: 'github', secret: SECRET } }] }],
    });
    expect(JSON.parse(prepared.tunnel.sessionMetadata)).toMatchObject({ user: 'dev@example.com', team: 'demo' });
    expect(JSON.parse(prepared.tunnel.endpointMetadata!)).toEqual({ webhook: 'github', profile: 'webhooks.github' });
    expect(f.ctx.redactor.redact(`x ${SECRET} y`)).toBe('x [redacted] y');
  });

  it('refuses a provider the team did not approve with exit 4 and the approved list', async () => {
    const noSlack = { ...login, policy: { ...policy, webhooks: { github: { provider: 'github' }, stripe: { provider: 'stripe' } } } } as unknown as LoginState;
    const f = fakeContext();
    f.ctx.teamStore = async () => ({ load: () => noSlack }) as never;
    const e = await refusal(prepareWebhook(f.ctx, { ...base, provider: 'slack' }));
    expect(e.exitCode).toBe(4);
    expect(e.message).toBe('Slack webhooks are not approved by team Demo Team. Approved webhook providers: github, stripe.');
    const typo = await refusal(prepareWebhook(f.ctx, { ...base, provider: 'githib' }));
    expect(typo.exitCode).toBe(4);
    expect(typo.suggestions.join(' ')).toContain('Did you mean github?');
  });

  it('exit 3 when not logged in, exit 2 for a bad target', async () => {
    expect((await refusal(prepareWebhook(fakeContext({ loggedIn: false }).ctx, base))).exitCode).toBe(3);
    expect((await refusal(prepareWebhook(fakeContext().ctx, { ...base, target: 'nope nope' }))).exitCode).toBe(2);
  });

  it('not interactive and no secret anywhere: exit 2 naming --secret-stdin, nothing stored', async () => {
    const f = fakeContext();
    const e = await refusal(prepareWebhook(f.ctx, base));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/Cannot ask for the GitHub webhook signing secret/);
    expect(e.suggestions.join(' ')).toContain('--secret-stdin');
    expect(await f.memory.getPassword('webhook:demo:github')).toBeUndefined();
  });

  it('asks once at a masked prompt and stores the answer under webhook:<team>:<provider>', async () => {
    const f = fakeContext({ answers: [`  ${SECRET}\n`] });
    const prepared = await prepareWebhook(f.ctx, { ...base, provider: 'stripe' });
    expect(f.asked).toEqual(["Stripe webhook signing secret (from Stripe's webhook settings):"]);
    expect(prepared.secretSource).toBe('prompt');
    expect(await f.memory.getPassword('webhook:demo:stripe')).toBe(SECRET);
    // Second run: from the keychain, no question.
    const again = fakeContext({ secrets: { 'webhook:demo:stripe': SECRET }, answers: [] });
    expect((await prepareWebhook(again.ctx, { ...base, provider: 'stripe' })).secretSource).toBe('keychain');
  });

  it('--secret-stdin reads and stores; --rotate-secret asks again and replaces', async () => {
    const f = fakeContext({ stdin: `${SECRET}\n`, secrets: { 'webhook:demo:github': 'old-secret-value' } });
    expect((await prepareWebhook(f.ctx, { ...base, secretStdin: true })).secretSource).toBe('stdin');
    expect(await f.memory.getPassword('webhook:demo:github')).toBe(SECRET);
    const r = fakeContext({ secrets: { 'webhook:demo:github': 'old-secret-value' }, answers: ['new-secret-value'] });
    await prepareWebhook(r.ctx, { ...base, rotateSecret: true });
    expect(await r.memory.getPassword('webhook:demo:github')).toBe('new-secret-value');
    const empty = fakeContext({ stdin: '\n' });
    expect((await refusal(prepareWebhook(empty.ctx, { ...base, secretStdin: true }))).code).toBe('webhook_secret_empty');
  });

  it('DEVTUNNEL_WEBHOOK_SECRET answers without touching the keychain', async () => {
    const f = fakeContext({ env: { DEVTUNNEL_WEBHOOK_SECRET: SECRET } });
    const prepared = await prepareWebhook(f.ctx, base);
    expect(prepared.secretSource).toBe('env');
    expect(JSON.parse(prepared.tunnel.trafficPolicy).on_http_request[0].actions[0].config.secret).toBe(SECRET);
    expect(await f.memory.getPassword('webhook:demo:github')).toBeUndefined();
  });

  it('--path scopes the endpoint (404 elsewhere) but cannot leave the profile path', async () => {
    const f = fakeContext({ secrets: { 'webhook:demo:github': SECRET } });
    const prepared = await prepareWebhook(f.ctx, { ...base, path: '/hooks/github/' });
    expect(prepared.path).toBe('/hooks/github');
    expect(JSON.parse(prepared.tunnel.trafficPolicy).on_http_request[0]).toMatchObject({ name: 'webhook-path', actions: [{ type: 'deny', config: { status_code: 404 } }] });
    expect((await refusal(prepareWebhook(f.ctx, { ...base, path: 'no-slash' }))).exitCode).toBe(2);
    const scoped = { ...login, policy: { ...policy, webhooks: { github: { provider: 'github', path: '/gh' } } } } as unknown as LoginState;
    f.ctx.teamStore = async () => ({ load: () => scoped }) as never;
    expect((await prepareWebhook(f.ctx, { ...base, path: '/gh/push' })).path).toBe('/gh/push');
    const widen = await refusal(prepareWebhook(f.ctx, { ...base, path: '/other' }));
    expect(widen.exitCode).toBe(4);
  });

  it('endpoint names: provider ids with underscores become DNS-safe, --name overrides', async () => {
    const f = fakeContext({ env: { DEVTUNNEL_WEBHOOK_SECRET: SECRET } });
    expect((await prepareWebhook(f.ctx, { ...base, provider: 'launch_darkly' })).host).toBe('launch-darkly.dev.devtunnel.localhost');
    expect((await prepareWebhook(f.ctx, { ...base, name: 'hooks' })).host).toBe('hooks.dev.devtunnel.localhost');
    expect((await refusal(prepareWebhook(f.ctx, { ...base, name: 'Bad_Name' }))).exitCode).toBe(2);
  });
});

describe('findWebhookProfile', () => {
  it('prefers the entry named after the provider, else any entry for it', () => {
    const p = { ...policy, webhooks: { 'gh-org': { provider: 'github', path: '/org' }, a: { provider: 'stripe' } } };
    expect(findWebhookProfile(p, 'github')).toEqual({ key: 'gh-org', profile: { provider: 'github', path: '/org' } });
    expect(findWebhookProfile(p, 'slack')).toBeUndefined();
  });
});

describe('runWebhook', () => {
  it('reports ready with the URL to paste and a hint, closes on Ctrl-C with 130; the secret is in no event', async () => {
    const f = fakeContext({ secrets: { 'webhook:demo:github': SECRET } });
    const events: WebhookEvent[] = [];
    const code = await runWebhook(f.ctx, { ...base, path: '/gh' }, (e) => events.push(e), { wait: async () => 'SIGINT' });
    expect(code).toBe(130);
    expect(events[0]).toMatchObject({ event: 'ready', url: 'https://github.dev.devtunnel.localhost:8443/gh', provider: 'github', local: 'http://localhost:8080', secret_source: 'keychain' });
    expect((events[0] as { hint: string }).hint).toMatch(/Settings → Webhooks/);
    expect(events.at(-1)).toEqual({ event: 'closed', url: 'https://github.dev.devtunnel.localhost:8443/gh', reason: 'interrupted' });
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(f.started[0]?.trafficPolicy).toContain(SECRET); // only inside the policy handed to the SDK
  });
});
