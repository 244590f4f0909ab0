// The real @ngrok/ngrok native agent against the sandbox edge, on loopback.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ngrok from '@ngrok/ngrok';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { CredentialRegistry } from '../../src/sandbox/credentials.js';
import { SandboxEdge } from '../../src/sandbox/edge.js';

const DOMAIN = 'sandbox.localhost';
const HOST = `app.dev.${DOMAIN}`;

let stateDir: string;
let edge: SandboxEdge;
let credentials: CredentialRegistry;
let token: string;
let credentialId: string;
let app: http.Server;
let appPort: number;
let ca: Buffer;
const listeners: ngrok.Listener[] = [];

const bigBody = Buffer.alloc(1_500_000, 0);
for (let i = 0; i < bigBody.length; i++) bigBody[i] = (i * 31 + (i >> 8)) & 0xff;

function startApp(): Promise<void> {
  app = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/hello') {
      res.writeHead(201, { 'X-App': 'yes', 'Content-Type': 'text/plain' });
      res.end('hello world');
    } else if (url === '/headers') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(req.headers));
    } else if (url === '/upload') {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        length += c.length;
      });
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ sha: hash.digest('hex'), length, te: req.headers['transfer-encoding'] ?? null }));
      });
    } else if (url === '/big') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bigBody.length });
      res.end(bigBody);
    } else if (url === '/chunked') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      let n = 0;
      const tick = setInterval(() => {
        res.write(`part${n}\n`);
        if (++n === 5) {
          clearInterval(tick);
          res.end();
        }
      }, 10);
    } else {
      res.writeHead(404);
      res.end('app: not found');
    }
  });
  const wss = new WebSocketServer({ server: app });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return new Promise((resolve) => app.listen(0, '127.0.0.1', () => {
    appPort = (app.address() as AddressInfo).port;
    resolve();
  }));
}

interface Resp {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  reused: boolean;
}

function request(opts: { path: string; host?: string; method?: string; body?: Buffer | string[]; headers?: Record<string, string>; tls?: boolean; agent?: http.Agent }): Promise<Resp> {
  const host = opts.host ?? HOST;
  return new Promise((resolve, reject) => {
    const common = {
      host: '127.0.0.1',
      method: opts.method ?? 'GET',
      path: opts.path,
      headers: { Host: host, ...opts.headers },
      agent: opts.agent ?? false,
    };
    const req = opts.tls
      ? https.request({ ...common, port: edge.httpsPort, ca, servername: host })
      : http.request({ ...common, port: edge.httpPort });
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), reused: req.reusedSocket }));
      res.on('error', reject);
    });
    if (Array.isArray(opts.body)) {
      // Streamed without Content-Length: chunked transfer encoding.
      let i = 0;
      const next = () => (i < (opts.body as string[]).length ? req.write((opts.body as string[])[i++], () => setTimeout(next, 5)) : req.end());
      next();
    } else {
      req.end(opts.body);
    }
  });
}

async function forward(extra: Record<string, unknown> = {}): Promise<ngrok.Listener> {
  const listener = await ngrok.forward({
    addr: `127.0.0.1:${appPort}`,
    authtoken: token,
    server_addr: edge.agentAddr,
    root_cas: edge.caPath,
    domain: HOST,
    force_new_session: true,
    ...extra,
  });
  listeners.push(listener);
  return listener;
}

async function forwardError(extra: Record<string, unknown>): Promise<Error & { errorCode?: string }> {
  try {
    await forward(extra);
  } catch (err) {
    return err as Error & { errorCode?: string };
  }
  throw new Error('forward() unexpectedly succeeded');
}

async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'devtunnel-sandbox-'));
  credentials = new CredentialRegistry();
  const cred = credentials.create({ description: 'dev', acl: [`bind:*.dev.${DOMAIN}`] });
  token = cred.token;
  credentialId = cred.id;
  edge = await SandboxEdge.start({ stateDir, domain: DOMAIN, credentials });
  ca = await readFile(edge.caPath);
  await startApp();
});

afterAll(async () => {
  for (const l of listeners) await l.close().catch(() => {});
  await ngrok.kill().catch(() => {});
  await edge?.close();
  await new Promise((r) => app?.close(r));
  app?.closeAllConnections();
  await rm(stateDir, { recursive: true, force: true });
});

