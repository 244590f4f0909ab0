/**
 * One connected agent: the muxado session plus what the edge knows about it
 * (identity, credential, metadata). It speaks the stream protocol; decisions (auth,
 * bind) are delegated to the ingress through `AgentSessionHandlers`.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '../muxado/frame.js';
import { MuxSession } from '../muxado/session.js';
import type { MuxStream } from '../muxado/stream.js';
import {
  EdgeErrorCode,
  StreamType,
  encodeProxyHeader,
  errorReply,
  type AuthRequest,
  type BindRequest,
  type UnbindRequest,
} from './messages.js';
import { readJsonMessage, replyJson } from './rpc.js';

export interface AgentSessionHandlers {
  auth(session: AgentSession, req: AuthRequest): unknown | Promise<unknown>;
  bind(session: AgentSession, req: BindRequest): unknown | Promise<unknown>;
  unbind(session: AgentSession, req: UnbindRequest): unknown | Promise<unknown>;
}

export interface AgentSessionInfo {
  id: string;
  clientId: string | null;
  credentialId: string | null;
  metadata: string;
  remoteAddr: string;
  connectedAt: string;
  authenticated: boolean;
}

export class AgentSession extends EventEmitter<{ close: [reason: string] }> {
  readonly id = `ts_${randomBytes(9).toString('base64url')}`;
  readonly connectedAt = new Date().toISOString();
  readonly mux: MuxSession;
  clientId: string | null = null;
  credentialId: string | null = null;
  metadata = '';
  private closeReason: string | null = null;

  constructor(
    transport: Duplex,
    readonly remoteAddr: string,
    private readonly handlers: AgentSessionHandlers,
  ) {
    super();
    this.mux = new MuxSession(transport);
    this.mux.on('stream', (stream) => this.onStream(stream));
    this.mux.once('close', (reason) => {
      this.closeReason = reason;
      this.emit('close', reason);
    });
  }

  get isClosed(): boolean {
    return this.mux.isClosed;
  }

  get authenticated(): boolean {
    return this.credentialId !== null;
  }

  info(): AgentSessionInfo {
    return {
      id: this.id,
      clientId: this.clientId,
      credentialId: this.credentialId,
      metadata: this.metadata,
      remoteAddr: this.remoteAddr,
      connectedAt: this.connectedAt,
      authenticated: this.authenticated,
    };
  }

  /**
   * Open a proxy stream for one public connection. Type and ProxyHeader go out in the
   * SYN frame (P10); the caller then writes the raw public bytes.
   */
  openProxyStream(endpointId: string, clientAddr: string, proto: 'http' | 'https'): MuxStream {
    return this.mux.openStream(
      StreamType.Proxy,
      encodeProxyHeader({ Id: endpointId, ClientAddr: clientAddr, Proto: proto, EdgeType: '3', PassthroughTLS: false }),
    );
  }

  /**
   * Send the Stop command and wait (briefly) for the agent's CommandResp. `forward()`
   * agents answer with an "unsupported" error; the edge ends the session either way.
   */
  async sendStop(timeoutMs = 2000): Promise<{ Error?: string } | null> {
    if (this.isClosed) return null;
    const stream = this.mux.openStream(StreamType.Stop, Buffer.from('{}'));
    stream.end();
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const done = () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve(text ? (JSON.parse(text) as { Error?: string }) : {});
        } catch {
          resolve(null);
        }
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.once('end', done);
      stream.once('close', done);
    });
  }

  /** GOAWAY: the agent reconnects (and rebinds its listeners with the same ids). */
  goAway(message = 'reconnect requested by the sandbox edge'): void {
    this.mux.goAway(ErrorCode.None, message);
  }

  close(reason = 'closed by the sandbox edge'): void {
    this.mux.close(reason);
  }

  get lastCloseReason(): string | null {
    return this.closeReason;
  }

  private onStream(stream: MuxStream): void {
    switch (stream.streamType) {
      case StreamType.Heartbeat:
        // Echo pings as they arrive; independent of any RPC in flight (P20).
        stream.pipe(stream);
        return;
      case StreamType.Auth:
        void this.rpc(stream, (req) => this.handlers.auth(this, req as AuthRequest), false);
        return;
      case StreamType.Bind:
        void this.rpc(stream, (req) => this.handlers.bind(this, req as BindRequest), true);
        return;
      case StreamType.Unbind:
        void this.rpc(stream, (req) => this.handlers.unbind(this, req as UnbindRequest), true);
        return;
      case StreamType.BindLabeled:
        void this.rpc(
          stream,
          () => errorReply('Labeled listeners are not supported by the devtunnel sandbox edge; bind an HTTP(S) endpoint with a domain.', EdgeErrorCode.unsupportedProto),
          true,
        );
        return;
      default:
        // Unknown or server-only type: end it; the agent does the same for types it does not know.
        stream.resume();
        stream.end();
    }
  }

  private async rpc(stream: MuxStream, handle: (req: unknown) => unknown, needsAuth: boolean): Promise<void> {
    let reply: unknown;
    try {
      const req = await readJsonMessage<unknown>(stream);
      if (needsAuth && !this.authenticated) {
        reply = errorReply('Authenticate the session before binding.', EdgeErrorCode.invalidAuthtoken);
      } else {
        reply = await handle(req);
      }
    } catch (err) {
      reply = errorReply(`The sandbox edge could not read the request: ${(err as Error).message}`, EdgeErrorCode.badRequest);
    }
    replyJson(stream, reply);
  }
}
