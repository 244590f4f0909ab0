/**
 * muxado frame codec (see docs/agent-protocol.md §2).
 *
 * Header: uint24 length | type (high nibble) + flags (low nibble) | uint32 stream id.
 * Flags are FIN=0x1 and SYN=0x2 — muxado's PROTOCOL.md says SYN=0x10, which is wrong
 * for the Rust implementation inside @ngrok/ngrok.
 */

export const FrameType = { RST: 0, DATA: 1, WNDINC: 2, GOAWAY: 3 } as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

export const FLAG_FIN = 0x1;
export const FLAG_SYN = 0x2;

export const HEADER_SIZE = 8;
export const MAX_FRAME_LENGTH = 0xffffff;
/** Per-stream window in each direction; not negotiated, both sides assume it. */
export const DEFAULT_WINDOW = 262_144;

/** muxado error codes carried by RST and GOAWAY. */
export const ErrorCode = {
  None: 0x00,
  Protocol: 0x01,
  Internal: 0x02,
  FlowControl: 0x03,
  StreamClosed: 0x04,
  StreamRefused: 0x05,
  StreamCancelled: 0x06,
  StreamReset: 0x07,
  FrameSizeError: 0x08,
  AcceptQueueFull: 0x09,
  EnhanceYourCalm: 0x0a,
  RemoteGoneAway: 0x0b,
  StreamsExhausted: 0x0c,
  WriteTimeout: 0x0d,
  SessionClosed: 0x0e,
  PeerEOF: 0x0f,
} as const;

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  body: Buffer;
}

export function encodeHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  if (length < 0 || length > MAX_FRAME_LENGTH) throw new RangeError(`frame length ${length} out of range`);
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  header.writeUInt32BE(((length << 8) | ((type & 0xf) << 4) | (flags & 0xf)) >>> 0, 0);
  header.writeUInt32BE(streamId & 0x7fffffff, 4);
  return header;
}

export function encodeFrame(type: number, flags: number, streamId: number, body: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([encodeHeader(body.length, type, flags, streamId), body]);
}

export function encodeData(streamId: number, payload: Buffer, flags = 0): Buffer {
  return encodeFrame(FrameType.DATA, flags, streamId, payload);
}

export function encodeWndInc(streamId: number, increment: number): Buffer {
  const body = Buffer.allocUnsafe(4);
  body.writeUInt32BE(increment & 0x7fffffff, 0);
  return encodeFrame(FrameType.WNDINC, 0, streamId, body);
}

export function encodeRst(streamId: number, code: number): Buffer {
  const body = Buffer.allocUnsafe(4);
  body.writeUInt32BE(code >>> 0, 0);
  return encodeFrame(FrameType.RST, 0, streamId, body);
}

/** Server GOAWAY: unlike the client's, the length correctly covers 8 + message bytes. */
export function encodeGoAway(lastStreamId: number, code: number, message = ''): Buffer {
  const msg = Buffer.from(message, 'utf8');
  const body = Buffer.allocUnsafe(8 + msg.length);
  body.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
  body.writeUInt32BE(code >>> 0, 4);
  msg.copy(body, 8);
  return encodeFrame(FrameType.GOAWAY, 0, 0, body);
}

export type ParseEvent =
  | { kind: 'frame'; frame: Frame }
  /** The client sent GOAWAY; its length field is 8 bytes short, so parsing stops for good. */
  | { kind: 'goaway'; streamId: number }
  | { kind: 'error'; message: string };

/**
 * Incremental parser: feed it socket chunks of any size (split or coalesced frames) and
 * it yields whole frames. After a GOAWAY or a protocol error it yields nothing more.
 */
export class FrameParser {
  private buffered: Buffer[] = [];
  private bufferedLength = 0;
  private stopped = false;

  get isStopped(): boolean {
    return this.stopped;
  }

  push(chunk: Buffer): ParseEvent[] {
    if (this.stopped) return [];
    this.buffered.push(chunk);
    this.bufferedLength += chunk.length;
    const events: ParseEvent[] = [];
    let data = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered, this.bufferedLength);
    let offset = 0;
    while (data.length - offset >= HEADER_SIZE) {
      const word = data.readUInt32BE(offset);
      const length = word >>> 8;
      const type = (word >>> 4) & 0xf;
      const flags = word & 0xf;
      const streamId = data.readUInt32BE(offset + 4) & 0x7fffffff;
      if (type === FrameType.GOAWAY) {
        this.stop();
        events.push({ kind: 'goaway', streamId });
        return events;
      }
      if (type > FrameType.GOAWAY) {
        this.stop();
        events.push({ kind: 'error', message: `invalid frame type ${type}` });
        return events;
      }
      if ((type === FrameType.RST || type === FrameType.WNDINC) && length !== 4) {
        this.stop();
        events.push({ kind: 'error', message: `frame type ${type} must have a 4-byte body, got ${length}` });
        return events;
      }
      if (data.length - offset < HEADER_SIZE + length) break;
      // Copy the body so callers may keep it after the shared buffer is reused.
      const body = Buffer.from(data.subarray(offset + HEADER_SIZE, offset + HEADER_SIZE + length));
      events.push({ kind: 'frame', frame: { type, flags, streamId, body } });
      offset += HEADER_SIZE + length;
    }
    data = data.subarray(offset);
    this.buffered = data.length > 0 ? [data] : [];
    this.bufferedLength = data.length;
    return events;
  }

  private stop(): void {
    this.stopped = true;
    this.buffered = [];
    this.bufferedLength = 0;
  }
}
