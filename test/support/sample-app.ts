// A real local HTTP app (with a WebSocket echo) that tunnels forward to. It records
// every request it sees, so tests can prove what did — and did not — reach it.
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyLength: number;
  bodySha256: string;
}

export interface SampleApp {
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startSampleApp(host = '127.0.0.1'): Promise<SampleApp> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    req.on('end', () => {
      const record = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyLength: length, bodySha256: hash.digest('hex') };
      seen.push(record);
      if (req.url === '/teapot') {
        res.writeHead(418, { 'content-type': 'text/plain', 'x-sample': 'yes' });
        res.end("I'm a teapot");
        return;
      }
      if (req.url?.startsWith('/big/')) {
        const size = Number(req.url.slice(5));
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 7);
        let sent = 0;
        const pump = () => {
          while (sent < size) {
            const n = Math.min(chunk.length, size - sent);
            sent += n;
            if (!res.write(chunk.subarray(0, n))) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-sample': 'yes' });
      res.end(JSON.stringify({ hello: 'from the local app', method: record.method, url: record.url, bodyLength: length, bodySha256: record.bodySha256 }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise((resolve) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
