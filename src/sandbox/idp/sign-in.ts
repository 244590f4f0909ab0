/**
 * Browser-less sign-in through the sandbox's stub identity provider, for scripts and tests:
 * request the protected URL, follow the edge's redirect to the IdP, read its sign-in form,
 * submit it with the chosen email, follow the callback, and hand back the endpoint's session
 * cookie. Plain HTTP(S) with Node's clients; hosts under `.localhost` are dialled on 127.0.0.1
 * (with the real name for TLS and Host), as browsers do.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface SignInOptions {
  /** The protected URL, e.g. `https://app.dev.devtunnel.localhost:8443/` (its path is where you land). */
  url: string;
  /** Who to sign in as. */
  email: string;
  /** The sandbox CA (PEM file) to trust for https URLs. */
  caPath?: string;
  /** Press this quick-pick button instead of typing (same outcome; exercises the other form path). */
  usePick?: boolean;
}

export interface SignInResult {
  /** `name=value` of the endpoint's session cookie: send it as the `Cookie` header. */
  cookie: string;
  /** Where the edge sent the browser after signing in (the original path). */
  location: string;
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sign in as `email` and return the session cookie for the URL's endpoint. Throws with what went wrong. */
export async function signInWithStubIdp(opts: SignInOptions): Promise<SignInResult> {
  const ca = opts.caPath ? readFileSync(opts.caPath) : undefined;
  const jar = new Map<string, Map<string, string>>(); // host → cookies
  const send = async (method: string, url: URL, body?: string): Promise<Response> => {
    const cookies = jar.get(url.host);
    const headers: Record<string, string> = { host: url.host, accept: 'text/html' };
    if (cookies?.size) headers['cookie'] = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const res = await request(method, url, headers, body, ca);
    for (const line of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq < 0) continue;
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      const hostJar = jar.get(url.host) ?? new Map<string, string>();
      if (expired) hostJar.delete(name);
      else hostJar.set(name, value);
      jar.set(url.host, hostJar);
    }
    return res;
  };

  const start = new URL(opts.url);
  const first = await send('GET', start);
  if (first.status !== 302 || !first.headers.location) {
    throw new Error(`expected the edge to redirect ${start.href} to sign-in, got ${first.status}: ${first.body.slice(0, 200)}`);
  }
  const authorize = new URL(first.headers.location, start);
  const page = await send('GET', authorize);
  if (page.status !== 200) throw new Error(`the identity provider refused the sign-in request (${page.status}): ${textOf(page.body)}`);
  const form = parseForm(page.body);
  if (opts.usePick) form.fields.set('pick', opts.email);
  else form.fields.set('email', opts.email);
  const submitted = await send('POST', new URL(form.action, authorize), new URLSearchParams([...form.fields]).toString());
  if (submitted.status !== 302 || !submitted.headers.location) throw new Error(`the identity provider did not accept the sign-in (${submitted.status}): ${textOf(submitted.body)}`);
  const callback = new URL(submitted.headers.location, authorize);
  const landed = await send('GET', callback);
  if (landed.status !== 302 || !landed.headers.location) throw new Error(`the edge did not complete the sign-in (${landed.status}): ${textOf(landed.body)}`);
  const session = [...(jar.get(start.host) ?? new Map<string, string>())].find(([name]) => name.startsWith('ngrok_session'));
  if (!session) throw new Error('the edge set no session cookie');
  return { cookie: `${session[0]}=${session[1]}`, location: landed.headers.location };
}

function request(method: string, url: URL, headers: Record<string, string>, body: string | undefined, ca: Buffer | undefined): Promise<Response> {
  const isHttps = url.protocol === 'https:';
  const local = url.hostname === 'localhost' || url.hostname.endsWith('.localhost');
  return new Promise((resolve, reject) => {
    const req = (isHttps ? https : http).request(
      {
        method,
        host: local ? '127.0.0.1' : url.hostname,
        port: url.port || (isHttps ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        headers,
        agent: false,
        ...(isHttps ? { servername: url.hostname, ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${url.href} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The sign-in form's action and hidden fields. */
function parseForm(html: string): { action: string; fields: Map<string, string> } {
  const formTag = /<form\b[^>]*\baction="([^"]*)"/i.exec(html);
  if (!formTag) throw new Error('the identity provider page has no sign-in form');
  const fields = new Map<string, string>();
  for (const m of html.matchAll(/<input\b[^>]*>/gi)) {
    const tag = m[0];
    if (!/\btype="hidden"/i.test(tag)) continue;
    const name = /\bname="([^"]*)"/i.exec(tag)?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(tag)?.[1] ?? '';
    if (name) fields.set(unescape(name), unescape(value));
  }
  return { action: unescape(formTag[1]!), fields };
}

function unescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

function textOf(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}
