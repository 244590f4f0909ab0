/**
 * Public ingress: the HTTP and HTTPS listeners visitors hit. Routes by Host to a bound
 * endpoint and reverse-proxies each request over a fresh muxado proxy stream to the
 * endpoint's agent, streaming bodies both ways (the muxado window gives backpressure).
 * Traffic Policy enforcement plugs in through `beforeForward`.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Endpoint, EndpointRegistry } from './endpoints.js';
import type { EventLog } from './event-log.js';
import type { CertificateAuthority } from './tls/certificate-authority.js';
import type { AgentSession } from './agent/agent-session.js';

export interface ForwardContext {
  endpoint: Endpoint;
  req: http.IncomingMessage;
  /** Write here (and return false) to answer without forwarding, e.g. a 403 from a policy. */
  res: http.ServerResponse;
  clientIp: string;
  scheme: 'http' | 'https';
  /** Set by the hook: the request target (path and query) to forward instead of `req.url`, e.g. normalised. */
  forwardPath?: string;
  /** Set by the hook when it consumed the request body (e.g. to verify a webhook): these exact bytes are forwarded. */
  forwardBody?: Buffer;
  /** Set by the hook: edits to the headers sent upstream, applied after X-Forwarded-* are set from the socket. */
  editRequestHeaders?: (headers: Record<string, string | string[]>) => void;
  /** Set by the hook: sees the upstream response head; returns the head to send, or null once it answered `res` itself. */
  onResponse?: (head: UpstreamResponseHead) => Promise<UpstreamResponseHead | null>;
}
/** Status line and headers (name/value pairs, hop-by-hop already removed) of an upstream response. */
export interface UpstreamResponseHead {
  statusCode: number;
  statusMessage?: string;
  rawHeaders: string[];
}
/** Return true to forward the request to the agent; false once you have answered `res` yourself. */
export type BeforeForwardHook = (ctx: ForwardContext) => Promise<boolean>;
/** Serves a host that is not an endpoint (e.g. the sandbox's stub identity provider). */
export type HostHandler = (req: http.IncomingMessage, res: http.ServerResponse, scheme: 'http' | 'https') => void;