describe('sandbox edge with the real @ngrok/ngrok agent', () => {
  let listener: ngrok.Listener;

  it('authenticates, binds and reports the URL', async () => {
    listener = await forward({ session_metadata: 'meta-1', metadata: 'listener-meta' });
    expect(listener.url()).toBe(`https://${HOST}:${edge.httpsPort}`);
    const auth = edge.events.list('session_auth').at(-1)!;
    expect(auth.credentialId).toBe(credentialId);
    expect(auth.metadata).toBe('meta-1');
    expect(JSON.stringify(edge.events.list())).not.toContain(token);
    const bind = edge.events.list('bind').at(-1)!;
    expect(bind).toMatchObject({ host: HOST, acl_check: 'passed', proto: 'https', url: listener.url(), traffic_policy: null });
    expect(edge.endpoints()).toEqual([expect.objectContaining({ host: HOST, id: listener.id(), credentialId })]);
    expect(edge.sessions().find((s) => s.id === auth.sessionId)).toMatchObject({ credentialId, metadata: 'meta-1' });
  });

  it('proxies a GET over HTTP with exact status, headers and body', async () => {
    const r = await request({ path: '/hello', host: `${HOST.toUpperCase()}:${edge.httpPort}` });
    expect(r.status).toBe(201);
    expect(r.headers['x-app']).toBe('yes');
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.body.toString()).toBe('hello world');
    const proxy = await waitFor(() => edge.events.list('proxy').find((e) => e.path === '/hello'), 'proxy event');
    expect(proxy).toMatchObject({ endpointId: listener.id(), method: 'GET', status: 201 });
  });

  it('sets X-Forwarded-* from the real socket and ignores spoofed values', async () => {
    const r = await request({ path: '/headers', headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Forwarded-Proto': 'gopher' } });
    const headers = JSON.parse(r.body.toString()) as Record<string, string>;
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe(HOST);
    expect(headers.host).toBe(HOST);
  });

  it('serves HTTPS with a per-host certificate from the sandbox CA', async () => {
    const r = await request({ path: '/headers', tls: true });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())['x-forwarded-proto']).toBe('https');
  });

  it('streams a 5 MB POST body intact', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    const r = await request({ path: '/upload', method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream' } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ sha: createHash('sha256').update(body).digest('hex'), length: body.length, te: null });
  });

  it('streams a response larger than 1 MB intact (HTTP and HTTPS)', async () => {
    for (const tls of [false, true]) {
      const r = await request({ path: '/big', tls });
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe(String(bigBody.length));
      expect(createHash('sha256').update(r.body).digest('hex')).toBe(createHash('sha256').update(bigBody).digest('hex'));
    }
  });

  it('passes chunked bodies both ways', async () => {
    const down = await request({ path: '/chunked' });
    expect(down.headers['transfer-encoding']).toBe('chunked');
    expect(down.body.toString()).toBe('part0\npart1\npart2\npart3\npart4\n');
    const up = await request({ path: '/upload', method: 'POST', body: ['a', 'bb', 'ccc'] });
    expect(JSON.parse(up.body.toString())).toMatchObject({ length: 6, te: 'chunked', sha: createHash('sha256').update('abbccc').digest('hex') });
  });

  it('keeps the public connection alive across requests', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await request({ path: '/hello', agent });
      const b = await request({ path: '/hello', agent });
      expect(a.body.toString()).toBe('hello world');
      expect(b.body.toString()).toBe('hello world');
      expect(b.reused).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('serves many concurrent requests over one agent session', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => request({ path: i % 3 === 0 ? '/big' : '/hello', tls: i % 2 === 0 })));
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe(i % 3 === 0 ? 200 : 201);
      expect(r.body.length).toBe(i % 3 === 0 ? bigBody.length : 11);
    }
  });

  it('passes WebSocket upgrades through', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${edge.httpPort}/ws`, { headers: { Host: HOST } });
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('ping over the tunnel'));
      ws.on('message', (data) => resolve(data.toString()));
      ws.on('error', reject);
    });
    expect(echoed).toBe('ping over the tunnel');
    ws.close();
  });

  it('answers 404 naming an unknown host', async () => {
    const r = await request({ path: '/', host: `nope.${DOMAIN}` });
    expect(r.status).toBe(404);
    expect(r.body.toString()).toContain(`nope.${DOMAIN}`);
  });

  it('rejects a bad authtoken with ERR_NGROK_107', async () => {
    const err = await forwardError({ authtoken: 'not-a-real-token', domain: `other.dev.${DOMAIN}` });
    expect(err.errorCode).toBe('ERR_NGROK_107');
    expect(err.message).toContain('authtoken you specified is invalid');
    expect(edge.events.list('auth_refused').at(-1)).toMatchObject({ code: 'ERR_NGROK_107' });
  });

  it('rejects hosts outside the ACL, including look-alikes, with ERR_NGROK_319', async () => {
    for (const host of [`app.prod.${DOMAIN}`, `dev.${DOMAIN}`, `app.evildev.${DOMAIN}`]) {
      const err = await forwardError({ domain: host });
      expect(err.errorCode).toBe('ERR_NGROK_319');
      expect(err.message).toContain(host);
      expect(err.message).toContain(`bind:*.dev.${DOMAIN}`);
    }
  });

  it('rejects hosts outside the sandbox domain with ERR_NGROK_320', async () => {
    const err = await forwardError({ domain: 'app.dev.example.com' });
    expect(err.errorCode).toBe('ERR_NGROK_320');
  });

  it('rejects a host already bound by a live listener with ERR_NGROK_334', async () => {
    const err = await forwardError({});
    expect(err.errorCode).toBe('ERR_NGROK_334');
  });

  it('rejects an unparsable or malformed traffic policy with ERR_NGROK_9026', async () => {
    for (const policy of ['{"on_http_request": [', 'on_http_request: {actions: []}', '{"on_http_request":[{"actions":[]}]}', '{"on_request":[]}']) {
      const err = await forwardError({ domain: `policy.dev.${DOMAIN}`, traffic_policy: policy });
      expect(err.errorCode).toBe('ERR_NGROK_9026');
      expect(err.message).toMatch(/traffic policy/i);
    }
  });

  it('keeps a valid policy (YAML) with the endpoint', async () => {
    const l = await forward({
      domain: `policy.dev.${DOMAIN}`,
      traffic_policy: 'on_http_request:\n  - name: deny\n    expressions: ["req.url.path == \'/x\'"]\n    actions:\n      - type: deny\n',
    });
    const ep = edge.endpoints().find((e) => e.id === l.id())!;
    expect(ep.policy).toEqual({ on_http_request: [{ name: 'deny', expressions: ["req.url.path == '/x'"], actions: [{ type: 'deny' }] }] });
    expect(edge.events.list('bind').at(-1)!.traffic_policy).toEqual(ep.policy);
    await l.close();
  });

  it('lets the agent reconnect after GOAWAY with the same listener id and URL', async () => {
    const authsBefore = edge.events.list('session_auth').length;
    edge.goAwayAll();
    await waitFor(() => edge.events.list('bind').find((e) => e.rebind && e.endpointId === listener.id()), 'rebind');
    expect(edge.events.list('session_auth').slice(authsBefore).some((e) => e.reconnect)).toBe(true);
    const r = await request({ path: '/hello' });
    expect(r.status).toBe(201);
    expect(r.body.toString()).toBe('hello world');
    expect(edge.endpoints().find((e) => e.host === HOST)!.url).toBe(listener.url());
  });

  it('unbinds on listener.close(), then answers 404 without hanging', async () => {
    await listener.close();
    const unbind = await waitFor(() => edge.events.list('unbind').find((e) => e.endpointId === listener.id()), 'unbind');
    expect(unbind.host).toBe(HOST);
    const r = await request({ path: '/hello' });
    expect(r.status).toBe(404);
  });

  it('stops the sessions of a credential with the Stop command; the host goes away', async () => {
    const l = await forward({ domain: `stop.dev.${DOMAIN}` });
    expect((await request({ path: '/hello', host: `stop.dev.${DOMAIN}` })).status).toBe(201);
    const sessionId = edge.endpoints().find((e) => e.id === l.id())!.sessionId!;
    expect(await edge.stopSessionsOf(credentialId)).toBeGreaterThanOrEqual(1);
    await waitFor(() => edge.events.list('session_closed').find((e) => e.sessionId === sessionId), 'session_closed');
    expect((await request({ path: '/hello', host: `stop.dev.${DOMAIN}` })).status).toBe(404);
    // The agent tries to resume; its stopped identity is refused.
    await waitFor(() => edge.events.list('auth_refused').find((e) => e.code === 'ERR_NGROK_9041'), 'refused resume');
    expect(edge.endpoints().find((e) => e.host === `stop.dev.${DOMAIN}`)).toBeUndefined();
  });

  it('stops live sessions when their credential is deleted', async () => {
    const cred = credentials.create({ acl: [`bind:del.dev.${DOMAIN}`] });
    const l = await forward({ authtoken: cred.token, domain: `del.dev.${DOMAIN}` });
    expect((await request({ path: '/hello', host: `del.dev.${DOMAIN}` })).status).toBe(201);
    credentials.delete(cred.id);
    await waitFor(() => edge.sessions().every((s) => s.credentialId !== cred.id) && edge.endpoints().every((e) => e.id !== l.id()), 'sessions stopped');
    expect((await request({ path: '/hello', host: `del.dev.${DOMAIN}` })).status).toBe(404);
  });

  it('relays the agent\'s own 502 when the local app is down', async () => {
    const cred = credentials.create({ acl: [`bind:down.dev.${DOMAIN}`] });
    await forward({ authtoken: cred.token, domain: `down.dev.${DOMAIN}`, addr: '127.0.0.1:1' });
    const r = await request({ path: '/hello', host: `down.dev.${DOMAIN}` });
    expect(r.status).toBe(502);
    expect(r.body.toString()).toMatch(/failed to dial backend/);
  });
});
