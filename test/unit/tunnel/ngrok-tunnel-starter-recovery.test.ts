// NgrokTunnelStarter bringing a dropped tunnel back itself, against a fake SDK: while the session is
// down the edge is probed; once it is reachable (and the SDK has not resumed) a new session binds the
// same endpoint and the old one is closed — unless a Stop arrived or a failed reconnect coincided
// with a reachable edge (the edge refusing to resume: "stopped"), or the credential is gone ("revoked").
import { describe, expect, it } from 'vitest';
import { NgrokTunnelStarter } from '../../../src/tunnel/ngrok-tunnel-starter.js';
import type { TunnelEnd, TunnelRequest } from '../../../src/tunnel/tunnel-starter.js';

interface Bind {
  domain: string;
  metadata?: string;
  trafficPolicy: string;
  forwardTo: string;
  unbinds: number;
}

interface FakeSession {
  callbacks: { stop?: () => void; disconnection?: (addr: string, error: string) => boolean; heartbeat?: () => void };
  binds: Bind[];
  closed: number;
}

const PROBE_METADATA = '{"devtunnel_probe":true}';

/** A fake @ngrok/ngrok whose probe outcome, connects and binds the test controls. */
function fakeSdk() {
  const control = {
    probe: 'unknown' as 'ok' | 'unknown' | 'refused',
    probes: 0,
    /** Non-probe connects wait for this when set. */
    gate: undefined as Promise<void> | undefined,
    /** The next binds fail with these errors. */
    bindErrors: [] as Error[],
  };
  const sessions: FakeSession[] = [];
  class SessionBuilder {
    params: Record<string, string> = {};
    callbacks: FakeSession['callbacks'] = {};
    caCert = () => this;
    rootCas = () => this;
    authtoken = () => this;
    serverAddr = () => this;
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
      if (this.params.metadata === PROBE_METADATA) {
        control.probes++;
        if (control.probe === 'unknown') throw new Error('failed to connect session: connection refused');
        if (control.probe === 'refused') throw new Error('authentication failed: The authtoken was revoked.\n\nERR_NGROK_107');
        return { close: async () => undefined };
      }
      await control.gate;
      const session = {
        callbacks: this.callbacks,
        binds: [] as Bind[],
        closed: 0,
        close: async () => void session.closed++,
        httpEndpoint: () => {
          const bind: Bind = { domain: '', trafficPolicy: '', forwardTo: '', unbinds: 0 };
          const endpoint = {
            domain: (d: string) => ((bind.domain = d), endpoint),
            metadata: (m: string) => ((bind.metadata = m), endpoint),
            trafficPolicy: (p: string) => ((bind.trafficPolicy = p), endpoint),
            listenAndForward: async (to: string) => {
              const error = control.bindErrors.shift();
              if (error) throw error;
              bind.forwardTo = to;
              session.binds.push(bind);
              return { url: () => `https://${bind.domain}`, close: async () => void bind.unbinds++ };
            },
          };
          return endpoint;
        },
      };
      sessions.push(session);
      return session;
    }
  }
  return { sdk: { SessionBuilder } as never, sessions, control };
}

async function startTunnel() {
  const fake = fakeSdk();
  const starter = new NgrokTunnelStarter({ loadSdk: () => fake.sdk, recovery: { probeEveryMs: 10, graceMs: 10, settleMs: 5 } });
  const statuses: string[] = [];
  const ends: TunnelEnd[] = [];
  const request: TunnelRequest = {
    serverAddr: '127.0.0.1:4443',
    rootCas: 'trusted',
    authtoken: 'tok_fake',
    sessionMetadata: '{"user":"dev@example.com"}',
    domain: 'app.dev.devtunnel.localhost',
    upstream: 'localhost:3000',
    trafficPolicy: '{"on_http_request":[]}',
    endpointMetadata: '{"profile":"sso"}',
    onStatusChange: (s) => statuses.push(s),
    onEnded: (e) => ends.push(e),
  };
  const tunnel = await starter.start(request);
  return { ...fake, tunnel, statuses, ends };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => boolean, ms = 1_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}
const drop = (s: FakeSession, error = 'transport error') => void s.callbacks.disconnection!('127.0.0.1:4443', error);

