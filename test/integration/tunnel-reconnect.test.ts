// NgrokTunnelStarter (the real SDK) against the sandbox edge, through a TCP relay standing in for
// the network: after a short drop the tunnel must serve again within seconds (the SDK alone would
// wait ~125 s for its next attempt), with one live session and endpoint left at the edge. A drop in
// which the edge stopped the session (its Stop lost on the way) must still end as "stopped".
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialRegistry } from '../../src/sandbox/credentials.js';
import { SandboxEdge } from '../../src/sandbox/edge.js';
import { NgrokTunnelStarter } from '../../src/tunnel/ngrok-tunnel-starter.js';
import type { TunnelEnd } from '../../src/tunnel/tunnel-starter.js';
import { publicRequest } from '../support/public-request.js';
import { startSampleApp, type SampleApp } from '../support/sample-app.js';

const DOMAIN = 'relay.localhost';
let edge: SandboxEdge;
let credentials: CredentialRegistry;
let app: SampleApp;

/** A TCP relay between the agent and the sandbox's agent ingress: the "network". */
class Relay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** While set, bytes from the edge to the agent are dropped (a lost Stop). */
  blackholeToAgent = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Accepts connections (again, on the same port). */
  up(): Promise<void> {
    const server = net.createServer((agent) => {
      const upstream = net.connect(this.target.port, this.target.host);
      const pair = [agent, upstream];
      for (const s of pair) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => pair.forEach((x) => (x.destroy(), this.sockets.delete(x))));
      }
      agent.on('data', (chunk: Buffer) => upstream.write(chunk));
      upstream.on('data', (chunk: Buffer) => {
        if (!this.blackholeToAgent) agent.write(chunk);
      });
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', () => ((this.port = (server.address() as net.AddressInfo).port), resolve())));
  }

  /** The network goes: every connection is cut and new ones are refused. */
  down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

beforeAll(async () => {
  credentials = new CredentialRegistry();
  edge = await SandboxEdge.start({ stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-relay-')), domain: DOMAIN, credentials });
  app = await startSampleApp();
});
afterAll(async () => {
  await app?.close();
  await edge?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startTunnel(label: string) {
  const [host, port] = edge.agentAddr.split(':') as [string, string];
  const relay = new Relay({ host, port: Number(port) });
  await relay.up();
  const credential = credentials.create({ acl: [`bind:*.${label}.${DOMAIN}`] });
  const statuses: string[] = [];
  const ends: TunnelEnd[] = [];
  let resolveEnd: (e: TunnelEnd) => void = () => undefined;
  const ended = new Promise<TunnelEnd>((r) => (resolveEnd = r));
  const domain = `app.${label}.${DOMAIN}`;
  const tunnel = await new NgrokTunnelStarter().start({
    serverAddr: relay.address,
    rootCas: readFileSync(edge.caPath, 'utf8'),
    authtoken: credential.token,
    sessionMetadata: JSON.stringify({ user: label }),
    domain,
    upstream: `127.0.0.1:${app.port}`,
    trafficPolicy: '',
    endpointMetadata: JSON.stringify({ profile: 'sso' }),
    onStatusChange: (s) => statuses.push(s),
    onEnded: (e) => {
      ends.push(e);
      resolveEnd(e);
    },
  });
  const live = () => ({
    sessions: edge.sessions().filter((s) => s.credentialId === credential.id && !s.metadata.includes('devtunnel_probe')),
    endpoints: edge.endpoints().filter((e) => e.host === domain),
  });
  return { relay, credential, tunnel, statuses, ends, ended, live };
}

const teapot = (url: string) =>
  publicRequest({ url, path: '/teapot', caPath: edge.caPath }).then(
    (r) => r.status,
    () => 0,
  );

describe('NgrokTunnelStarter after a network drop', () => {
  it('serves again within seconds of the network coming back, on one session and endpoint', async () => {
    const t = await startTunnel('wifi');
    expect(await teapot(t.tunnel.url)).toBe(418);
    const before = t.live().sessions.map((s) => s.id);
    expect(before).toHaveLength(1);

    await t.relay.down();
    await sleep(3_000);
    await t.relay.up();
    const restoredAt = Date.now();
    let status = 0;
    while (status !== 418 && Date.now() - restoredAt < 8_000) {
      status = await teapot(t.tunnel.url);
      if (status !== 418) await sleep(100);
    }
    const recoveryMs = Date.now() - restoredAt;
    console.info(`tunnel served again ${recoveryMs} ms after the network came back`);
    expect(status).toBe(418);
    expect(recoveryMs).toBeLessThan(8_000);
    expect(t.statuses).toEqual(['closed', 'connected']);
    expect(t.ends).toEqual([]);

    // The old session's reconnect loop is closed: one live session, one endpoint served by it.
    await sleep(500);
    const { sessions, endpoints } = t.live();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.id).not.toBe(before[0]);
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]).toMatchObject({ sessionId: sessions[0]!.id, metadata: JSON.stringify({ profile: 'sso' }) });

    await t.tunnel.close();
    await sleep(300);
    expect(t.live().endpoints).toEqual([]);
    await t.relay.down();
  }, 30_000);

  it('a session the edge stopped while its Stop was lost ends as "stopped", and is not replaced', async () => {
    const t = await startTunnel('lost');
    expect(await teapot(t.tunnel.url)).toBe(418);
    const session = t.live().sessions[0]!;
    t.relay.blackholeToAgent = true;
    // The Stop goes nowhere; the edge waits for its answer (2 s), then ends the session.
    await edge.stopSession(session.id);
    t.relay.blackholeToAgent = false;
    const end = await Promise.race([t.ended, sleep(10_000).then(() => undefined)]);
    expect(end).toMatchObject({ reason: 'stopped', detail: 'the edge refuses to resume this session' });
    expect(t.statuses).toEqual(['closed']);
    expect(t.live().endpoints).toEqual([]);
    expect(t.live().sessions).toEqual([]);
    await t.tunnel.close();
    await t.relay.down();
  }, 30_000);
});
