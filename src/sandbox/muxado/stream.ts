/**
 * One muxado stream as a Node Duplex, so it can be piped or handed to
 * `http.request({ createConnection })`.
 *
 * Flow control (docs/agent-protocol.md §2.6): each direction has a 256 KiB window.
 * - Sending: we never have more unacknowledged bytes in flight than the client credited;
 *   a write waits (backpressure) until WNDINC arrives instead of buffering without bound.
 * - Receiving: we credit bytes back with WNDINC once the consumer has taken them, so a slow
 *   reader stalls the client rather than growing our buffers.
 */
import { Duplex } from 'node:stream';
import { DEFAULT_WINDOW, ErrorCode, FLAG_FIN, FLAG_SYN, FrameType, encodeFrame, encodeRst, encodeWndInc } from './frame.js';

/** What a stream needs from its session. */
export interface FrameSink {
  /** Queue a frame on the transport; false means the transport buffer is full (wait for drain). */
  sendFrame(frame: Buffer): boolean;
  onceDrain(cb: () => void): void;
  streamFinished(id: number): void;
  readonly isClosed: boolean;
}

/** Largest DATA payload we send in one frame (the protocol allows 16 MiB; smaller is friendlier). */
const MAX_CHUNK = 64 * 1024;

export class StreamResetError extends Error {
  constructor(readonly code: number, message = `stream reset by peer (muxado error code ${code})`) {
    super(message);
    this.name = 'StreamResetError';
  }
}

interface PendingWrite {
  chunk: Buffer;
  offset: number;
  cb: (err?: Error | null) => void;
}

export class MuxStream extends Duplex {
  /** Stream type from the first 4 payload bytes (set once known). */
  streamType: number | undefined;
  /** Bytes we may still send before the client must credit us. */
  private sendWindow = DEFAULT_WINDOW;
  private pending: PendingWrite | null = null;
  private waitingForDrain = false;
  private synPending: boolean;
  private localFin = false;
  private remoteFin = false;
  private resetSeen = false;
  private finished = false;
  private typeBuffer: Buffer | null;
  /** Bytes pushed to the reader but not yet credited back (reader was full). */
  private uncredited = 0;

  constructor(
    readonly id: number,
    private readonly sink: FrameSink,
    opts: { expectType?: boolean; openWithType?: number; initial?: Buffer } = {},
  ) {
    super({ allowHalfOpen: true, readableHighWaterMark: 64 * 1024, writableHighWaterMark: 64 * 1024 });
    this.typeBuffer = opts.expectType ? Buffer.alloc(0) : null;
    this.synPending = opts.openWithType !== undefined;
    if (opts.openWithType !== undefined) {
      this.streamType = opts.openWithType;
      // Type (and any header) must ride in the SYN frame: a stall or FIN before the 4 type
      // bytes blocks or resets the client's accept loop (pitfall P10).
      const type = Buffer.allocUnsafe(4);
      type.writeUInt32BE(opts.openWithType >>> 0, 0);
      const payload = opts.initial ? Buffer.concat([type, opts.initial]) : type;
      this.sendWindow -= payload.length;
      this.synPending = false;
      this.sink.sendFrame(encodeFrame(FrameType.DATA, FLAG_SYN, this.id, payload));
    }
  }

  /** Remaining send credit (for tests and diagnostics). */
  get availableSendWindow(): number {
    return this.sendWindow;
  }

