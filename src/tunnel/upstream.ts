import { usageError } from '../errors.js';

/** The local app a tunnel forwards to, as the user typed it and as the SDK wants it. */
export interface Upstream {
  /** What to show people: `http://localhost:3000`. */
  display: string;
  /** What `forward({addr})` takes. */
  addr: string;
}

const validPort = (text: string) => /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;

/**
 * Accepts `3000`, `host:3000`, `[::1]:3000` or an http(s) URL. Anything else is a usage
 * error that shows the accepted forms, so a typo never starts a tunnel to the wrong place.
 */
export function parseUpstream(input: string): Upstream {
  const text = input.trim();
  const fail = () =>
    usageError('bad_upstream', `"${input}" is not a local address: expected a port, HOST:PORT or an http(s) URL.`, [
      'Examples: `3000`, `localhost:3000`, `127.0.0.1:8080`, `http://localhost:3000`, `https://localhost:8443`.',
    ]);
  if (validPort(text)) return { display: `http://localhost:${Number(text)}`, addr: `localhost:${Number(text)}` };
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw fail();
    }
    if (url.username || url.password) {
      throw usageError('bad_upstream', 'The local URL must not carry a user name or password.', [
        'Pass only the scheme, host and port, e.g. `http://localhost:3000`.',
      ]);
    }
    if (url.port !== '' && !validPort(url.port)) throw fail();
    const origin = `${url.protocol}//${url.host}`;
    return { display: origin, addr: origin };
  }
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(text);
  if (!match || !validPort(match[2]!)) throw fail();
  const host = match[1]!;
  const port = Number(match[2]);
  return { display: `http://${host}:${port}`, addr: `${host}:${port}` };
}
