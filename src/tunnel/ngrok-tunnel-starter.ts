import { createRequire } from 'node:module';
import { EdgeRefusal, type Tunnel, type TunnelEnd, type TunnelRequest, type TunnelStarter } from './tunnel-starter.js';

type NgrokModule = typeof import('@ngrok/ngrok');
type NgrokSession = Awaited<ReturnType<InstanceType<NgrokModule['SessionBuilder']>['connect']>>;
type SessionBuilder = InstanceType<NgrokModule['SessionBuilder']>;

/** How long a revocation probe (a fresh Auth with the same token) may take. */
const PROBE_TIMEOUT_MS = 5_000;
/** Failed reconnects while a probe proves the edge reachable and the token valid, before giving up. */
const REFUSALS_BEFORE_STOPPED = 2;
/** Longest wait for each of Unbind and session close when closing a tunnel. */
const CLOSE_STEP_MS = 3_000;

/** Waits for `promise` (ignoring its failure) at most `ms`. */
function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer));
}

/** What a session is made of; a session connected ahead serves a request only when all of it is equal. */
export type SessionParams = Pick<TunnelRequest, 'serverAddr' | 'rootCas' | 'authtoken' | 'sessionMetadata'>;

/** A session connected before its tunnel request was known (the start-up warm-up, src/tunnel/warmup.ts). */
interface AheadSession {
  params: SessionParams;
  relay: SessionEvents;
  session: Promise<NgrokSession>;
}

export interface NgrokTunnelStarterOptions {
  /** Loads the SDK; tests pass fakes. Default: require('@ngrok/ngrok'). */
  loadSdk?: () => NgrokModule;
}

/**
 * Maps a TunnelRequest onto `@ngrok/ngrok`: one `SessionBuilder` session per tunnel and one HTTP
 * listener on it. Only `traffic_policy` carries edge rules (never the legacy module options), so
 * the edge sees exactly the compiled profile. The SDK is loaded once, on first use: it is a
 * native module and slow to load. This is the only module that touches the SDK.
 *
 * Why SessionBuilder and not `forward()` (docs/revocation.md): `forward()` answers the edge's Stop
 * command with "not supported" and then reconnects forever, even when every reconnect is refused;
 * its status callback only says 'closed'. A session built here registers `handleStopCommand`, so
 * Stop reaches us, and `handleDisconnection`, so each failed reconnect does; a probe (a fresh Auth
 * with the same token) then tells a revoked credential from a network problem.
 *
 * `connectAhead()` lets start-up connect the session while the CLI framework is still loading
 * (docs/decisions.md); `start()` then only binds the endpoint on it, when the session parameters match.
 */
export class NgrokTunnelStarter implements TunnelStarter {
  private sdk: Promise<NgrokModule> | undefined;
  private ahead: AheadSession | undefined;
  private readonly loadSdk: () => NgrokModule;

  constructor(options: NgrokTunnelStarterOptions = {}) {
    // require(), not import(): the SDK is CommonJS, and import() would first run Node's CJS export
    // lexer over its 22 kB loader (slow, and it gets TurboFan-compiled: time and peak memory).
    this.loadSdk = options.loadSdk ?? (() => createRequire(import.meta.url)('@ngrok/ngrok') as NgrokModule);
  }

  /** Starts loading the native SDK now, so it overlaps with keychain and policy work. */
  preload(): void {
    this.sdk ??= Promise.resolve().then(() => this.loadSdk());
  }

  /**
   * Connects a session now, for a `start()` to come. Silent: a failure only surfaces if a request
   * with the same session parameters then uses it (as the error its own connect would have had).
   * Until `start()` takes it, a Stop or a disconnection marks it unusable, and `start()` connects anew.
   */
  connectAhead(params: SessionParams): void {
    if (this.ahead) return;
    this.preload();
    const relay = new SessionEvents();
    const session = this.sdk!.then((ngrok) => this.builder(ngrok, params, relay).connect());
    session.catch(() => undefined);
    this.ahead = { params: { ...params }, relay, session };
  }

  /** Closes a session connected ahead that no `start()` took. Safe to call at any time; never throws. */
  async release(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (ahead) await closeAhead(ahead);
  }

