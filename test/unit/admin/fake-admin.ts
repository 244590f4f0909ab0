// Fakes for the admin services: a context with an in-memory keychain and a scripted prompter,
// an admin config in a temp dir holding one signed team, and an in-memory ngrok REST API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { AdminConfig } from '../../../src/admin/admin-config.js';
import type { AdminDeps } from '../../../src/admin/admin.js';
import { NgrokApiClient, type ApiCredential } from '../../../src/admin/ngrok-api.js';
import type { CliContext } from '../../../src/cli/context.js';
import { MemoryStore } from '../../../src/secrets/memory-store.js';
import { signPolicy } from '../../../src/team/signed-policy.js';
import { generateTeamKey } from '../../../src/team/team-key.js';
import { createOutput } from '../../../src/ui/output.js';
import { Redactor } from '../../../src/ui/redact.js';
import { samplePolicy } from '../team/fixtures.js';

export const API_KEY = 'fake-ngrok-api-key-0123456789';

/** An in-memory `/credentials` API, served through the real client's `fetch` option. */
export class FakeNgrokApi {
  readonly credentials: ApiCredential[] = [];
  private next = 1;

  add(c: Partial<ApiCredential> & { acl: string[] }): ApiCredential {
    const credential: ApiCredential = { id: `cr_${this.next++}`, uri: '', created_at: `2024-01-0${this.next}T00:00:00Z`, description: '', metadata: '', token: null, ...c };
    this.credentials.push(credential);
    return credential;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const reply = (status: number, body?: unknown) =>
      new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (url.pathname === '/credentials' && method === 'GET') return reply(200, { credentials: this.credentials.map((c) => ({ ...c, token: null })), next_page_uri: null });
    if (url.pathname === '/credentials' && method === 'POST') {
      const body = JSON.parse(String(init?.body)) as { description: string; metadata: string; acl: string[] };
      const created = this.add({ ...body, token: `tok_${this.next}_secret_authtoken` });
      return reply(201, created);
    }
    const id = /^\/credentials\/(.+)$/.exec(url.pathname)?.[1];
    if (id && method === 'DELETE') {
      const i = this.credentials.findIndex((c) => c.id === id);
      if (i < 0) return reply(404, { error_code: 'ERR_NGROK_404', msg: 'not found' });
      this.credentials.splice(i, 1);
      return reply(204);
    }
    return reply(404, { msg: `no route ${method} ${url.pathname}` });
  };
}

export interface AdminFixture {
  deps: AdminDeps;
  ctx: CliContext;
  config: AdminConfig;
  memory: MemoryStore;
  api: FakeNgrokApi;
  asked: string[];
  out: string[];
  cleanup(): void;
}

/**
 * Team `acme` (domain tunnels-dev.acme.com, the sample policy, which names the team secret `okta`),
 * signed and set up, with its key, API key and secret in the fake keychain.
 */
export function adminFixture(opts: { answers?: boolean[]; developerTeam?: string; secrets?: Record<string, string> } = {}): AdminFixture {
  const dir = mkdtempSync(path.join(tmpdir(), 'devtunnel-admin-unit-'));
  const key = generateTeamKey();
  const policy = samplePolicy();
  const config = new AdminConfig({ cwd: dir, env: {} });
  config.saveTeam({
    id: 'acme',
    name: policy.team.name,
    domain: policy.domain,
    ingress: policy.ingress,
    api_url: 'https://api.ngrok.test',
    key_fingerprint: key.fingerprint,
    signed_policy: signPolicy(policy, key.privateKeyPem),
  });
  const memory = new MemoryStore({
    'admin-key:acme': key.privateKeyPem,
    'admin-api:acme': API_KEY,
    'team-secret:acme:okta': 'okta-client-secret-value',
    ...opts.secrets,
  });
  const api = new FakeNgrokApi();
  const out: string[] = [];
  const asked: string[] = [];
  const sink = new Writable({ write: (c, _e, cb) => (out.push(String(c)), cb()) });
  const ctx: CliContext = {
    env: {},
    stdin: Readable.from([]),
    stdout: sink,
    stderr: sink,
    tty: { stdin: false, stdout: false, stderr: false },
    out: createOutput({ stdout: sink, stderr: sink, json: true, color: false }),
    prompter: {
      interactive: opts.answers !== undefined,
      async secret(question) {
        throw new Error(`unexpected prompt: ${question}`);
      },
      async confirm(question) {
        asked.push(question);
        const answer = opts.answers?.shift();
        if (answer === undefined) throw new Error(`unexpected confirm: ${question}`);
        return answer;
      },
    },
    redactor: new Redactor(),
    now: () => new Date('2024-05-01T12:00:00Z'),
    version: '0.0.0-test',
    teamStore: async () => ({ load: () => (opts.developerTeam ? { teamId: opts.developerTeam } : undefined) }) as never,
    secretStore: async () => memory,
    tunnelStarter: async () => {
      throw new Error('no tunnels in admin tests');
    },
  };
  const deps: AdminDeps = { ctx, config, apiClient: ({ apiKey, baseUrl }) => new NgrokApiClient({ apiKey, baseUrl, fetch: api.fetch, maxAttempts: 1 }) };
  return { deps, ctx, config, memory, api, asked, out, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