export interface PublicIngressOptions {
  /** Addresses to listen on, e.g. ['127.0.0.1'] or ['127.0.0.1', '::1']. */
  hosts: string[];
  httpPort: number;
  httpsPort: number;
  domain: string;
  endpoints: EndpointRegistry;
  events: EventLog;
  ca: CertificateAuthority;
  beforeForward?: BeforeForwardHook;
  /** How long a request waits for a reconnecting agent to rebind before a 502. */
  reattachWaitMs?: number;
  /** How long to wait for the upstream response head before a 504. */
  responseTimeoutMs?: number;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are per connection and never forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

export function hostFromHeader(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return (colon >= 0 ? h.slice(0, colon) : h).replace(/\.$/, '');
}

/** `ip:port`, IPv6 in brackets, as the ProxyHeader's ClientAddr wants it. */
export function formatClientAddr(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export class PublicIngress {
  beforeForward: BeforeForwardHook;
  private readonly hostHandlers = new Map<string, HostHandler>();
  private readonly servers: http.Server[] = [];
  private readonly upgraded = new Set<Duplex>();
  private readonly sniContexts = new Map<string, Promise<tls.SecureContext>>();
  private httpPortValue = 0;
  private httpsPortValue = 0;

  private constructor(private readonly opts: PublicIngressOptions) {
    this.beforeForward = opts.beforeForward ?? (async () => true);
  }

  static async listen(opts: PublicIngressOptions): Promise<PublicIngress> {
    const ingress = new PublicIngress(opts);
    const d = opts.domain.toLowerCase();
    const fallback = await opts.ca.issueLeaf([d, `*.${d}`, 'localhost', '127.0.0.1', '::1']);
    try {
      let httpPort = opts.httpPort;
      let httpsPort = opts.httpsPort;
      for (const host of opts.hosts) {
        const plain = http.createServer((req, res) => void ingress.handle(req, res, 'http'));
        const secure = https.createServer(
          { cert: fallback.chainPem, key: fallback.keyPem, SNICallback: (name, cb) => ingress.sni(name, cb) },
          (req, res) => void ingress.handle(req, res, 'https'),
        );
        for (const [server, scheme] of [[plain, 'http'], [secure, 'https']] as const) {
          server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void ingress.handleUpgrade(req, socket, head, scheme));
          server.on('clientError', (_err, socket: Duplex) => {
            if ((socket as Socket).writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
            else socket.destroy();
          });
          ingress.servers.push(server);
        }
        httpPort = await listenOn(plain, httpPort, host);
        httpsPort = await listenOn(secure, httpsPort, host);
      }
      ingress.httpPortValue = httpPort;
      ingress.httpsPortValue = httpsPort;
    } catch (err) {
      await ingress.close();
      throw err;
    }
    return ingress;
  }

  get httpPort(): number {
    return this.httpPortValue;
  }
  get httpsPort(): number {
    return this.httpsPortValue;
  }

  /** Answer every request for `host` (lower-case, no port) with `handler` instead of routing to an endpoint. */
  serveHost(host: string, handler: HostHandler): void {
    this.hostHandlers.set(host.toLowerCase(), handler);
  }

  async close(): Promise<void> {
    for (const s of this.upgraded) s.destroy();
    this.upgraded.clear();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) return resolve();
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  private sni(servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void {
    const name = servername.toLowerCase();
    const d = this.opts.domain.toLowerCase();
    // Per-host leaves only for names under the sandbox domain (deeper than a wildcard reaches).
    if (!name.endsWith(`.${d}`)) return cb(null, undefined);
    let ctx = this.sniContexts.get(name);
    if (!ctx) {
      ctx = this.opts.ca.leafForHost(name).then((leaf) => tls.createSecureContext({ cert: leaf.chainPem, key: leaf.keyPem }));
      ctx.catch(() => this.sniContexts.delete(name));
      this.sniContexts.set(name, ctx);
    }
    ctx.then((c) => cb(null, c), (err: Error) => cb(err));
  }

  /** Route, ask the hook, then find a live agent session for the endpoint. */
  private async route(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    scheme: 'http' | 'https',
  ): Promise<{ endpoint: Endpoint; session: AgentSession; clientIp: string; clientAddr: string; ctx: ForwardContext } | null> {
    const host = hostFromHeader(req.headers.host);
    const endpoint = host ? this.opts.endpoints.getByHost(host) : undefined;
    if (!endpoint) {
      sendText(res, 404, `No devtunnel endpoint is bound to "${host || '(no Host header)'}" on this sandbox edge.\n`);
      return null;
    }
    const clientIp = req.socket.remoteAddress ?? '';
    const clientAddr = formatClientAddr(clientIp, req.socket.remotePort ?? 0);
    this.logWhenDone(endpoint, req, res, clientIp);
    let forward: boolean;
    const ctx: ForwardContext = { endpoint, req, res, clientIp, scheme };
    try {
      forward = await this.beforeForward(ctx);
    } catch (err) {
      sendText(res, 500, `The sandbox edge failed while applying the endpoint's policy: ${(err as Error).message}\n`);
      return null;
    }
    if (!forward) {
      if (!res.headersSent && !res.writableEnded) sendText(res, 403, 'Request refused by the endpoint policy.\n');
      return null;
    }
    const session = await this.opts.endpoints.waitForSession(endpoint, this.opts.reattachWaitMs ?? 3000);
    if (!session) {
      sendText(res, 502, `The agent serving "${endpoint.host}" is not connected to the sandbox edge (endpoint ${endpoint.id}).\n`);
      return null;
    }
    return { endpoint, session, clientIp, clientAddr, ctx };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, scheme: 'http' | 'https'): Promise<void> {
    const hostHandler = this.hostHandlers.get(hostFromHeader(req.headers.host));
    if (hostHandler) return hostHandler(req, res, scheme);
    const routed = await this.route(req, res, scheme);
    if (!routed) return;
    const { endpoint, session, clientIp, clientAddr, ctx } = routed;
    let stream: Duplex;
    try {
      stream = session.openProxyStream(endpoint.id, clientAddr, scheme);
    } catch (err) {
      sendText(res, 502, `Could not reach the agent serving "${endpoint.host}": ${(err as Error).message}\n`);
      return;
    }
    const headers = forwardHeaders(req, scheme, clientIp, false);
    if (ctx.forwardBody) {
      delete headers['transfer-encoding'];
      headers['content-length'] = String(ctx.forwardBody.length);
    }
    ctx.editRequestHeaders?.(headers);
    const upstream = http.request({
      createConnection: () => stream as Socket,
      method: req.method,
      path: ctx.forwardPath ?? req.url,
      headers,
      setHost: false,
    });
    const timeout = setTimeout(() => {
      if (!res.headersSent) sendText(res, 504, `The agent serving "${endpoint.host}" did not answer in time.\n`);
      upstream.destroy();
    }, this.opts.responseTimeoutMs ?? 60_000);
    upstream.on('response', (upRes) => {
      clearTimeout(timeout);
      if (res.headersSent || res.writableEnded) return void upstream.destroy();
      const head: UpstreamResponseHead = { statusCode: upRes.statusCode ?? 502, statusMessage: upRes.statusMessage, rawHeaders: filterRawHeaders(upRes.rawHeaders) };
      const send = (out: UpstreamResponseHead | null) => {
        if (out === null || res.headersSent || res.writableEnded) {
          upRes.resume();
          return void upstream.destroy();
        }
        res.writeHead(out.statusCode, out.statusMessage, out.rawHeaders);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
        upRes.on('aborted', () => res.destroy());
      };
      if (!ctx.onResponse) return send(head);
      ctx.onResponse(head).then(send, (err: Error) => {
        upRes.resume();
        upstream.destroy();
        sendText(res, 500, `The sandbox edge failed while applying the endpoint's response policy: ${err.message}\n`);
      });
    });
    upstream.on('error', (err) => {
      clearTimeout(timeout);
      if (!res.headersSent) sendText(res, 502, `The agent serving "${endpoint.host}" closed the connection: ${err.message}\n`);
      else res.destroy();
    });
    // A visitor that goes away mid-way cancels the proxied request.
    res.on('close', () => {
      clearTimeout(timeout);
      if (!res.writableFinished) upstream.destroy();
    });
    if (ctx.forwardBody) upstream.end(ctx.forwardBody);
    else req.pipe(upstream);
  }

  private async handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, scheme: 'http' | 'https'): Promise<void> {
    socket.on('error', () => socket.destroy());
    // A ServerResponse on the raw socket lets the 404/502/policy paths answer normally.
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    const routed = await this.route(req, res, scheme);
    if (!routed) return;
    res.detachSocket(socket as Socket);
    const { endpoint, session, clientIp, clientAddr, ctx } = routed;
    let stream: Duplex;
    try {
      stream = session.openProxyStream(endpoint.id, clientAddr, scheme);
    } catch {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nagent unreachable\n');
      return;
    }
    const headers = forwardHeaders(req, scheme, clientIp, true);
    ctx.editRequestHeaders?.(headers);
    let headText = `${req.method} ${ctx.forwardPath ?? req.url} HTTP/${req.httpVersion}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) headText += `${name}: ${v}\r\n`;
    }
    stream.write(headText + '\r\n');
    if (head.length > 0) stream.write(head);
    this.upgraded.add(socket);
    let status = 0;
    stream.once('data', (chunk: Buffer) => {
      status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(chunk.toString('latin1', 0, 16))?.[1] ?? 0);
    });
    const teardown = () => {
      this.upgraded.delete(socket);
      stream.destroy();
      socket.destroy();
      this.opts.events.append({
        type: 'proxy',
        endpointId: endpoint.id,
        host: endpoint.host,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        status: status || 502,
        clientIp,
      });
    };
    stream.on('error', teardown);
    socket.on('error', teardown);
    stream.once('close', teardown);
    socket.once('close', teardown);
    socket.pipe(stream);
    stream.pipe(socket);
  }

  private logWhenDone(endpoint: Endpoint, req: http.IncomingMessage, res: http.ServerResponse, clientIp: string): void {
    if (req.headers.upgrade) return; // upgrades log when the tunnel closes
    res.once('close', () =>
      this.opts.events.append({
        type: 'proxy',
        endpointId: endpoint.id,
        host: endpoint.host,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        status: res.statusCode,
        clientIp,
      }),
    );
  }
}

function listenOn(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function sendText(res: http.ServerResponse, status: number, body: string): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Request headers for the agent: end-to-end headers as sent, minus hop-by-hop ones
 * (kept for upgrades, which need Connection/Upgrade), and X-Forwarded-* taken from the
 * real socket; client-sent values are dropped so they cannot be spoofed.
 */
function forwardHeaders(req: http.IncomingMessage, scheme: string, clientIp: string, upgrade: boolean): Record<string, string | string[]> {
  const connectionTokens = new Set(
    String(req.headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string | string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (FORWARDED.has(lower)) continue;
    if (!upgrade && (HOP_BY_HOP.has(lower) || connectionTokens.has(lower))) continue;
    const value = raw[i + 1]!;
    const prev = out[lower];
    out[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  out['x-forwarded-for'] = clientIp;
  out['x-forwarded-proto'] = scheme;
  out['x-forwarded-host'] = req.headers.host ?? '';
  return out;
}

/** Response headers for the visitor, in the agent's order and case, minus hop-by-hop ones. */
function filterRawHeaders(raw: string[]): string[] {
  const connection = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') raw[i + 1]!.split(',').forEach((t) => connection.add(t.trim().toLowerCase()));
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || connection.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}
