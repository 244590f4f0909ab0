// NgrokTunnelStarter with a session connected ahead (the start-up warm-up), against a fake SDK:
// start() binds on it only when the session parameters match, reports a failed connect ahead as
// its own, drops a session the edge touched before it was taken, passes later callbacks to the
// tunnel's watch, and release() closes a session nothing took.
import { describe, expect, it } from 'vitest';
import { NgrokTunnelStarter, type SessionParams } from '../../../src/tunnel/ngrok-tunnel-starter.js';
import { EdgeRefusal, type TunnelEnd, type TunnelRequest } from '../../../src/tunnel/tunnel-starter.js';

interface FakeSession {
  params: Record<string, string>;
  callbacks: { stop?: () => void; disconnection?: (addr: string, error: string) => boolean; heartbeat?: () => void };
  binds: Array<{ domain: string; metadata?: string; trafficPolicy: string; forwardTo: string }>;
  closed: number;
  close(): Promise<void>;
}

/** A fake @ngrok/ngrok: each connect() is a session, failing with `refuse` when set. */
function fakeSdk(opts: { refuse?: (params: Record<string, string>) => Error | undefined; gate?: Promise<void> } = {}) {
  const sessions: FakeSession[] = [];
  class SessionBuilder {
    params: Record<string, string> = {};
    callbacks: FakeSession['callbacks'] = {};
    caCert(pem: Buffer) {
      this.params.ca = pem.toString('utf8');
      return this;
    }
    rootCas(v: string) {
      this.params.ca = v;
      return this;
    }
    authtoken(v: string) {
      this.params.authtoken = v;
      return this;
    }
    serverAddr(v: string) {
      this.params.serverAddr = v;
      return this;
    }
    metadata(v: string) {
      this.params.metadata = v;
      return this;
    }
    handleStopCommand(cb: () => void) {
      this.callbacks.stop = cb;
      return this;
    }
    handleDisconnection(cb: (addr: string, error: string) => boolean) {
      this.callbacks.disconnection = cb;
      return this;
    }
    handleHeartbeat(cb: () => void) {
      this.callbacks.heartbeat = cb;
      return this;
    }
    async connect() {
      await opts.gate;
      const refusal = opts.refuse?.(this.params);
      if (refusal) throw refusal;
      const session: FakeSession = {
        params: this.params,
        callbacks: this.callbacks,
        binds: [],
        closed: 0,
        close: async () => void session.closed++,
        httpEndpoint: () => {
          const bind: FakeSession['binds'][number] = { domain: '', trafficPolicy: '', forwardTo: '' };
          const endpoint = {
            domain: (d: string) => ((bind.domain = d), endpoint),
            metadata: (m: string) => ((bind.metadata = m), endpoint),
            trafficPolicy: (p: string) => ((bind.trafficPolicy = p), endpoint),
            listenAndForward: async (to: string) => {
              bind.forwardTo = to;
              session.binds.push(bind);
              return { url: () => `https://${bind.domain}`, close: async () => undefined };
            },
          };
          return endpoint;
        },
      } as FakeSession;
      sessions.push(session);
      return session;
    }
  }
  return { sdk: { SessionBuilder } as never, sessions };
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const params: SessionParams = {
  serverAddr: '127.0.0.1:4443',
  rootCas: PEM,
  authtoken: 'tok_fake',
  sessionMetadata: '{"user":"dev@example.com","team":"demo","devtunnel":"0.1.0","policy_version":1}',
};

function request(overrides: Partial<TunnelRequest> = {}): TunnelRequest {
  return {
    ...params,
    domain: 'app.dev.devtunnel.localhost',
    upstream: 'localhost:3000',
    trafficPolicy: '{"on_http_request":[]}',
    endpointMetadata: '{"profile":"sso"}',
    ...overrides,
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('NgrokTunnelStarter: a session connected ahead', () => {
  it('binds on the session connected ahead when the session parameters match: one connect in all', async () => {
    const fake = fakeSdk();
    const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk });
    starter.connectAhead(params);
    const tunnel = await starter.start(request());
    expect(fake.sessions).toHaveLength(1);
    expect(fake.sessions[0]!.params).toMatchObject({
      authtoken: 'tok_fake',
      serverAddr: '127.0.0.1:4443',
      ca: PEM,
      metadata: params.sessionMetadata,
    });
    expect(fake.sessions[0]!.binds).toEqual([
      {
        domain: 'app.dev.devtunnel.localhost',
        metadata: '{"profile":"sso"}',
        trafficPolicy: '{"on_http_request":[]}',
        forwardTo: 'tcp://localhost:3000',
      },
    ]);
    expect(tunnel.url).toBe('https://app.dev.devtunnel.localhost');
    await starter.release(); // taken: nothing to close
    expect(fake.sessions[0]!.closed).toBe(0);
    await tunnel.close();
    expect(fake.sessions[0]!.closed).toBe(1);
  });

  it.each<[string, Partial<SessionParams>]>([
    ['authtoken', { authtoken: 'tok_other' }],
    ['ingress', { serverAddr: '127.0.0.1:9999' }],
    ['trust', { rootCas: 'trusted' }],
    ['session metadata', { sessionMetadata: '{"user":"someone-else"}' }],
  ])('connects anew when the %s differs, and closes the session connected ahead', async (_what, change) => {
    const fake = fakeSdk();
    const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk });
    starter.connectAhead(params);
    await starter.start(request(change));
    await turn();
    expect(fake.sessions).toHaveLength(2);
    expect(fake.sessions[0]!.closed).toBe(1);
    expect(fake.sessions[0]!.binds).toEqual([]);
    expect(fake.sessions[1]!.binds).toHaveLength(1);
    expect(fake.sessions[1]!.params).toMatchObject({
      authtoken: change.authtoken ?? params.authtoken,
      serverAddr: change.serverAddr ?? params.serverAddr,
    });
  });

  it('a refused connect ahead fails start() with the same edge refusal, token redacted, and no second attempt', async () => {
    let attempts = 0;
    const fake = fakeSdk({
      refuse: (p) => (attempts++, new Error(`authentication failed: The authtoken ${p.authtoken} is invalid.\n\nERR_NGROK_107`)),
    });
    const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk });
    starter.connectAhead(params);
    const error = await starter.start(request()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EdgeRefusal);
    expect(error).toMatchObject({ errorCode: 'ERR_NGROK_107' });
    expect((error as Error).message).not.toContain('tok_fake');
    expect(attempts).toBe(1);
  });

  it('a session the edge stopped or dropped before start() took it is closed, and start() connects anew', async () => {
    for (const touch of [
      (s: FakeSession) => s.callbacks.stop!(),
      (s: FakeSession) => void s.callbacks.disconnection!('127.0.0.1:4443', 'transport error'),
    ]) {
      const fake = fakeSdk();
      const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk });
      starter.connectAhead(params);
      await turn();
      touch(fake.sessions[0]!);
      await turn();
      await starter.start(request());
      await turn();
      expect(fake.sessions).toHaveLength(2);
      expect(fake.sessions[0]!.closed).toBe(1);
      expect(fake.sessions[1]!.binds).toHaveLength(1);
    }
  });

  it('heartbeats before start() do not spoil the session', async () => {
    const fake = fakeSdk();
    const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk });
    starter.connectAhead(params);
    await turn();
    fake.sessions[0]!.callbacks.heartbeat!();
    await turn();
    await starter.start(request());
    expect(fake.sessions).toHaveLength(1);
  });

  it("after start() took it, the session's callbacks reach the tunnel: a Stop with a refused probe ends it as revoked", async () => {
    const fake = fakeSdk({
      // The probe is a fresh Auth with its own metadata: refuse only that one.
      refuse: (p) => (p.metadata === '{"devtunnel_probe":true}' ? new Error('The authtoken was revoked. ERR_NGROK_107') : undefined),
    });
    const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk });
    starter.connectAhead(params);
    const ends: TunnelEnd[] = [];
    const statuses: string[] = [];
    await starter.start(request({ onEnded: (e) => ends.push(e), onStatusChange: (s) => statuses.push(s) }));
    const session = fake.sessions[0]!;
    session.callbacks.disconnection!('127.0.0.1:4443', 'transport error');
    await turn();
    session.callbacks.heartbeat!();
    // A heartbeat while down counts once no failed reconnect follows it (HEARTBEAT_SETTLE_MS).
    for (let i = 0; i < 100 && statuses.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(statuses).toEqual(['closed', 'connected']);
    session.callbacks.stop!();
    for (let i = 0; i < 5 && ends.length === 0; i++) await turn();
    expect(ends).toEqual([{ reason: 'revoked', errorCode: 'ERR_NGROK_107', detail: 'The authtoken was revoked. ERR_NGROK_107' }]);
  });

  it('release() closes a session nothing took, after its connect, and only once', async () => {
    let open: () => void = () => undefined;
    const fake = fakeSdk({ gate: new Promise<void>((resolve) => (open = resolve)) });
    const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk });
    starter.connectAhead(params);
    const released = starter.release();
    open();
    await released;
    await starter.release();
    expect(fake.sessions).toHaveLength(1);
    expect(fake.sessions[0]!.closed).toBe(1);
  });

  it('release() of a failed connect ahead neither throws nor leaves an unhandled rejection', async () => {
    const fake = fakeSdk({ refuse: () => new Error('connection refused') });
    const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk });
    starter.connectAhead(params);
    await turn();
    await expect(starter.release()).resolves.toBeUndefined();
  });

  it('without a session connected ahead, start() connects as before', async () => {
    const fake = fakeSdk();
    const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk });
    await starter.start(request({ endpointMetadata: undefined }));
    expect(fake.sessions).toHaveLength(1);
    expect(fake.sessions[0]!.binds[0]!.metadata).toBeUndefined();
  });
});