  // Socket look-alikes: node:http calls these on whatever createConnection returns.
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }
  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }
  setTimeout(_ms: number, _cb?: () => void): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  // ---- inbound, called by the session ----

  /** @internal */
  handleData(body: Buffer, flags: number): void {
    if (this.remoteFin || this.resetSeen || this.destroyed) return;
    if (body.length > 0) {
      if (this.typeBuffer !== null) {
        const all = Buffer.concat([this.typeBuffer, body]);
        if (all.length < 4) {
          this.typeBuffer = all;
        } else {
          this.typeBuffer = null;
          this.streamType = all.readUInt32BE(0);
          this.credit(4); // the type is consumed right here
          this.emit('typed', this.streamType);
          const rest = all.subarray(4);
          if (rest.length > 0) this.deliver(rest);
        }
      } else {
        this.deliver(body);
      }
    }
    if (flags & FLAG_FIN) {
      this.remoteFin = true;
      if (this.typeBuffer !== null) {
        // FIN before a full type: nothing useful can follow.
        this.destroy(new Error('stream closed before its type was sent'));
        return;
      }
      this.push(null);
      this.maybeFinished();
    }
  }

  /** @internal */
  handleWndInc(increment: number): void {
    this.sendWindow += increment;
    this.flushPending();
  }

  /** @internal */
  handleRst(code: number): void {
    this.resetSeen = true;
    this.destroy(new StreamResetError(code));
  }

  /** @internal session went away */
  handleSessionClosed(): void {
    this.resetSeen = true; // nothing can be sent any more
    if (!this.destroyed) this.destroy(new Error('muxado session closed'));
  }

  private deliver(data: Buffer): void {
    if (this.push(data)) this.credit(data.length);
    else this.uncredited += data.length;
  }

  private credit(n: number): void {
    if (n > 0 && !this.sink.isClosed && !this.remoteFin) this.sink.sendFrame(encodeWndInc(this.id, n));
  }

  // ---- Duplex implementation ----

  override _read(): void {
    if (this.uncredited > 0) {
      const n = this.uncredited;
      this.uncredited = 0;
      this.credit(n);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.sink.isClosed) return cb(new Error('muxado session closed'));
    this.pending = { chunk, offset: 0, cb };
    this.flushPending();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.sink.isClosed && !this.resetSeen) this.sink.sendFrame(encodeFrame(FrameType.DATA, FLAG_FIN, this.id));
    this.localFin = true;
    this.maybeFinished();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.localFin && !this.resetSeen && !this.sink.isClosed) {
      // A real failure is an RST; a plain destroy() is a graceful half-close so the agent
      // finishes cleanly (the client itself never RSTs on a normal close).
      if (err) this.sink.sendFrame(encodeRst(this.id, ErrorCode.StreamCancelled));
      else this.sink.sendFrame(encodeFrame(FrameType.DATA, FLAG_FIN, this.id));
      this.localFin = true;
    }
    const pending = this.pending;
    this.pending = null;
    if (pending) pending.cb(err ?? new Error('stream destroyed'));
    this.markFinished();
    cb(err);
  }

  private flushPending(): void {
    while (this.pending && !this.waitingForDrain) {
      if (this.sink.isClosed) {
        const { cb } = this.pending;
        this.pending = null;
        cb(new Error('muxado session closed'));
        return;
      }
      const p = this.pending;
      const remaining = p.chunk.length - p.offset;
      if (remaining === 0) {
        this.pending = null;
        p.cb();
        return;
      }
      if (this.sendWindow <= 0) return; // resumes on WNDINC
      const n = Math.min(remaining, this.sendWindow, MAX_CHUNK);
      const flags = this.synPending ? FLAG_SYN : 0;
      this.synPending = false;
      const ok = this.sink.sendFrame(encodeFrame(FrameType.DATA, flags, this.id, p.chunk.subarray(p.offset, p.offset + n)));
      p.offset += n;
      this.sendWindow -= n;
      if (!ok) {
        this.waitingForDrain = true;
        this.sink.onceDrain(() => {
          this.waitingForDrain = false;
          this.flushPending();
        });
      }
    }
  }

  private maybeFinished(): void {
    if (this.localFin && this.remoteFin) this.markFinished();
  }

  private markFinished(): void {
    if (this.finished) return;
    this.finished = true;
    this.sink.streamFinished(this.id);
  }
}
