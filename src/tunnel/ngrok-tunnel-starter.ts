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
 */
export class NgrokTunnelStarter implements TunnelStarter {
  private sdk: Promise<NgrokModule> | undefined;

  /** Starts loading the native SDK now, so it overlaps with keychain and policy work. */
  preload(): void {
    // require(), not import(): the SDK is CommonJS, and import() would first run Node's CJS export
    // lexer over its 22 kB loader (slow, and it gets TurboFan-compiled: time and peak memory).
    this.sdk ??= Promise.resolve().then(() => createRequire(import.meta.url)('@ngrok/ngrok') as NgrokModule);
  }

  async start(request: TunnelRequest): Promise<Tunnel> {
    this.preload();
    const ngrok = await this.sdk!;
    const watch = new SessionWatch(request, () => this.probe(ngrok, request));
    const builder = withTrust(new ngrok.SessionBuilder(), request.rootCas)
      .authtoken(request.authtoken)
      .serverAddr(request.serverAddr)
      .metadata(request.sessionMetadata)
      // Do not block in these callbacks (the SDK waits for them to answer the edge).
      .handleStopCommand(() => void setImmediate(() => watch.onStop()))
      .handleDisconnection((_addr: string, error: string) => {
        setImmediate(() => watch.onDisconnection(error));
        return true;
      })
      .handleHeartbeat(() => void setImmediate(() => watch.onHeartbeat()));
    let session: NgrokSession;
    try {
      session = await builder.connect();
    } catch (error) {
      throw toEdgeRefusal(error, request.authtoken);
    }
    let listener: Awaited<ReturnType<ReturnType<NgrokSession['httpEndpoint']>['listenAndForward']>>;
    try {
      listener = await session.httpEndpoint().domain(request.domain).trafficPolicy(request.trafficPolicy).listenAndForward(forwardUrl(request.upstream));
    } catch (error) {
      watch.end();
      await session.close().catch(() => undefined);
      throw toEdgeRefusal(error, request.authtoken);
    }
    const url = listener.url() ?? `https://${request.domain}`;
    let closing: Promise<void> | undefined;
    return {
      url,
      close: () => {
        // Unbind is an RPC: on a session that is down (stopped, revoked, reconnecting) the SDK would
        // wait for a reconnect that may never come, so skip it then and bound every step.
        const live = watch.isConnected;
        watch.end();
        closing ??= (live ? bounded(listener.close(), CLOSE_STEP_MS) : Promise.resolve()).then(() => bounded(session.close(), CLOSE_STEP_MS));
        return closing;
      },
    };
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
