/**
 * Helpers for client-initiated RPC streams: the agent writes compact JSON and does NOT
 * half-close before our reply (P2), so the request is parsed as soon as the bytes form
 * a JSON value; the reply always ends with FIN, or the agent waits forever (P1).
 */
import type { MuxStream } from '../muxado/stream.js';

const MAX_RPC_BYTES = 1024 * 1024;

/** Resolve with the first complete JSON value written on the stream. */
export function readJsonMessage<T>(stream: MuxStream, timeoutMs = 30_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onEnd);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_RPC_BYTES) {
        cleanup();
        reject(new Error('RPC request too large'));
        return;
      }
      try {
        // Decode the whole buffer each time so a UTF-8 sequence split across frames is fine.
        const value = JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as T;
        cleanup();
        // Keep draining so the client's trailing FIN is consumed and the stream can finish.
        stream.resume();
        resolve(value);
      } catch {
        // incomplete: wait for more bytes
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(size > 0 ? 'RPC request is not valid JSON' : 'RPC stream closed before a request arrived'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('timed out waiting for the RPC request'));
    }, timeoutMs);
    timer.unref();
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}

/** Write the reply and FIN. */
export function replyJson(stream: MuxStream, value: unknown): void {
  if (stream.destroyed || stream.writableEnded) return;
  stream.end(Buffer.from(JSON.stringify(value), 'utf8'));
}
