// NgrokTunnelStarter (the real SDK) against the sandbox edge: the edge's Stop command and a
// reconnect refused because the credential is gone both end the tunnel through onEnded, once,
// instead of the SDK reconnecting forever.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialRegistry } from '../../src/sandbox/credentials.js';
import { SandboxEdge } from '../../src/sandbox/edge.js';
import { NgrokTunnelStarter, forwardUrl } from '../../src/tunnel/ngrok-tunnel-starter.js';
import type { TunnelEnd } from '../../src/tunnel/tunnel-starter.js';
import { startSampleApp, type SampleApp } from '../support/sample-app.js';
import { publicRequest } from '../support/public-request.js';

const DOMAIN = 'revoke.localhost';
let edge: SandboxEdge;
let credentials: CredentialRegistry;
let app: SampleApp;
const starter = new NgrokTunnelStarter();

beforeAll(async () => {
  credentials = new CredentialRegistry();
  // Deleting a credential does NOT stop its sessions here: the reconnect-refused path is tested on its own.
  edge = await SandboxEdge.start({ stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-rev-')), domain: DOMAIN, credentials, stopSessionsOnCredentialDelete: false });
  app = await startSampleApp();
});
afterAll(async () => {
  await app?.close();
  await edge?.close();
});

/** Starts a tunnel; with `ahead`, on a fresh starter whose session was connected before the request (the start-up warm-up). */
async function startTunnel(label: string, opts: { ahead?: boolean } = {}) {
  const credential = credentials.create({ acl: [`bind:*.${label}.${DOMAIN}`] });
  const statuses: string[] = [];
  const ends: TunnelEnd[] = [];
  let resolveEnd: (e: TunnelEnd) => void = () => undefined;
  const ended = new Promise<TunnelEnd>((r) => (resolveEnd = r));
  const session = {
    serverAddr: edge.agentAddr,
    rootCas: readFileSync(edge.caPath, 'utf8'),
    authtoken: credential.token,
    sessionMetadata: JSON.stringify({ user: label }),
  };
  let use = starter;
  if (opts.ahead) {
    use = new NgrokTunnelStarter();
    use.connectAhead(session);
    // Let the session come up before the request is known, as while oclif loads.
    await new Promise((r) => setTimeout(r, 300));
  }
  const tunnel = await use.start({
    ...session,
    domain: `app.${label}.${DOMAIN}`,
    upstream: `127.0.0.1:${app.port}`,
    trafficPolicy: '',
    onStatusChange: (s) => statuses.push(s),
    onEnded: (e) => {
      ends.push(e);
      resolveEnd(e);
    },
  });
  return { credential, tunnel, statuses, ends, ended };
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms))]);

describe('NgrokTunnelStarter and the end of a session', () => {
  it('forwards, and reports Stop with a still-valid token as "stopped"', async () => {
    const t = await startTunnel('stopme');
    const res = await publicRequest({ url: t.tunnel.url, path: '/teapot', caPath: edge.caPath });
    expect(res.status).toBe(418);
    const session = edge.sessions().find((s) => s.credentialId === t.credential.id)!;
    await edge.stopSession(session.id);
    const end = await within(t.ended, 5_000);
    expect(end).toMatchObject({ reason: 'stopped' });
    await new Promise((r) => setTimeout(r, 300));
    expect(t.ends).toHaveLength(1);
    await t.tunnel.close();
  }, 20_000);

  it('reports Stop after the credential was deleted as "revoked" (ERR_NGROK_107)', async () => {
    const t = await startTunnel('revokeme');
    credentials.delete(t.credential.id);
    await edge.stopSessionsOf(t.credential.id);
    const end = await within(t.ended, 5_000);
    expect(end).toMatchObject({ reason: 'revoked', errorCode: 'ERR_NGROK_107' });
    expect(end.detail ?? '').not.toContain(t.credential.token);
    await t.tunnel.close();
  }, 20_000);

  it('ends as "revoked" when a reconnect is refused because the credential is gone (no Stop sent)', async () => {
    const t = await startTunnel('gone');
    credentials.delete(t.credential.id);
    edge.goAwayAll();
    const end = await within(t.ended, 8_000);
    expect(end).toMatchObject({ reason: 'revoked', errorCode: 'ERR_NGROK_107' });
    expect(t.statuses[0]).toBe('closed');
    const started = Date.now();
    await t.tunnel.close();
    expect(Date.now() - started).toBeLessThan(4_000);
  }, 20_000);

  it('a GOAWAY with a valid credential is only a reconnect', async () => {
    const t = await startTunnel('blip');
    edge.goAwayAll();
    const deadline = Date.now() + 8_000;
    while (!t.statuses.includes('connected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(t.statuses).toEqual(['closed', 'connected']);
    expect(t.ends).toEqual([]);
    const res = await publicRequest({ url: t.tunnel.url, path: '/teapot', caPath: edge.caPath });
    expect(res.status).toBe(418);
    await t.tunnel.close();
  }, 20_000);

  it('a session connected ahead is the one the tunnel uses, and its Stop still ends the tunnel as "revoked"', async () => {
    const t = await startTunnel('ahead', { ahead: true });
    expect(edge.sessions().filter((s) => s.credentialId === t.credential.id)).toHaveLength(1);
    const res = await publicRequest({ url: t.tunnel.url, path: '/teapot', caPath: edge.caPath });
    expect(res.status).toBe(418);
    credentials.delete(t.credential.id);
    await edge.stopSessionsOf(t.credential.id);
    const end = await within(t.ended, 5_000);
    expect(end).toMatchObject({ reason: 'revoked', errorCode: 'ERR_NGROK_107' });
    await t.tunnel.close();
  }, 20_000);

  it('maps upstreams the way forward() did', () => {
    expect(forwardUrl('localhost:3000')).toBe('tcp://localhost:3000');
    expect(forwardUrl('[::1]:3000')).toBe('tcp://[::1]:3000');
    expect(forwardUrl('3000')).toBe('tcp://localhost:3000');
    expect(forwardUrl('https://localhost:8443')).toBe('https://localhost:8443');
  });
});
