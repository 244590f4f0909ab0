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
/** While a session is down, how often the edge is probed to learn that the network is back. */
const RECOVERY_PROBE_MS = 1_500;
/** After a probe found the edge reachable, how long the SDK may take to resume before we replace its session. */
const RECOVERY_GRACE_MS = 1_000;
/**
 * A heartbeat while down means "back" only if no failed reconnect comes within this long of it: the
 * SDK also reports the first heartbeat of a reconnect attempt whose Auth the edge then refuses.
 */
const HEARTBEAT_SETTLE_MS = 300;
/**
 * A heartbeat this soon after a failed reconnect is taken to belong to that attempt. Under CPU load
 * the failed attempt's heartbeat was seen up to ~50 ms after its failure (40 ms was too tight: the
 * refusal then went unjudged and a stopped session waited ~125 s for the SDK's next retry). The
 * cost of a longer window: if the SDK's very next retry (50 ms later) succeeds, "connected" is
 * reported at the following heartbeat (≤10 s) instead — and no session is replaced meanwhile,
 * because the failure with a reachable edge already rules replacement out.
 */
const HEARTBEAT_OF_FAILED_ATTEMPT_MS = 250;
/** Longest wait between recovery probes after failed replacements (the wait doubles each time). */
const RECOVERY_BACKOFF_MAX_MS = 30_000;

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

/** When a dropped session is replaced by a new one (docs/revocation.md, "Coming back quickly"). */
export interface RecoveryTiming {
  /** Probe the edge this often while the session is down. Default 1500 ms. */
  probeEveryMs: number;
  /** Once the edge is reachable, give the SDK this long to resume on its own. Default 1000 ms. */
  graceMs: number;
  /** A heartbeat while down counts once no failed reconnect came this long around it. Default 300 ms. */
  settleMs: number;
}

export interface NgrokTunnelStarterOptions {
  /** Loads the SDK; tests pass fakes. Default: require('@ngrok/ngrok'). */
  loadSdk?: () => NgrokModule;
  /** Tests shorten these. */
  recovery?: Partial<RecoveryTiming>;
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
  private readonly recovery: RecoveryTiming;

  constructor(options: NgrokTunnelStarterOptions = {}) {
    this.recovery = { probeEveryMs: RECOVERY_PROBE_MS, graceMs: RECOVERY_GRACE_MS, settleMs: HEARTBEAT_SETTLE_MS, ...options.recovery };
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
    // The session and endpoint that serve the tunnel now; a replacement (see replace()) swaps them.
    let live: LiveSession | undefined;
    const watch = new SessionWatch(request, () => this.probe(ngrok, request), {
      timing: this.recovery,
      replace: () => (live ? replace(live) : Promise.resolve('aborted')),
    });
    let first = await this.takeAhead(request, watch);
    if (!first) {
      const relay = new SessionEvents();
      relay.attach(watch);
      try {
        first = { session: await this.builder(ngrok, request, relay).connect(), relay };
      } catch (error) {
        throw toEdgeRefusal(error, request.authtoken);
      }
    }
    let firstListener: Listener;
    try {
      firstListener = await bindEndpoint(first.session, request);
    } catch (error) {
      watch.end();
      await first.session.close().catch(() => undefined);
      throw toEdgeRefusal(error, request.authtoken);
    }
    live = { ...first, listener: firstListener };
    const url = firstListener.url() ?? `https://${request.domain}`;

    /**
     * Replaces a dropped session whose SDK reconnect loop is waiting (up to minutes) although the
     * edge is reachable again: connects a new session with the same options and callbacks, binds
     * the same endpoint on it, and closes the old one so its reconnect loop stops. The old session's
     * events are ignored from the moment the new bind starts; if that bind fails, the old session
     * stays (and a heartbeat it had meanwhile still counts).
     */
    const replace = async (old: LiveSession): Promise<ReplaceOutcome> => {
      const relay = new SessionEvents();
      let session: NgrokSession;
      try {
        session = await this.builder(ngrok, request, relay).connect();
      } catch {
        return 'failed';
      }
      if (!watch.mayReplace) {
        void bounded(session.close(), CLOSE_STEP_MS);
        return 'aborted';
      }
      old.relay.detach();
      let listener: Listener;
      try {
        listener = await bindEndpoint(session, request);
      } catch {
        void bounded(session.close(), CLOSE_STEP_MS);
        old.relay.attach(watch, 'heartbeat');
        return 'failed';
      }
      if (watch.isEnded) {
        // close() began meanwhile and closes the old session: this one is ours to close.
        void bounded(listener.close(), CLOSE_STEP_MS).then(() => bounded(session.close(), CLOSE_STEP_MS));
        return 'aborted';
      }
      live = { session, relay, listener };
      watch.onReplaced();
      relay.attach(watch, 'all');
      // The old session is down: no Unbind (it would wait for a reconnect), just end its loop.
      void bounded(old.session.close(), CLOSE_STEP_MS);
      return 'replaced';
    };

    let closing: Promise<void> | undefined;
    return {
      url,
      close: () => {
        closing ??= (async () => {
          // Unbind is an RPC: on a session that is down (stopped, revoked, reconnecting) the SDK would
          // wait for a reconnect that may never come, so skip it then and bound every step.
          watch.end();
          // A replacement in flight either finished (then `live` is the new session) or closes its own.
          await bounded(watch.settled(), CLOSE_STEP_MS);
          const { session, listener } = live!;
          if (watch.wasConnected) await bounded(listener.close(), CLOSE_STEP_MS);
          await bounded(session.close(), CLOSE_STEP_MS);
        })();
        return closing;
      },
    };
  }

