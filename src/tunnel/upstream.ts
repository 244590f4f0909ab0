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
    usageError('bad_upstream', `"${input.replace(/\/\/[^/@]*@/, '//…@')}" is not a local address: expected a port, HOST:PORT or an http(s) URL.`, [
      'Examples: `3000`, `localhost:3000`, `127.0.0.1:8080`, `http://localhost:3000`, `https://localhost:8443`.',
    ]);
  if (validPort(text)) return { display: `http://localhost:${Number(text)}`, addr: `localhost:${Number(text)}` };
  if (/^\d+$/.test(text)) {
    throw usageError('bad_port', `${text} is not a port: ports go from 1 to 65535.`, ['Example: `devtunnel share 3000 --profile sso`.']);
  }
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
    if (url.port !== '' && !validPort(url.port)) {
      throw usageError('bad_port', `${url.port} is not a port: ports go from 1 to 65535.`, [`Example: \`${url.protocol}//localhost:3000\`.`]);
    }
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
      // The whole app is shared; a path here would be silently ignored, so say so instead.
      throw usageError('bad_upstream', `The local URL must not carry a path, query or fragment ("${url.pathname}${url.search}${url.hash}"): the whole app at ${url.protocol}//${url.host} is shared.`, [
        `Pass only the scheme, host and port, e.g. \`${url.protocol}//${url.host}\`; visitors choose the path.`,
      ]);
    }
    const origin = `${url.protocol}//${url.host}`;
    return { display: origin, addr: origin };
  }
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(text);
  if (match && !validPort(match[2]!)) {
    throw usageError('bad_port', `${match[2]} is not a port: ports go from 1 to 65535.`, ['Example: `localhost:3000`.']);
  }
  if (!match) throw fail();
  const host = match[1]!;
  const port = Number(match[2]);
  return { display: `http://${host}:${port}`, addr: `${host}:${port}` };
}