describe('NgrokTunnelStarter: bringing a dropped session back', () => {
  it('once the edge is reachable again, binds the same endpoint on a new session and closes the old one', async () => {
    const t = await startTunnel();
    const [old] = t.sessions;
    drop(old!);
    drop(old!, 'reconnect error'); // the network is down: its probe finds no edge
    await until(() => t.control.probes >= 3);
    expect(t.sessions).toHaveLength(1);
    expect(t.statuses).toEqual(['closed']);

    t.control.probe = 'ok';
    await until(() => t.statuses.length === 2);
    expect(t.statuses).toEqual(['closed', 'connected']);
    expect(t.sessions).toHaveLength(2);
    expect(t.sessions[1]!.binds).toEqual([
      { domain: 'app.dev.devtunnel.localhost', metadata: '{"profile":"sso"}', trafficPolicy: '{"on_http_request":[]}', forwardTo: 'tcp://localhost:3000', unbinds: 0 },
    ]);
    await until(() => old!.closed === 1);
    expect(old!.binds[0]!.unbinds).toBe(0); // no Unbind on a session that is down
    expect(t.ends).toEqual([]);

    await t.tunnel.close();
    expect(t.sessions[1]!.binds[0]!.unbinds).toBe(1);
    expect(t.sessions[1]!.closed).toBe(1);
    expect(old!.closed).toBe(1);
  });

  it("the new session's callbacks drive the tunnel from then on; the old one's are ignored", async () => {
    const t = await startTunnel();
    t.control.probe = 'ok';
    drop(t.sessions[0]!);
    await until(() => t.statuses.length === 2);
    t.control.probe = 'unknown';
    t.sessions[0]!.callbacks.heartbeat!();
    drop(t.sessions[0]!);
    await sleep(30);
    expect(t.statuses).toEqual(['closed', 'connected']);
    drop(t.sessions[1]!);
    await sleep(5);
    expect(t.statuses).toEqual(['closed', 'connected', 'closed']);
    t.sessions[1]!.callbacks.heartbeat!();
    await until(() => t.statuses.length === 4);
    expect(t.statuses).toEqual(['closed', 'connected', 'closed', 'connected']);
    await t.tunnel.close();
  });

  it('does not replace a session whose failed reconnect coincided with a reachable edge; a second one ends it as stopped', async () => {
    const t = await startTunnel();
    t.control.probe = 'ok';
    drop(t.sessions[0]!);
    drop(t.sessions[0]!, 'reconnect error'); // refused although the edge takes the token: ERR_NGROK_9041
    await sleep(60);
    expect(t.sessions).toHaveLength(1);
    drop(t.sessions[0]!, 'reconnect error');
    await until(() => t.ends.length === 1);
    expect(t.ends).toEqual([{ reason: 'stopped', detail: 'the edge refuses to resume this session' }]);
    expect(t.sessions).toHaveLength(1);
    await t.tunnel.close();
  });

  it('a heartbeat of a reconnect attempt the edge then refuses is not "connected", and the refusal counts', async () => {
    const t = await startTunnel();
    t.control.probe = 'ok';
    drop(t.sessions[0]!);
    await sleep(2);
    t.sessions[0]!.callbacks.heartbeat!(); // the attempt's first ping was answered…
    drop(t.sessions[0]!, 'reconnect error'); // …and its Auth refused (ERR_NGROK_9041)
    await sleep(60);
    expect(t.statuses).toEqual(['closed']);
    expect(t.sessions).toHaveLength(1);
    t.sessions[0]!.callbacks.heartbeat!(); // the same, in the other order
    drop(t.sessions[0]!, 'reconnect error');
    await until(() => t.ends.length === 1);
    expect(t.ends).toEqual([{ reason: 'stopped', detail: 'the edge refuses to resume this session' }]);
    expect(t.statuses).toEqual(['closed']);
    expect(t.sessions).toHaveLength(1);
  });

  it('never replaces a session after a Stop: it ends as stopped', async () => {
    const t = await startTunnel();
    t.control.probe = 'ok';
    t.sessions[0]!.callbacks.stop!();
    drop(t.sessions[0]!);
    await until(() => t.ends.length === 1);
    await sleep(60);
    expect(t.ends).toEqual([{ reason: 'stopped' }]);
    expect(t.sessions).toHaveLength(1);
    await t.tunnel.close();
    expect(t.sessions[0]!.binds[0]!.unbinds).toBe(0);
  });

  it('ends as revoked when a probe while down is refused, without replacing', async () => {
    const t = await startTunnel();
    drop(t.sessions[0]!);
    t.control.probe = 'refused';
    await until(() => t.ends.length === 1);
    expect(t.ends[0]).toMatchObject({ reason: 'revoked', errorCode: 'ERR_NGROK_107' });
    expect(t.sessions).toHaveLength(1);
    await t.tunnel.close();
  });

  it('leaves the session alone when the SDK resumes it by itself', async () => {
    const t = await startTunnel();
    drop(t.sessions[0]!);
    await sleep(5);
    t.sessions[0]!.callbacks.heartbeat!();
    await until(() => t.statuses.length === 2);
    t.control.probe = 'ok';
    await sleep(60);
    expect(t.statuses).toEqual(['closed', 'connected']);
    expect(t.sessions).toHaveLength(1);
    await t.tunnel.close();
    expect(t.sessions[0]!.binds[0]!.unbinds).toBe(1);
  });

  it('keeps the old session when the new bind fails (e.g. host still held), and tries again later', async () => {
    const t = await startTunnel();
    t.control.bindErrors.push(new Error('The domain is already bound by another live endpoint.\n\nERR_NGROK_334'));
    t.control.probe = 'ok';
    drop(t.sessions[0]!);
    await until(() => t.statuses.length === 2);
    expect(t.sessions).toHaveLength(3);
    expect(t.sessions[1]!.closed).toBe(1);
    expect(t.sessions[1]!.binds).toEqual([]);
    expect(t.sessions[2]!.binds).toHaveLength(1);
    await until(() => t.sessions[0]!.closed === 1);
    await t.tunnel.close();
    expect(t.sessions[2]!.closed).toBe(1);
  });

  it('close() during a replacement closes the new session too, and the old one', async () => {
    const t = await startTunnel();
    let open: () => void = () => undefined;
    t.control.gate = new Promise<void>((resolve) => (open = resolve));
    t.control.probe = 'ok';
    drop(t.sessions[0]!);
    await until(() => t.control.probes >= 1);
    await sleep(30); // the replacement's connect is waiting at the gate
    const closed = t.tunnel.close();
    open();
    await closed;
    await sleep(10);
    expect(t.statuses).toEqual(['closed']);
    expect(t.sessions[0]!.closed).toBe(1);
    expect(t.sessions).toHaveLength(2);
    expect(t.sessions[1]!.closed).toBe(1);
    expect(t.sessions[1]!.binds).toEqual([]); // closed before anything was bound on it
  });
});
