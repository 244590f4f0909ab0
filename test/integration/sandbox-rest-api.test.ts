// The REST client against the sandbox's REST API, with the real @ngrok/ngrok agent: ngrok-shaped
// errors (ERR_NGROK_600 for a bad ACL), pagination, injected 429s, tunnel sessions with their
// credential, Stop through the API, and revocation that takes effect (new Auth fails).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ngrok from '@ngrok/ngrok';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NgrokApiClient, NgrokApiError } from '../../src/admin/ngrok-api.js';
import { CredentialRegistry } from '../../src/sandbox/credentials.js';
import { SandboxEdge } from '../../src/sandbox/edge.js';
import { SandboxRestApi, isValidAclRule } from '../../src/sandbox/rest-api/rest-api.js';

const DOMAIN = 'api.localhost';
let edge: SandboxEdge;
let api: SandboxRestApi;
let credentials: CredentialRegistry;
let client: NgrokApiClient;

beforeAll(async () => {
  credentials = new CredentialRegistry();
  edge = await SandboxEdge.start({ stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-api-')), domain: DOMAIN, credentials });
  api = await SandboxRestApi.listen({ credentials, edge });
  client = new NgrokApiClient({ apiKey: api.apiKey, baseUrl: api.url, sleep: async () => undefined });
});
afterAll(async () => {
  await api?.close();
  await edge?.close();
});

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('sandbox REST API', () => {
  it('creates, gets, lists (paginated) and deletes credentials', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await client.createCredential({ description: `dev ${i}`, metadata: JSON.stringify({ i }), acl: [`bind:*.u${i}.${DOMAIN}`] }));
    expect(made[0]!.token).toMatch(/.{20,}/);
    expect(made[0]!.id).toMatch(/^cr_/);
    const got = await client.getCredential(made[2]!.id);
    expect(got).toMatchObject({ id: made[2]!.id, description: 'dev 2', acl: [`bind:*.u2.${DOMAIN}`], token: null });
    // Two per page: the client follows next_page_uri through three pages, newest first.
    const all = await client.listCredentials({ limit: 2 });
    expect(all.map((c) => c.id)).toEqual(made.map((c) => c.id).reverse());
    expect(api.requests.filter((r) => r.method === 'GET' && r.path === '/credentials').length).toBe(3);
    for (const c of made) await client.deleteCredential(c.id);
    expect(await client.listCredentials()).toEqual([]);
    const gone = (await client.getCredential(made[0]!.id).catch((e: unknown) => e)) as NgrokApiError;
    expect(gone.status).toBe(404);
  });

  it('refuses invalid ACL rules with ERR_NGROK_600 and accepts domain, wildcard and label rules', async () => {
    for (const rule of ['bind-ish', 'bind:', 'bind:not a host', 'bind:*.', 'connect:x.example.com']) {
      const error = (await client.createCredential({ acl: [rule] }).catch((e: unknown) => e)) as NgrokApiError;
      expect(error, rule).toBeInstanceOf(NgrokApiError);
      expect(error.ngrokCode).toBe('ERR_NGROK_600');
      expect(error.status).toBe(400);
      expect(error.message).toContain(rule);
      expect(error.operationId).toMatch(/^op_/);
    }
    for (const rule of ['bind:app.alice.example.com', 'bind:*.alice.example.com', 'bind:env=dev', '*']) expect(isValidAclRule(rule), rule).toBe(true);
    const ok = await client.createCredential({ acl: ['bind:env=dev', `bind:x.${DOMAIN}`] });
    await client.deleteCredential(ok.id);
  });

  it('refuses a wrong API key with 401 and maps it to exit 3', async () => {
    const wrong = new NgrokApiClient({ apiKey: 'not-the-key', baseUrl: api.url });
    const error = (await wrong.listCredentials().catch((e: unknown) => e)) as NgrokApiError;
    expect(error.status).toBe(401);
    expect(error.exitCode).toBe(3);
    expect(error.message).not.toContain('not-the-key');
  });

  it('retries injected 429s honouring Retry-After', async () => {
    const sleeps: number[] = [];
    const patient = new NgrokApiClient({ apiKey: api.apiKey, baseUrl: api.url, sleep: async (ms) => void sleeps.push(ms) });
    api.injectFaults({ status: 429, retryAfter: '2' }, { status: 502 });
    expect(await patient.listCredentials()).toBeInstanceOf(Array);
    expect(sleeps).toEqual([2000, 1000]);
  });

  it('lists tunnel sessions with their credential, stops one with Stop, and revocation makes new Auth fail', async () => {
    const cred = await client.createCredential({ description: 'sdk', acl: [`bind:*.sdk.${DOMAIN}`] });
    let stopped = 0;
    const session = await new ngrok.SessionBuilder()
      .authtoken(cred.token!)
      .serverAddr(edge.agentAddr)
      .caCert(readFileSync(edge.caPath))
      .metadata('{"user":"sdk@example.com"}')
      .handleStopCommand(() => void stopped++)
      .handleDisconnection(() => true)
      .connect();
    await session.httpEndpoint().domain(`app.sdk.${DOMAIN}`).listen(false);
    const sessions = await client.listTunnelSessions();
    const mine = sessions.find((s) => s.credential?.id === cred.id);
    expect(mine).toMatchObject({ metadata: '{"user":"sdk@example.com"}', ip: '127.0.0.1' });
    await client.stopTunnelSession(mine!.id);
    await until(() => stopped === 1);
    expect(edge.endpoints().some((e) => e.host === `app.sdk.${DOMAIN}`)).toBe(false);
    await session.close().catch(() => undefined);
    const missing = (await client.stopTunnelSession('ts_nope').catch((e: unknown) => e)) as NgrokApiError;
    expect(missing.status).toBe(404);

    await client.deleteCredential(cred.id);
    const refused = await new ngrok.SessionBuilder().authtoken(cred.token!).serverAddr(edge.agentAddr).caCert(readFileSync(edge.caPath)).connect().catch((e: unknown) => e);
    expect(String((refused as Error).message)).toContain('ERR_NGROK_107');
  });
});
