// Requests to the sandbox's public ingress, addressed by endpoint Host (the way a browser
// resolving *.localhost to loopback would), over HTTP or HTTPS with the sandbox CA.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';

export interface PublicResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function publicRequest(opts: {
  url: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  caPath?: string;
  localAddress?: string;
}): Promise<PublicResponse> {
  const target = new URL(opts.url);
  const isHttps = target.protocol === 'https:';
  const lib = isHttps ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: '127.0.0.1',
        port: Number(target.port),
        method: opts.method ?? 'GET',
        path: opts.path ?? '/',
        servername: isHttps ? target.hostname : undefined,
        ca: isHttps && opts.caPath ? readFileSync(opts.caPath) : undefined,
        headers: { host: target.host, ...opts.headers },
        agent: false,
        localAddress: opts.localAddress,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error('public request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}