  async start(request: TunnelRequest): Promise<Tunnel> {
    this.preload();
    const ngrok = await this.sdk!;
    const watch = new SessionWatch(request, () => this.probe(ngrok, request));
    let session = await this.takeAhead(request, watch);
    if (!session) {
      const relay = new SessionEvents();
      relay.attach(watch);
      try {
        session = await this.builder(ngrok, request, relay).connect();
      } catch (error) {
        throw toEdgeRefusal(error, request.authtoken);
      }
    }
    let listener: Awaited<ReturnType<ReturnType<NgrokSession['httpEndpoint']>['listenAndForward']>>;
    try {
      let endpoint = session.httpEndpoint().domain(request.domain);
      if (request.endpointMetadata !== undefined) endpoint = endpoint.metadata(request.endpointMetadata);
      listener = await endpoint.trafficPolicy(request.trafficPolicy).listenAndForward(forwardUrl(request.upstream));
    } catch (error) {
      watch.end();
      await session.close().catch(() => undefined);
      throw toEdgeRefusal(error, request.authtoken);
    }
    const url = listener.url() ?? `https://${request.domain}`;
    let closing: Promise<void> | undefined;
    const live = session;
    return {
      url,
      close: () => {
        // Unbind is an RPC: on a session that is down (stopped, revoked, reconnecting) the SDK would
        // wait for a reconnect that may never come, so skip it then and bound every step.
        const connected = watch.isConnected;
        watch.end();
        closing ??= (connected ? bounded(listener.close(), CLOSE_STEP_MS) : Promise.resolve()).then(() => bounded(live.close(), CLOSE_STEP_MS));
        return closing;
      },
    };
  }

