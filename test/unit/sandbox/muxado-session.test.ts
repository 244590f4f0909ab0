import { describe, expect, it } from 'vitest';
import { DEFAULT_WINDOW, ErrorCode, FLAG_FIN, FLAG_SYN, FrameType, encodeRst } from '../../../src/sandbox/muxado/frame.js';
import { MuxSession } from '../../../src/sandbox/muxado/session.js';
import { StreamResetError, type MuxStream } from '../../../src/sandbox/muxado/stream.js';
import { FakeMuxClient, duplexPair } from './helpers.js';

function setup() {
  const [serverEnd, clientEnd] = duplexPair();
  const session = new MuxSession(serverEnd);
  const client = new FakeMuxClient(clientEnd);
  const accepted: MuxStream[] = [];
  session.on('stream', (s) => accepted.push(s));
  return { session, client, accepted };
}

describe('muxado session', () => {
  it('announces client streams once their 4-byte type has arrived, even split across frames', async () => {
    const { client, accepted } = setup();
    const id = 3;
    // type split over two frames, then payload in the same frame as the type's tail
    client.socket.write(Buffer.concat([Buffer.from([0, 0, 2, 0x12, 0, 0, 0, id]), Buffer.from([0, 0])]));
    client.send(id, Buffer.concat([Buffer.from([0, 1]), Buffer.from('{"a":1}')]));
    const stream = await client.until(() => accepted[0]);
    expect(stream.streamType).toBe(1);
    const data = await new Promise<string>((r) => stream.once('data', (c: Buffer) => r(c.toString())));
    expect(data).toBe('{"a":1}');
  });

  it('opens server streams with even ids from 2 and the type in the SYN frame', async () => {
    const { session, client } = setup();
    const a = session.openStream(3, Buffer.from('hdr'));
    const b = session.openStream(5);
    expect([a.id, b.id]).toEqual([2, 4]);
    const syn = await client.until(() => client.frames.find((f) => f.streamId === 2));
    expect(syn.flags).toBe(FLAG_SYN);
    expect(syn.body.toString('hex')).toBe('00000003' + Buffer.from('hdr').toString('hex'));
  });

  it('never sends beyond the client credit, and resumes on WNDINC', async () => {
    const { session, client } = setup();
    const stream = session.openStream(3);
    const payload = Buffer.alloc(DEFAULT_WINDOW + 100_000, 1);
    let written = false;
    stream.write(payload, () => (written = true));
    await client.until(() => client.dataOn(2).length >= DEFAULT_WINDOW);
    await new Promise((r) => setTimeout(r, 50));
    // 4 type bytes + body: exactly one window in flight
    expect(client.dataOn(2).length).toBe(DEFAULT_WINDOW);
    expect(written).toBe(false);
    expect(stream.availableSendWindow).toBe(0);
    client.credit(2, 50_000);
    await client.until(() => client.dataOn(2).length === DEFAULT_WINDOW + 50_000);
    expect(written).toBe(false);
    client.credit(2, 100_000);
    await client.until(() => written);
    expect(client.dataOn(2).length).toBe(payload.length + 4);
  });

  it('credits received bytes with WNDINC as they are consumed, not before', async () => {
    const { client, accepted } = setup();
    const id = client.open(1);
    const stream = await client.until(() => accepted[0]);
    stream.pause();
    client.send(id, Buffer.alloc(100_000, 2));
    client.send(id, Buffer.alloc(100_000, 3));
    await new Promise((r) => setTimeout(r, 50));
    const credited = () =>
      client.frames.filter((f) => f.streamId === id && f.type === FrameType.WNDINC).reduce((n, f) => n + f.body.readUInt32BE(0), 0);
    // type bytes are credited at once; the paused reader holds the rest back (within its buffer)
    expect(credited()).toBeLessThan(200_004);
    let got = 0;
    stream.on('data', (c: Buffer) => (got += c.length));
    stream.resume();
    await client.until(() => credited() === 200_004);
    expect(got).toBe(200_000);
  });

  it('relays FIN both ways and forgets finished streams', async () => {
    const { session, client, accepted } = setup();
    const id = client.open(1);
    const stream = await client.until(() => accepted[0]);
    client.send(id, 'req', true);
    let ended = false;
    stream.on('data', () => {});
    stream.on('end', () => (ended = true));
    await client.until(() => ended);
    stream.end('resp');
    await client.until(() => client.finOn(id));
    expect(client.dataOn(id).toString()).toBe('resp');
    expect(session.streamCount).toBe(0);
  });

  it('turns a client RST into a stream error and sends no RST back', async () => {
    const { client, accepted } = setup();
    const id = client.open(1);
    const stream = await client.until(() => accepted[0]);
    const err = new Promise<Error>((r) => stream.once('error', r));
    client.socket.write(encodeRst(id, ErrorCode.FlowControl));
    const e = await err;
    expect(e).toBeInstanceOf(StreamResetError);
    expect((e as StreamResetError).code).toBe(ErrorCode.FlowControl);
    await new Promise((r) => setTimeout(r, 20));
    expect(client.frames.some((f) => f.type === FrameType.RST)).toBe(false);
  });

  it('sends RST when a stream is destroyed with an error, FIN when destroyed cleanly', async () => {
    const { session, client } = setup();
    const a = session.openStream(3);
    const b = session.openStream(3);
    a.destroy(new Error('boom'));
    b.destroy();
    await client.until(() => client.frames.some((f) => f.streamId === 2 && f.type === FrameType.RST) && client.finOn(4));
  });

  it('ignores WNDINC/RST/FIN for unknown streams', async () => {
    const { session, client } = setup();
    client.credit(99, 10);
    client.socket.write(encodeRst(97, 4));
    client.send(95, '', true);
    await new Promise((r) => setTimeout(r, 20));
    expect(session.isClosed).toBe(false);
    expect(client.frames).toHaveLength(0);
  });

  it('closes on a client GOAWAY and ignores what follows', async () => {
    const { session, client } = setup();
    const closed = new Promise<string>((r) => session.once('close', r));
    client.socket.write(Buffer.from([0, 0, 0, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(await closed).toMatch(/GOAWAY/);
    expect(session.isClosed).toBe(true);
  });

  it('sends GOAWAY with the last client stream id, then closes', async () => {
    const { session, client } = setup();
    client.open(0xffffffff);
    client.open(0);
    await new Promise((r) => setTimeout(r, 10));
    session.goAway(ErrorCode.None, 'bye', 20);
    const g = await client.until(() => client.frames.find((f) => f.type === FrameType.GOAWAY));
    expect(g.streamId).toBe(0);
    await new Promise((r) => session.once('close', r));
  });

  it('errors every open stream when the transport closes', async () => {
    const { session, client } = setup();
    const s = session.openStream(3);
    const err = new Promise<Error>((r) => s.once('error', r));
    client.socket.end(); // peer EOF
    expect((await err).message).toMatch(/session closed/);
    expect(session.isClosed).toBe(true);
  });

  it('does not FIN twice when both sides end', async () => {
    const { client, accepted } = setup();
    const id = client.open(1);
    const stream = await client.until(() => accepted[0]);
    stream.resume();
    stream.end();
    client.send(id, '', true);
    await new Promise((r) => setTimeout(r, 30));
    expect(client.frames.filter((f) => f.streamId === id && f.flags & FLAG_FIN)).toHaveLength(1);
  });
});

describe('ACK nudge for the agent without TCP_NODELAY', () => {
  const heartbeat = 3;
  const openHeartbeat = (client: FakeMuxClient) =>
    client.socket.write(Buffer.concat([Buffer.from([0, 0, 4, 0x12, 0, 0, 0, heartbeat]), Buffer.from([0xff, 0xff, 0xff, 0xff])]));
  const zeroWndIncs = (client: FakeMuxClient) =>
    client.frames.filter((f) => f.type === FrameType.WNDINC && f.streamId === heartbeat && f.body.readUInt32BE(0) === 0);

  it('answers a batch of frames that got no reply with a WNDINC(0) on the heartbeat stream', async () => {
    const { session, client, accepted } = setup();
    openHeartbeat(client);
    await client.until(() => accepted[0]);
    // A WNDINC from the agent needs no answer from us: without the nudge nothing would be sent.
    const stream = session.openStream(3);
    await client.until(() => client.frames.find((f) => f.streamId === stream.id));
    client.credit(stream.id, 10);
    await client.until(() => zeroWndIncs(client).length > 0);
    expect(zeroWndIncs(client)[0]!.body.length).toBe(4);
  });

  it('sends no nudge when the batch already produced a reply', async () => {
    const { session, client, accepted } = setup();
    openHeartbeat(client);
    await client.until(() => accepted[0]);
    const before = zeroWndIncs(client).length;
    const stream = session.openStream(3);
    stream.on('data', () => undefined);
    // DATA that the consumer takes at once is credited with a real WNDINC in the same turn.
    client.send(stream.id, Buffer.from('hello'));
    await client.until(() => client.frames.some((f) => f.type === FrameType.WNDINC && f.streamId === stream.id));
    await new Promise((r) => setImmediate(r));
    expect(zeroWndIncs(client).length).toBe(before);
  });
});
