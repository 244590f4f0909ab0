// Test helpers: an in-memory socket pair and a minimal fake muxado client (the agent side).
import { Duplex } from 'node:stream';
import { FLAG_FIN, FLAG_SYN, FrameParser, FrameType, encodeFrame, encodeWndInc, type Frame } from '../../../src/sandbox/muxado/frame.js';

class PipeEnd extends Duplex {
  peer!: PipeEnd;
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.peer.push(chunk);
    cb();
  }
  override _final(cb: () => void): void {
    this.peer.push(null);
    cb();
  }
}

/** Two connected in-memory duplexes: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** Speaks raw frames on the client end, records everything the server sends. */
export class FakeMuxClient {
  readonly frames: Frame[] = [];
  private readonly parser = new FrameParser();
  private nextId = 3;
  private waiters: (() => void)[] = [];

  constructor(readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      for (const ev of this.parser.push(chunk)) {
        if (ev.kind === 'frame') this.frames.push(ev.frame);
        else if (ev.kind === 'goaway') this.frames.push({ type: FrameType.GOAWAY, flags: 0, streamId: 0, body: Buffer.alloc(0) });
      }
      const w = this.waiters;
      this.waiters = [];
      w.forEach((f) => f());
    });
  }

  /** Open a client stream (odd id) whose first frame carries the 4-byte type, as the SDK does. */
  open(type: number): number {
    const id = this.nextId;
    this.nextId += 2;
    const t = Buffer.alloc(4);
    t.writeUInt32BE(type >>> 0);
    this.socket.write(encodeFrame(FrameType.DATA, FLAG_SYN, id, t));
    return id;
  }

  send(id: number, data: Buffer | string, fin = false): void {
    this.socket.write(encodeFrame(FrameType.DATA, fin ? FLAG_FIN : 0, id, Buffer.from(data)));
  }

  credit(id: number, n: number): void {
    this.socket.write(encodeWndInc(id, n));
  }

  /** Payload bytes the server sent on a stream so far. */
  dataOn(id: number): Buffer {
    return Buffer.concat(this.frames.filter((f) => f.streamId === id && f.type === FrameType.DATA).map((f) => f.body));
  }

  finOn(id: number): boolean {
    return this.frames.some((f) => f.streamId === id && f.type === FrameType.DATA && (f.flags & FLAG_FIN) !== 0);
  }

  async until<T>(check: () => T | undefined | false, ms = 3000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > deadline) throw new Error('FakeMuxClient: timed out');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
    }
  }
}