  /**
   * The session connected ahead, when it was made for exactly this request's session parameters and
   * is still untouched; its events then go to `watch`. A failed connect ahead fails the request the
   * same way (its parameters are the request's). Anything else is closed, and undefined returned.
   */
  private async takeAhead(request: TunnelRequest, watch: SessionWatch): Promise<NgrokSession | undefined> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (!ahead) return undefined;
    if (!sameSession(ahead.params, request)) {
      void closeAhead(ahead);
      return undefined;
    }
    let session: NgrokSession;
    try {
      session = await ahead.session;
    } catch (error) {
      throw toEdgeRefusal(error, request.authtoken);
    }
    // Checked and attached in the same turn: the SDK's callbacks arrive through setImmediate.
    if (ahead.relay.spoiled) {
      void bounded(session.close(), CLOSE_STEP_MS);
      return undefined;
    }
    ahead.relay.attach(watch);
    return session;
  }

  private builder(ngrok: NgrokModule, params: SessionParams, relay: SessionEvents): SessionBuilder {
    return (
      withTrust(new ngrok.SessionBuilder(), params.rootCas)
        .authtoken(params.authtoken)
        .serverAddr(params.serverAddr)
        .metadata(params.sessionMetadata)
        // Do not block in these callbacks (the SDK waits for them to answer the edge).
        .handleStopCommand(() => void setImmediate(() => relay.stop()))
        .handleDisconnection((_addr: string, error: string) => {
          setImmediate(() => relay.disconnected(error));
          return true;
        })
        .handleHeartbeat(() => void setImmediate(() => relay.heartbeat()))
    );
  }

  /**
   * A fresh Auth with the same token and ingress: 'refused' (with the edge's code) when the edge no
   * longer accepts the token, 'ok' when it does, 'unknown' when the edge cannot be reached.
   */
  private async probe(ngrok: NgrokModule, request: TunnelRequest): Promise<ProbeResult> {
    const attempt = withTrust(new ngrok.SessionBuilder(), request.rootCas)
      .authtoken(request.authtoken)
      .serverAddr(request.serverAddr)
      .metadata(JSON.stringify({ devtunnel_probe: true }))
      .connect()
      .then(
        async (session): Promise<ProbeResult> => {
          await session.close().catch(() => undefined);
          return { outcome: 'ok' };
        },
        (error: unknown): ProbeResult => {
          const code = errorCodeOf(error);
          if (code === undefined) return { outcome: 'unknown' };
          return { outcome: 'refused', errorCode: code, detail: cleanMessage(error, request.authtoken) };
        },
      );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ProbeResult>((resolve) => {
      timer = setTimeout(() => resolve({ outcome: 'unknown' }), PROBE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

type ProbeResult = { outcome: 'ok' | 'unknown' } | { outcome: 'refused'; errorCode: string; detail: string };

function sameSession(a: SessionParams, b: SessionParams): boolean {
  return a.serverAddr === b.serverAddr && a.rootCas === b.rootCas && a.authtoken === b.authtoken && a.sessionMetadata === b.sessionMetadata;
}

/** Closes a session connected ahead (waiting for its connect first), bounded; never throws. */
function closeAhead(ahead: AheadSession): Promise<void> {
  return bounded(
    ahead.session.then((session) => session.close()),
    CLOSE_STEP_MS,
  );
}

/**
 * The SDK's session callbacks, registered when the session is built, passed on to the SessionWatch
 * of the tunnel that uses the session. Before one is attached (a session connected ahead), a Stop or
 * a disconnection makes the session unusable; heartbeats mean nothing yet.
 */
class SessionEvents {
  private watch: SessionWatch | undefined;
  private touched = false;

  /** The edge stopped or dropped the session before a tunnel took it. */
  get spoiled(): boolean {
    return this.touched;
  }

  attach(watch: SessionWatch): void {
    this.watch = watch;
  }

  stop(): void {
    if (this.watch) this.watch.onStop();
    else this.touched = true;
  }

  disconnected(error: string): void {
    if (this.watch) this.watch.onDisconnection(error);
    else this.touched = true;
  }

  heartbeat(): void {
    this.watch?.onHeartbeat();
  }
}

/**
 * Follows one session's life from the SDK's callbacks and decides when the edge has ended it
 * for good. Reports 'closed'/'connected' like forward()'s onStatusChange did.
 */
class SessionWatch {
  private connected = true;
  private ended = false;
  private probing = false;
  private refusalsWhileReachable = 0;

  constructor(
    private readonly request: TunnelRequest,
    private readonly probe: () => Promise<ProbeResult>,
  ) {}

  /** True while the session is up (false from a disconnection until the next heartbeat). */
  get isConnected(): boolean {
    return this.connected && !this.ended;
  }

  /** No more reports (the tunnel is being closed by us). */
  end(): void {
    this.ended = true;
  }

  onHeartbeat(): void {
    if (this.ended || this.connected) return;
    this.connected = true;
    this.refusalsWhileReachable = 0;
    this.request.onStatusChange?.('connected');
  }

  onDisconnection(_error: string): void {
    if (this.ended) return;
    if (this.connected) {
      // The session dropped; the SDK reconnects at once. Nothing to judge yet.
      this.connected = false;
      this.request.onStatusChange?.('closed');
      return;
    }
    // A reconnect attempt failed: find out whether the edge refuses us or is just unreachable.
    void this.judge(false);
  }

  onStop(): void {
    if (this.ended) return;
    void this.judge(true);
  }

  private async judge(stopCommand: boolean): Promise<void> {
    if (this.probing && !stopCommand) return;
    this.probing = true;
    try {
      const result = await this.probe();
      if (this.ended) return;
      if (result.outcome === 'refused') return this.finish({ reason: 'revoked', errorCode: result.errorCode, detail: result.detail });
      if (stopCommand) return this.finish({ reason: 'stopped' });
      if (result.outcome === 'ok' && !this.connected && ++this.refusalsWhileReachable >= REFUSALS_BEFORE_STOPPED) {
        return this.finish({ reason: 'stopped', detail: 'the edge refuses to resume this session' });
      }
    } finally {
      this.probing = false;
    }
  }

  private finish(end: TunnelEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.request.onEnded?.(end);
  }
}

function withTrust(builder: SessionBuilder, rootCas: string): SessionBuilder {
  const trust = trustOptions(rootCas);
  if (trust.session_ca_cert !== undefined) return builder.caCert(Buffer.from(trust.session_ca_cert, 'utf8'));
  return builder.rootCas(trust.root_cas ?? 'trusted');
}

/**
 * The SDK takes a CA bundle as a file path (`root_cas`) or as PEM text (`session_ca_cert`).
 * PEM text goes in memory, so no CA file has to be written for a custom ingress.
 */
export function trustOptions(rootCas: string): { root_cas?: string; session_ca_cert?: string } {
  if (rootCas === 'trusted' || rootCas === 'host') return { root_cas: rootCas };
  if (rootCas.includes('-----BEGIN CERTIFICATE-----')) return { session_ca_cert: rootCas };
  return { root_cas: rootCas };
}

/** `forward()`'s addr rules: a URL is used as is, `host:port` (or a port) becomes a raw TCP target. */
export function forwardUrl(upstream: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(upstream)) return upstream;
  if (/^\d+$/.test(upstream)) return `tcp://localhost:${upstream}`;
  return `tcp://${upstream}`;
}

function errorCodeOf(error: unknown): string | undefined {
  const explicit = (error as { errorCode?: unknown } | null)?.errorCode;
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  const message = error instanceof Error ? error.message : String(error);
  return /ERR_NGROK_\d+/.exec(message)?.[0];
}

function cleanMessage(error: unknown, authtoken: string): string {
  const text = error instanceof Error ? error.message : String(error);
  // The SDK prefixes its own context; keep the edge's words, drop the duplicated code suffix.
  return text
    .split(authtoken)
    .join('[redacted]')
    .replace(/\s*error_code: ERR_NGROK_\d+\s*$/, '')
    .trim();
}

function toEdgeRefusal(error: unknown, authtoken: string): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  return new EdgeRefusal(cleanMessage(error, authtoken), errorCodeOf(error));
}
