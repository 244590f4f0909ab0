/**
 * Server side of a muxado session over one transport (the agent's TLS socket).
 *
 * The client (the ngrok agent) opens odd stream ids starting at 3; we open even ids
 * starting at 2. Every stream starts with a 4-byte type; client streams are announced
 * with a 'stream' event once their type is known. Frame dispatch never waits on a
 * stream's consumer, so heartbeats keep flowing while an RPC is in progress (P20).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { ErrorCode, FLAG_SYN, FrameParser, FrameType, encodeGoAway, encodeWndInc, type Frame } from './frame.js';
import { MuxStream, type FrameSink } from './stream.js';

export interface MuxSessionEvents {
  stream: [stream: MuxStream];
  close: [reason: string];
}

export class MuxSession extends EventEmitter<MuxSessionEvents> implements FrameSink {
  private readonly parser = new FrameParser();
  private readonly streams = new Map<number, MuxStream>();
  private nextServerId = 2;
  private lastClientId = 0;
  private closed = false;
  private goingAway = false;
  private drainWaiters: (() => void)[] = [];
  /** Frames written so far; lets the ACK nudge see whether we already answered. */
  private framesSent = 0;
  private nudgeScheduled = false;
  private sentAtLastInbound = 0;
  /** The agent's heartbeat stream: always open, so a zero WNDINC on it is harmless. */
  private heartbeatStreamId: number | undefined;

  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => this.onData(chunk));
    transport.on('drain', () => {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    });
    transport.on('end', () => this.close('peer closed the connection'));
    transport.on('close', () => this.close('connection closed'));
    transport.on('error', (err: Error) => this.close(`connection error: ${err.message}`));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Number of open streams (for tests and diagnostics). */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Open a server stream; the type and optional header go out in the SYN frame. */
  openStream(type: number, initial?: Buffer): MuxStream {
    if (this.closed) throw new Error('muxado session is closed');
    const id = this.nextServerId;
    this.nextServerId += 2;
    const stream = new MuxStream(id, this, { openWithType: type, initial });
    this.streams.set(id, stream);
    // The session may die under any stream; that must never become an uncaught 'error'.
    stream.on('error', () => {});
    return stream;
  }

  /**
   * Send GOAWAY: the agent drops this session and reconnects. The transport is closed
   * shortly after, so a client that ignores it cannot linger.
   */
  goAway(code: number = ErrorCode.None, message = '', closeAfterMs = 1000): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.sendFrame(encodeGoAway(this.lastClientId, code, message));
    const timer = setTimeout(() => this.close('sent GOAWAY'), closeAfterMs);
    timer.unref();
  }

  /** Close at once: every stream errors, the transport is destroyed. */
  close(reason = 'closed by server'): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.handleSessionClosed();
    this.streams.clear();
    this.drainWaiters = [];
    this.transport.destroy();
    this.emit('close', reason);
  }

  // ---- FrameSink ----

  sendFrame(frame: Buffer): boolean {
    if (this.closed || this.transport.destroyed) return true;
    this.framesSent++;
    return this.transport.write(frame);
  }

  onceDrain(cb: () => void): void {
    if (this.closed) return cb();
    this.drainWaiters.push(cb);
  }

  streamFinished(id: number): void {
    this.streams.delete(id);
  }

  // ---- inbound ----

  private onData(chunk: Buffer): void {
    this.scheduleAckNudge();
    for (const event of this.parser.push(chunk)) {
      if (this.closed) return;
      if (event.kind === 'frame') this.dispatch(event.frame);
      else if (event.kind === 'goaway') {
        // The client's GOAWAY is malformed (length 8 bytes short): stop and hang up (P8).
        this.close('client sent GOAWAY');
        return;
      } else {
        this.close(`protocol error: ${event.message}`);
        return;
      }
    }
  }

  /**
   * The ngrok agent does not set TCP_NODELAY, so after a small write (a WNDINC, say) its
   * next write waits in Nagle's buffer until we ACK — and Linux delays a lone ACK by up
   * to 40 ms. That added ~40 ms to every proxied request. When a batch of incoming frames
   * produced no reply by the next turn of the event loop, we send a 12-byte WNDINC(0) on
   * the heartbeat stream: the ACK rides on it at once, and the agent's window is unchanged.
   */
  private scheduleAckNudge(): void {
    // Compared against the LAST inbound batch: anything we sent after it carries the ACK.
    this.sentAtLastInbound = this.framesSent;
    if (this.nudgeScheduled) return;
    this.nudgeScheduled = true;
    setImmediate(() => {
      this.nudgeScheduled = false;
      if (this.closed || this.framesSent !== this.sentAtLastInbound || this.heartbeatStreamId === undefined) return;
      if (!this.streams.has(this.heartbeatStreamId)) return;
      this.sendFrame(encodeWndInc(this.heartbeatStreamId, 0));
    });
  }

  private dispatch(frame: Frame): void {
    const { type, flags, streamId, body } = frame;
    if (streamId === 0) return; // no session-level frames other than GOAWAY
    switch (type) {
      case FrameType.DATA: {
        let stream = this.streams.get(streamId);
        if (flags & FLAG_SYN) {
          if (stream || this.goingAway) return; // never reuse ids; refuse new work while leaving
          stream = new MuxStream(streamId, this, { expectType: true });
          this.streams.set(streamId, stream);
          if (streamId > this.lastClientId) this.lastClientId = streamId;
          const announced = stream;
          announced.once('typed', (type: number) => {
            if (type === 0xffffffff && this.heartbeatStreamId === undefined) this.heartbeatStreamId = announced.id;
            this.emit('stream', announced);
          });
          // Errors on a stream nobody consumes yet must not crash the process.
          announced.on('error', () => {});
        }
        // Unknown id without SYN: typically the client's trailing FIN on a finished stream.
        stream?.handleData(body, flags);
        return;
      }
      case FrameType.WNDINC:
        this.streams.get(streamId)?.handleWndInc(body.readUInt32BE(0) & 0x7fffffff);
        return;
      case FrameType.RST:
        this.streams.get(streamId)?.handleRst(body.readUInt32BE(0));
        return;
      default:
        return;
    }
  }
}
