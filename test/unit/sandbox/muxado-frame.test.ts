import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  FLAG_FIN,
  FLAG_SYN,
  FrameParser,
  FrameType,
  encodeData,
  encodeFrame,
  encodeGoAway,
  encodeRst,
  encodeWndInc,
  type Frame,
  type ParseEvent,
} from '../../../src/sandbox/muxado/frame.js';

const frames = (events: ParseEvent[]): Frame[] => events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));

describe('muxado frame codec', () => {
  it('encodes SYN as 0x2 and FIN as 0x1 in the low nibble (not 0x10)', () => {
    const syn = encodeFrame(FrameType.DATA, FLAG_SYN, 3, Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect([...syn.subarray(0, 8)]).toEqual([0x00, 0x00, 0x04, 0x12, 0x00, 0x00, 0x00, 0x03]);
    const fin = encodeData(5, Buffer.alloc(0), FLAG_FIN);
    expect([...fin]).toEqual([0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x05]);
    expect([...encodeWndInc(5, 0x20)]).toEqual([0, 0, 4, 0x20, 0, 0, 0, 5, 0, 0, 0, 0x20]);
    expect([...encodeRst(7, ErrorCode.FlowControl)]).toEqual([0, 0, 4, 0x00, 0, 0, 0, 7, 0, 0, 0, 3]);
  });

  it('encodes a server GOAWAY with length = 8 + message', () => {
    const g = encodeGoAway(9, ErrorCode.None, 'bye');
    expect([...g.subarray(0, 8)]).toEqual([0, 0, 11, 0x30, 0, 0, 0, 0]);
    expect(g.readUInt32BE(8)).toBe(9);
    expect(g.readUInt32BE(12)).toBe(0);
    expect(g.subarray(16).toString()).toBe('bye');
  });

  it('parses every type and flag, one byte at a time', () => {
    const wire = Buffer.concat([
      encodeFrame(FrameType.DATA, FLAG_SYN, 3, Buffer.from('abcd')),
      encodeData(3, Buffer.from('hello'), FLAG_FIN),
      encodeWndInc(2, 262144),
      encodeRst(4, ErrorCode.StreamClosed),
      encodeData(5, Buffer.alloc(0)),
    ]);
    const parser = new FrameParser();
    const out: Frame[] = [];
    for (const byte of wire) out.push(...frames(parser.push(Buffer.from([byte]))));
    expect(out.map((f) => [f.type, f.flags, f.streamId, f.body.toString('hex')])).toEqual([
      [FrameType.DATA, FLAG_SYN, 3, Buffer.from('abcd').toString('hex')],
      [FrameType.DATA, FLAG_FIN, 3, Buffer.from('hello').toString('hex')],
      [FrameType.WNDINC, 0, 2, '00040000'],
      [FrameType.RST, 0, 4, '00000004'],
      [FrameType.DATA, 0, 5, ''],
    ]);
  });

  it('parses coalesced frames and keeps a partial tail for the next chunk', () => {
    const a = encodeData(3, Buffer.from('one'));
    const b = encodeData(5, Buffer.alloc(70_000, 7));
    const wire = Buffer.concat([a, b]);
    const parser = new FrameParser();
    const first = frames(parser.push(wire.subarray(0, a.length + 100)));
    expect(first).toHaveLength(1);
    expect(first[0]!.body.toString()).toBe('one');
    const rest = frames(parser.push(wire.subarray(a.length + 100)));
    expect(rest).toHaveLength(1);
    expect(rest[0]!.body.equals(Buffer.alloc(70_000, 7))).toBe(true);
  });

  it('masks the reserved top bit of the stream id', () => {
    const f = encodeData(3, Buffer.from('x'));
    f[4] = 0x80;
    const [frame] = frames(new FrameParser().push(f));
    expect(frame!.streamId).toBe(3);
  });

  it('stops parsing for good at a client GOAWAY (its length field is 8 bytes short)', () => {
    const parser = new FrameParser();
    // What the SDK really sends for GOAWAY("invalid frame"): length 13 but 21 body bytes.
    const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), Buffer.from('invalid frame')]);
    const goaway = Buffer.concat([Buffer.from([0, 0, 0x0d, 0x30, 0, 0, 0, 0]), body]);
    const events = parser.push(Buffer.concat([encodeData(3, Buffer.from('before')), goaway, encodeData(3, Buffer.from('after'))]));
    expect(events.map((e) => e.kind)).toEqual(['frame', 'goaway']);
    expect(parser.isStopped).toBe(true);
    expect(parser.push(encodeData(3, Buffer.from('later')))).toEqual([]);
  });

  it('reports an unknown frame type or a bad RST/WNDINC length as an error and stops', () => {
    const bad = encodeFrame(FrameType.DATA, 0, 3, Buffer.from('x'));
    bad[3] = 0x40;
    const p1 = new FrameParser();
    expect(p1.push(bad)[0]).toMatchObject({ kind: 'error' });
    expect(p1.isStopped).toBe(true);
    const p2 = new FrameParser();
    expect(p2.push(encodeFrame(FrameType.RST, 0, 3, Buffer.alloc(3)))[0]).toMatchObject({ kind: 'error' });
  });
});
