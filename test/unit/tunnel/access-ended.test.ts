// share and webhook when the edge ends the session (the admin stopped it or revoked the
// credential): the tunnel is closed, a 'closed' event says why, and the error is exit 5.
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { UserError } from '../../../src/errors.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import { demoPolicy } from '../../../src/team/demo-team.js';
import type { LoginState } from '../../../src/team/team-store.js';
import { EdgeRefusal, type TunnelEnd, type TunnelRequest } from '../../../src/tunnel/tunnel-starter.js';
import { createOutput } from '../../../src/ui/output.js';
import { Redactor } from '../../../src/ui/redact.js';
import { edgeRefused, runShare, type ShareEvent } from '../../../src/tunnel/share.js';
import { runWebhook, type WebhookEvent } from '../../../src/tunnel/webhook.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n';
const policy = demoPolicy({ domain: 'devtunnel.localhost', serverAddr: '127.0.0.1:4443', rootCasPem: PEM, idpUrl: 'https://idp.devtunnel.localhost:8443' });
const login = { policy, teamId: 'demo', email: 'dev@example.com', userLabel: 'dev', webhookProviders: [], secretNames: ['demo-oidc'] } as unknown as LoginState;

function fakeContext(end: TunnelEnd) {
  const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
  let closed = 0;
  const store = new MemoryStore({ 'authtoken:demo': 'tok_fake_authtoken', 'team-secret:demo:demo-oidc': 'oidc-secret-value', 'webhook:demo:github': 'whsec_fake_value' });
  const ctx: CliContext = {
    env: {},
    stdin: Readable.from([]),
    stdout: sink(),
    stderr: sink(),
    tty: { stdin: false, stdout: false, stderr: false },
    out: createOutput({ stdout: sink(), stderr: sink(), json: true, color: false }),
    prompter: { interactive: false, secret: async () => '', confirm: async () => false },
    redactor: new Redactor(),
    now: () => new Date(),
    version: '0.0.0-test',
    teamStore: async () => ({ load: () => login }) as never,
    secretStore: async () => store,
    tunnelStarter: async () => ({
      async start(request: TunnelRequest) {
        setTimeout(() => request.onEnded?.(end), 10);
        return { url: `https://${request.domain}:8443`, close: async () => void closed++ };
      },
    }),
  };
  return { ctx, closed: () => closed };
}

const never = { wait: () => new Promise<'SIGINT'>(() => undefined) };

async function failure(p: Promise<unknown>): Promise<UserError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('the edge ends a running tunnel', () => {
  it('share: revoked → tunnel closed, closed event, exit 5 access_revoked', async () => {
    const f = fakeContext({ reason: 'revoked', errorCode: 'ERR_NGROK_107' });
    const events: ShareEvent[] = [];
    const error = await failure(runShare(f.ctx, { target: '3000', profile: 'sso', name: 'app', allowEmails: [] }, (e) => events.push(e), never));
    expect(error).toMatchObject({ exitCode: 5, code: 'access_revoked' });
    expect(error.message).toMatch(/team admin revoked your access.*ERR_NGROK_107/);
    expect(f.closed()).toBe(1);
    expect(events.map((e) => e.event)).toEqual(['ready', 'closed']);
    expect(events.at(-1)).toMatchObject({ reason: 'revoked' });
  });

  it('share: stopped → exit 5 session_stopped', async () => {
    const f = fakeContext({ reason: 'stopped' });
    const error = await failure(runShare(f.ctx, { target: '3000', profile: 'sso', name: 'app', allowEmails: [] }, () => undefined, never));
    expect(error).toMatchObject({ exitCode: 5, code: 'session_stopped' });
    expect(error.message).toContain('team admin stopped this tunnel session');
  });

  it('webhook: revoked → exit 5 too', async () => {
    const f = fakeContext({ reason: 'revoked', errorCode: 'ERR_NGROK_107' });
    const events: WebhookEvent[] = [];
    const error = await failure(
      runWebhook(f.ctx, { provider: 'github', target: '8080', rotateSecret: false, secretStdin: false }, (e) => events.push(e), never),
    );
    expect(error).toMatchObject({ exitCode: 5, code: 'access_revoked' });
    expect(events.at(-1)).toMatchObject({ event: 'closed', reason: 'revoked' });
    expect(f.closed()).toBe(1);
  });

  it('a first Auth refused with ERR_NGROK_107 reads as revoked access', () => {
    expect(edgeRefused(new EdgeRefusal('authtoken invalid', 'ERR_NGROK_107'))).toMatchObject({ exitCode: 5, code: 'access_revoked' });
    expect(edgeRefused(new EdgeRefusal('ACL', 'ERR_NGROK_319'))).toMatchObject({ exitCode: 5, code: 'edge_refused' });
  });
});