  /**
   * The session connected ahead, when it was made for exactly this request's session parameters and
   * is still untouched; its events then go to `watch`. A failed connect ahead fails the request the
   * same way (its parameters are the request's). Anything else is closed, and undefined returned.
   */
  private async takeAhead(request: TunnelRequest, watch: SessionWatch): Promise<{ session: NgrokSession; relay: SessionEvents } | undefined> {
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
    return { session, relay: ahead.relay };
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

type Listener = Awaited<ReturnType<ReturnType<NgrokSession['httpEndpoint']>['listenAndForward']>>;

/** The session serving a tunnel, its events and its endpoint. */
interface LiveSession {
  session: NgrokSession;
  relay: SessionEvents;
  listener: Listener;
}

/** `replaced`: a new session serves the endpoint; `aborted`: no longer wanted; `failed`: try again later. */
type ReplaceOutcome = 'replaced' | 'aborted' | 'failed';

/** Binds the tunnel's endpoint (domain, endpoint metadata, Traffic Policy, forward target) on a session. */
async function bindEndpoint(session: NgrokSession, request: TunnelRequest): Promise<Listener> {
  let endpoint = session.httpEndpoint().domain(request.domain);
  if (request.endpointMetadata !== undefined) endpoint = endpoint.metadata(request.endpointMetadata);
  return endpoint.trafficPolicy(request.trafficPolicy).listenAndForward(forwardUrl(request.upstream));
}

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
 * a disconnection makes the session unusable; heartbeats mean nothing yet. A session being replaced
 * is detached; what it did meanwhile can be replayed when it is attached (again).
 */
class SessionEvents {
  private watch: SessionWatch | undefined;
  private touched = false;
  private stopSeen = false;
  private last: 'heartbeat' | 'drop' | undefined;

  /** The edge stopped or dropped the session before a tunnel took it. */
  get spoiled(): boolean {
    return this.touched;
  }

  /**
   * From now on, events go to `watch`. `replay` passes on what happened while detached: 'all' a Stop,
   * or else the latest of a heartbeat and a drop; 'heartbeat' only a Stop or a heartbeat.
   */
  attach(watch: SessionWatch, replay: 'none' | 'heartbeat' | 'all' = 'none'): void {
    this.watch = watch;
    const { stopSeen, last } = this;
    this.stopSeen = false;
    this.last = undefined;
    if (replay === 'none') return;
    if (stopSeen) watch.onStop();
    else if (last === 'heartbeat') watch.onHeartbeat();
    else if (last === 'drop' && replay === 'all') watch.onDisconnection('transport error');
  }

  /** Events are kept aside (not judged) until attach(). */
  detach(): void {
    this.watch = undefined;
    this.stopSeen = false;
    this.last = undefined;
  }

  stop(): void {
    if (this.watch) return this.watch.onStop();
    this.touched = true;
    this.stopSeen = true;
  }

  disconnected(error: string): void {
    if (this.watch) return this.watch.onDisconnection(error);
    this.touched = true;
    this.last = 'drop';
  }

  heartbeat(): void {
    if (this.watch) return this.watch.onHeartbeat();
    this.last = 'heartbeat';
  }
}

/** What a SessionWatch needs to bring a dropped tunnel back itself. */
export interface Recovery {
  timing: RecoveryTiming;
  /** Connects a new session, binds the endpoint on it and swaps it in (calling onReplaced()). */
  replace: () => Promise<ReplaceOutcome>;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Follows one tunnel's session from the SDK's callbacks, decides when the edge has ended it for
 * good, and brings it back itself when the SDK would wait minutes to (docs/revocation.md).
 * Reports 'closed'/'connected' like forward()'s onStatusChange did.
 *
 * While the session is down the edge is probed every `probeEveryMs`. When a probe finds it reachable
 * with the token accepted, and the SDK has not resumed `graceMs` later, the session is replaced —
 * but only if no Stop arrived and no failed reconnect of this outage happened while the edge was
 * reachable (that is the edge refusing to resume this session: "stopped", not a network drop).
 */
export class SessionWatch {
  private connected = true;
  private ended = false;
  private judging = false;
  private stopSeen = false;
  private refusalsWhileReachable = 0;
  /** A failed reconnect arrived while a probe was running; judge it after. */
  private judgeAgain = false;
  private failedReplacements = 0;
  private timer: NodeJS.Timeout | undefined;
  private recovering: Promise<void> | undefined;
  private connectedAtEnd = true;
  private settling: NodeJS.Timeout | undefined;
  private lastFailedReconnect = 0;

  constructor(
    private readonly request: Pick<TunnelRequest, 'onStatusChange' | 'onEnded'>,
    private readonly probe: () => Promise<ProbeResult>,
    private readonly recovery?: Recovery,
  ) {}

  /** True while the session is up (false from a disconnection until the next heartbeat). */
  get isConnected(): boolean {
    return this.connected && !this.ended;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Whether the session was up when end() was called. */
  get wasConnected(): boolean {
    return this.connectedAtEnd;
  }

  /**
   * A replacement may go ahead: the session is down, the tunnel not ended, no Stop arrived, and no
   * failed reconnect of this outage coincided with a reachable edge.
   */
  get mayReplace(): boolean {
    return !this.ended && !this.connected && !this.stopSeen && this.refusalsWhileReachable === 0;
  }

  /** Settles when no recovery step is in flight. */
  settled(): Promise<void> {
    return this.recovering ?? Promise.resolve();
  }

  /** No more reports (the tunnel is being closed by us). */
  end(): void {
    if (!this.ended) this.connectedAtEnd = this.connected;
    this.ended = true;
    clearTimeout(this.timer);
    clearTimeout(this.settling);
  }

  onHeartbeat(): void {
    if (this.ended || this.connected || this.settling) return;
    const settleMs = this.recovery?.timing.settleMs ?? HEARTBEAT_SETTLE_MS;
    // The heartbeat of an attempt the edge refused arrives together with its failure, in either order.
    if (Date.now() - this.lastFailedReconnect < Math.min(settleMs, HEARTBEAT_OF_FAILED_ATTEMPT_MS)) return;
    this.settling = setTimeout(() => {
      this.settling = undefined;
      if (!this.ended && !this.connected) this.back();
    }, settleMs);
  }

  /** A new session serves the endpoint (see Recovery.replace). */
  onReplaced(): void {
    if (this.ended || this.connected) return;
    this.back();
  }

  onDisconnection(_error: string): void {
    if (this.ended) return;
    if (this.connected) {
      // The session dropped; the SDK reconnects at once. Nothing to judge yet.
      this.connected = false;
      this.request.onStatusChange?.('closed');
      this.scheduleRecovery(this.recovery?.timing.probeEveryMs);
      return;
    }
    // A reconnect attempt failed: find out whether the edge refuses us or is just unreachable.
    this.lastFailedReconnect = Date.now();
    clearTimeout(this.settling);
    this.settling = undefined;
    void this.judge(false);
  }

  onStop(): void {
    if (this.ended) return;
    this.stopSeen = true;
    clearTimeout(this.timer);
    void this.judge(true);
  }

  private back(): void {
    clearTimeout(this.settling);
    this.settling = undefined;
    this.connected = true;
    this.refusalsWhileReachable = 0;
    this.failedReplacements = 0;
    clearTimeout(this.timer);
    this.request.onStatusChange?.('connected');
  }

  private async judge(stopCommand: boolean): Promise<void> {
    if (this.judging && !stopCommand) {
      // Judge this failed reconnect too once the current probe is done: under load the SDK's
      // quick retries land while a probe runs, and dropping them left a stopped session waiting
      // for the SDK's next retry (~125 s) instead of ending as "stopped".
      this.judgeAgain = true;
      return;
    }
    this.judging = true;
    try {
      const result = await this.probe();
      if (this.ended) return;
      if (result.outcome === 'refused') return this.finish({ reason: 'revoked', errorCode: result.errorCode, detail: result.detail });
      if (stopCommand) return this.finish({ reason: 'stopped' });
      if (result.outcome === 'ok' && !this.connected && ++this.refusalsWhileReachable >= REFUSALS_BEFORE_STOPPED) {
        return this.finish({ reason: 'stopped', detail: 'the edge refuses to resume this session' });
      }
    } finally {
      this.judging = false;
      if (this.judgeAgain && !this.ended) {
        this.judgeAgain = false;
        void this.judge(false);
      }
    }
  }

  private scheduleRecovery(ms: number | undefined): void {
    if (!this.recovery || ms === undefined) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.recovering = this.recover().finally(() => (this.recovering = undefined));
    }, ms);
    // The command holds the process open itself; a pending probe must not.
    this.timer.unref();
  }

  /** One recovery step: probe; if the edge is back and the SDK still is not, replace the session. */
  private async recover(): Promise<void> {
    const recovery = this.recovery!;
    // A refusal seen or a Stop: the judge decides, and the SDK's own reconnects go on.
    if (!this.mayReplace) return;
    const result = await this.probe();
    if (this.ended || this.connected) return;
    if (result.outcome === 'refused') return this.finish({ reason: 'revoked', errorCode: result.errorCode, detail: result.detail });
    if (result.outcome === 'ok') {
      await delay(recovery.timing.graceMs);
      if (!this.mayReplace) return;
      if (!this.judging) {
        const outcome = await recovery.replace();
        if (outcome === 'replaced') return;
        if (outcome === 'failed') this.failedReplacements++;
      }
    }
    if (this.ended || this.connected || this.stopSeen) return;
    const base = recovery.timing.probeEveryMs;
    this.scheduleRecovery(Math.min(base * 2 ** this.failedReplacements, Math.max(base, RECOVERY_BACKOFF_MAX_MS)));
  }

  private finish(end: TunnelEnd): void {
    if (this.ended) return;
    this.end();
    // The edge ended the session: closing it must not wait on an Unbind.
    this.connectedAtEnd = false;
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
