// The REST client against a local fault-injecting HTTP server: headers, error mapping, retries
// with Retry-After, pagination, and that the API key never leaks into errors.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NgrokApiClient, NgrokApiError, normalizeBaseUrl, retryAfterMs } from '../../../src/admin/ngrok-api.js';

type Handler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function serve(handler: Handler): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, body, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const API_KEY = 'canary-api-key-0123456789abcdef';

describe('NgrokApiClient', () => {
  it('sends the Bearer key and Ngrok-Version: 2, posts JSON, and returns the body', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    let posted = '';
    const url = await serve((req, body, res) => {
      seen.push(req.headers);
      posted = body;
      json(res, 201, { id: 'cr_1', uri: '', created_at: 'x', description: 'd', metadata: 'm', token: 'tok', acl: ['bind:*.a.example.com'] });
    });
    const client = new NgrokApiClient({ apiKey: API_KEY, baseUrl: `${url}/` });
    const created = await client.createCredential({ description: 'd', metadata: 'm', acl: ['bind:*.a.example.com'] });
    expect(created.id).toBe('cr_1');
    expect(seen[0]!.authorization).toBe(`Bearer ${API_KEY}`);
    expect(seen[0]!['ngrok-version']).toBe('2');
    expect(seen[0]!['content-type']).toBe('application/json');
    expect(JSON.parse(posted)).toEqual({ description: 'd', metadata: 'm', acl: ['bind:*.a.example.com'] });
  });

  it("maps ngrok's error body to code, message and request id, without the key", async () => {
    const url = await serve((_req, _body, res) =>
      json(res, 400, { error_code: 'ERR_NGROK_600', status_code: 400, msg: `Invalid ACL rule. You specified: bind:x ${API_KEY}`, details: { operation_id: 'op_abc123' } }),
    );
    const client = new NgrokApiClient({ apiKey: API_KEY, baseUrl: url });
    const error = await client.createCredential({ acl: ['bind:x'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NgrokApiError);
    const e = error as NgrokApiError;
    expect(e.ngrokCode).toBe('ERR_NGROK_600');
    expect(e.operationId).toBe('op_abc123');
    expect(e.status).toBe(400);
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('Invalid ACL rule');
    expect(e.message).toContain('ERR_NGROK_600');
    expect(e.message).toContain('request id op_abc123');
    expect(e.message).not.toContain(API_KEY);
  });

  it('maps 401 to exit 3 with a hint to log in again, and a non-JSON body to the HTTP status', async () => {
    const url = await serve((req, _b, res) => {
      if (req.url?.startsWith('/credentials')) return json(res, 401, { error_code: 'ERR_NGROK_201', status_code: 401, msg: 'bad key', details: { operation_id: 'op_1' } });
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>nope</html>');
    });
    const client = new NgrokApiClient({ apiKey: API_KEY, baseUrl: url });
    const unauthorized = (await client.listCredentials().catch((e: unknown) => e)) as NgrokApiError;
    expect(unauthorized.exitCode).toBe(3);
    expect(unauthorized.suggestions.join(' ')).toContain('admin login');
    const missing = (await client.request('GET', '/other').catch((e: unknown) => e)) as NgrokApiError;
    expect(missing.status).toBe(404);
    expect(missing.message).toContain('HTTP 404');
  });

  it('retries 429 honouring Retry-After, and 5xx with backoff, then succeeds', async () => {
    let calls = 0;
    const url = await serve((_req, _b, res) => {
      calls++;
      if (calls === 1) return json(res, 429, { error_code: 'ERR_NGROK_X', status_code: 429, msg: 'slow down' }, { 'retry-after': '3' });
      if (calls === 2) return json(res, 503, { msg: 'unavailable' });
      json(res, 200, { credentials: [], uri: '', next_page_uri: null });
    });
    const sleeps: number[] = [];
    const client = new NgrokApiClient({ apiKey: API_KEY, baseUrl: url, backoffMs: 100, sleep: async (ms) => void sleeps.push(ms) });
    expect(await client.listCredentials()).toEqual([]);
    expect(calls).toBe(3);
    expect(sleeps).toEqual([3000, 200]);
  });

  it('gives up after maxAttempts and reports the last error with the attempt count', async () => {
    let calls = 0;
    const url = await serve((_req, _b, res) => {
      calls++;
      json(res, 429, { error_code: 'ERR_NGROK_RATE', status_code: 429, msg: 'rate limited', details: { operation_id: `op_${calls}` } }, { 'retry-after': '1' });
    });
    const sleeps: number[] = [];
    const client = new NgrokApiClient({ apiKey: API_KEY, baseUrl: url, maxAttempts: 3, sleep: async (ms) => void sleeps.push(ms) });
    const error = (await client.listCredentials().catch((e: unknown) => e)) as NgrokApiError;
    expect(calls).toBe(3);
    expect(sleeps).toEqual([1000, 1000]);
    expect(error.status).toBe(429);
    expect(error.message).toContain('after 3 attempts');
    expect(error.message).toContain('request id op_3');
  });

  it('caps a huge Retry-After at maxDelayMs', async () => {
    let calls = 0;
    const url = await serve((_req, _b, res) => (++calls === 1 ? json(res, 429, {}, { 'retry-after': '3600' }) : json(res, 200, { credentials: [], next_page_uri: null })));
    const sleeps: number[] = [];
    const client = new NgrokApiClient({ apiKey: API_KEY, baseUrl: url, maxDelayMs: 5000, sleep: async (ms) => void sleeps.push(ms) });
    await client.listCredentials();
    expect(sleeps).toEqual([5000]);
  });

  it('follows next_page_uri across pages and refuses a link to another host', async () => {
    let base = '';
    const url = await serve((req, _b, res) => {
      const u = new URL(req.url ?? '/', base);
      const page = Number(u.searchParams.get('page') ?? '1');
      if (page < 3) return json(res, 200, { credentials: [{ id: `cr_${page}` }], uri: '', next_page_uri: `${base}/credentials?page=${page + 1}` });
      if (page === 3) return json(res, 200, { credentials: [{ id: 'cr_3' }], uri: '', next_page_uri: null });
      json(res, 200, { credentials: [], next_page_uri: 'http://evil.example/credentials' });
    });
    base = url;
    const client = new NgrokApiClient({ apiKey: API_KEY, baseUrl: url });
    expect((await client.listCredentials()).map((c) => c.id)).toEqual(['cr_1', 'cr_2', 'cr_3']);
    const error = (await client.listAll('/credentials?page=4', 'credentials').catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('another host');
  });

  it('reports an unreachable API after retrying network errors', async () => {
    const url = await serve((_r, _b, res) => res.end());
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    const sleeps: number[] = [];
    const client = new NgrokApiClient({ apiKey: API_KEY, baseUrl: url, maxAttempts: 2, sleep: async (ms) => void sleeps.push(ms) });
    const error = (await client.listCredentials().catch((e: unknown) => e)) as NgrokApiError;
    expect(error.message).toMatch(/Cannot reach the ngrok API/);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.exitCode).toBe(2);
    expect(sleeps.length).toBe(1);
  });

  it('does not retry a port fetch refuses ("bad port"), and says so (exit 2)', async () => {
    const sleeps: number[] = [];
    const client = new NgrokApiClient({ apiKey: API_KEY, baseUrl: 'http://127.0.0.1:9', sleep: async (ms) => void sleeps.push(ms) });
    const error = (await client.listCredentials().catch((e: unknown) => e)) as NgrokApiError;
    expect(error.message).toContain('port 9 is one that fetch refuses to connect to ("bad port")');
    expect(error.exitCode).toBe(2);
    expect(sleeps).toEqual([]);
  });

  it('parses Retry-After and base URLs', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(normalizeBaseUrl('https://api.ngrok.com/')).toBe('https://api.ngrok.com');
    expect(() => normalizeBaseUrl('ftp://x')).toThrow(/http/);
  });
});
