// Edge behaviour the real SDK cannot easily provoke: an agent that vanishes, a stream
// reset mid-response, the ProxyHeader bytes. A scripted muxado client plays the agent.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialRegistry } from '../../src/sandbox/credentials.js';
import { SandboxEdge } from '../../src/sandbox/edge.js';
import { FLAG_SYN, FrameType, encodeRst } from '../../src/sandbox/muxado/frame.js';
import { FakeMuxClient } from '../unit/sandbox/helpers.js';

const DOMAIN = 'fake.localhost';
let stateDir: string;
let edge: SandboxEdge;
let credentials: CredentialRegistry;
let token: string;
let ca: Buffer;
const sockets: tls.TLSSocket[] = [];

async function connectAgent(): Promise<FakeMuxClient> {
  const [host, port] = edge.agentAddr.split(':');
  const socket = tls.connect({ host, port: Number(port), ca });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  return new FakeMuxClient(socket);
}

async function rpc(client: FakeMuxClient, type: number, body: unknown): Promise<Record<string, unknown>> {
  const id = client.open(type);
  client.send(id, JSON.stringify(body));
  await client.until(() => client.finOn(id));
  return JSON.parse(client.dataOn(id).toString()) as Record<string, unknown>;
}

async function authAndBind(client: FakeMuxClient, host: string) {
  const auth = await rpc(client, 0, { Version: ['3', '2'], ClientId: '', Extra: { AuthToken: token, Metadata: 'fake' } });
  expect(auth).toMatchObject({ Version: '3' });
  const bind = await rpc(client, 1, {
    Id: '',
    Proto: 'https',
    ForwardsTo: 'fake',
    ForwardsProto: '',
    Opts: { Domain: host, Hostname: '', Auth: '', Subdomain: '', HostHeaderRewrite: false, ProxyProto: 0, TrafficPolicy: null },
    Extra: { Token: '', Metadata: '' },
  });
  expect(bind.URL).toBe(`https://${host}:${edge.httpsPort}`);
  expect(bind.Opts).toMatchObject({ Domain: host, ProxyProto: 0 });
  return bind as { Id: string; URL: string };
}

function get(host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: edge.httpPort, path, headers: { Host: host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('public request hung')));
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'devtunnel-fake-agent-'));
  credentials = new CredentialRegistry();
  token = credentials.create({ acl: [`bind:*.${DOMAIN}`] }).token;
  edge = await SandboxEdge.start({ stateDir, domain: DOMAIN, credentials, reattachWaitMs: 300 });
  ca = await readFile(edge.caPath);
});

afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await edge?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('sandbox edge with a scripted agent', () => {
  it('echoes heartbeats before and during auth', async () => {
    const client = await connectAgent();
    const hb = client.open(0xffffffff);
    client.send(hb, Buffer.from([0xad, 0x87, 0x1b, 0x92]));
    await client.until(() => client.dataOn(hb).length === 4);
    expect(client.dataOn(hb).toString('hex')).toBe('ad871b92');
  });

  it('sends the ProxyHeader (i64 LE length, EdgeType as a string) and the request in the SYN frame', async () => {
    const client = await connectAgent();
    const bind = await authAndBind(client, `hdr.${DOMAIN}`);
    const pending = get(`hdr.${DOMAIN}`, '/x');
    const syn = await client.until(() => client.frames.find((f) => f.type === FrameType.DATA && f.flags & FLAG_SYN && f.streamId % 2 === 0));
    expect(syn.body.readUInt32BE(0)).toBe(3);
    const n = Number(syn.body.readBigInt64LE(4));
    const header = JSON.parse(syn.body.subarray(12, 12 + n).toString()) as Record<string, unknown>;
    expect(header).toEqual({ Id: bind.Id, ClientAddr: expect.stringMatching(/^127\.0\.0\.1:\d+$/), Proto: 'http', EdgeType: '3', PassthroughTLS: false });
    await client.until(() => client.dataOn(syn.streamId).toString().includes('\r\n\r\n'));
    expect(client.dataOn(syn.streamId).subarray(12 + n).toString()).toMatch(/^GET \/x HTTP\/1\.1\r\n/);
    client.send(syn.streamId, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok', true);
    expect(await pending).toEqual({ status: 200, body: 'ok' });
  });

  it('answers 502 (not a hang) when the agent resets the stream before answering', async () => {
    const client = await connectAgent();
    await authAndBind(client, `rst.${DOMAIN}`);
    const pending = get(`rst.${DOMAIN}`);
    const syn = await client.until(() => client.frames.find((f) => f.flags & FLAG_SYN && f.streamId % 2 === 0));
    client.socket.write(encodeRst(syn.streamId, 2));
    const r = await pending;
    expect(r.status).toBe(502);
    expect(r.body).toContain(`rst.${DOMAIN}`);
  });

  it('answers 502 when the agent disconnects mid-request and does not come back', async () => {
    const client = await connectAgent();
    await authAndBind(client, `gone.${DOMAIN}`);
    const pending = get(`gone.${DOMAIN}`);
    await client.until(() => client.frames.find((f) => f.flags & FLAG_SYN && f.streamId % 2 === 0));
    client.socket.destroy();
    expect((await pending).status).toBe(502);
    // Still bound (the agent may reconnect), but nobody serves it: 502 after the grace period.
    const later = await get(`gone.${DOMAIN}`);
    expect(later.status).toBe(502);
    expect(later.body).toMatch(/not connected/);
    expect(edge.endpoints().find((e) => e.host === `gone.${DOMAIN}`)?.sessionId).toBeNull();
  });

  it('lets a new agent take over a host whose agent is gone, and re-attaches a known id', async () => {
    const a = await connectAgent();
    const first = await authAndBind(a, `take.${DOMAIN}`);
    const b = await connectAgent();
    const clash = await rpc(b, 0, { Version: ['3'], ClientId: '', Extra: { AuthToken: token } }).then(() =>
      rpc(b, 1, { Id: '', Proto: 'https', Opts: { Domain: `take.${DOMAIN}` }, Extra: { Token: '' } }),
    );
    expect(String(clash.Error)).toMatch(/ERR_NGROK_334$/);
    a.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const again = await rpc(b, 1, { Id: '', Proto: 'https', Opts: { Domain: `take.${DOMAIN}` }, Extra: { Token: '' } });
    expect(again.Id).not.toBe(first.Id);
    expect(again.URL).toBe(first.URL);
  });

  it('keeps the CA in the state dir (key 0600) and reuses it on the next start', async () => {
    expect((await stat(join(stateDir, 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    const second = await SandboxEdge.start({ stateDir, domain: DOMAIN, credentials });
    try {
      expect(second.caPath).toBe(edge.caPath);
      expect(await readFile(second.caPath)).toEqual(ca);
      expect(second.agentAddr).not.toBe(edge.agentAddr);
      expect(second.httpUrl).toBe(`http://${DOMAIN}:${second.httpPort}`);
    } finally {
      await second.close();
    }
  });

  it('refuses RPCs before Auth and answers duplicate Unbinds with {}', async () => {
    const client = await connectAgent();
    const early = await rpc(client, 1, { Id: '', Proto: 'https', Opts: { Domain: `x.${DOMAIN}` }, Extra: { Token: '' } });
    expect(String(early.Error)).toMatch(/ERR_NGROK_\d+$/);
    const bind = await authAndBind(client, `unbind.${DOMAIN}`);
    expect(await rpc(client, 2, { Id: bind.Id })).toEqual({});
    expect(await rpc(client, 2, { Id: bind.Id })).toEqual({});
    expect(edge.events.list('unbind').filter((e) => e.endpointId === bind.Id)).toHaveLength(1);
    const labeled = await rpc(client, 7, { Labels: { edge: 'x' } });
    expect(String(labeled.Error)).toMatch(/ERR_NGROK_9034$/);
    const tcp = await rpc(client, 1, { Id: '', Proto: 'tcp', Opts: { Addr: '' }, Extra: { Token: '' } });
    expect(String(tcp.Error)).toMatch(/ERR_NGROK_9034$/);
  });
});
