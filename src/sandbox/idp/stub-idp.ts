/**
 * The sandbox's stub identity provider: one OpenID Connect provider that stands in for every
 * `openid-connect` issuer and every `oauth` provider (github, google, …) a sandbox policy names.
 * The visitor signs in by typing (or picking) the email to be; there are no passwords.
 *
 * Served by the public ingress on `idp.<domain>`: discovery, authorize (an HTML form), token
 * (ES256 ID tokens signed with jose), JWKS, userinfo. What it checks, like a real IdP:
 * the client id and secret, the redirect URI (only the edge's own callback on a bound
 * endpoint host), response_type, state and nonce present, single-use short-lived codes
 * bound to client and redirect URI.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface StubIdpOptions {
  /** This provider's issuer URL, e.g. `https://idp.devtunnel.localhost:8443` (no trailing slash). */
  issuer: string;
  /** Whether a redirect_uri is the edge's callback on an endpoint it serves. */
  redirectAllowed: (uri: URL) => boolean;
  /** Emails offered as one-click choices on the sign-in page. */
  quickPicks?: readonly string[];
  now?: () => Date;
}

export interface StubIdpClient {
  clientId: string;
  clientSecret: string;
}

export interface TokenSet {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  id_token: string;
  scope: string;
}

export type TokenExchange = { ok: true; tokens: TokenSet } | { ok: false; status: number; error: string; description: string };

/** The path of the edge's own OAuth callback on every endpoint host. */
export const EDGE_CALLBACK_PATH = '/ngrok/oauth2/callback';

export const DEFAULT_QUICK_PICKS: readonly string[] = ['dev@example.com', 'alice@example.com', 'contractor@partner.test', 'eve@evil.test'];

const PROVIDER_NAMES: Record<string, string> = {
  amazon: 'Amazon',
  facebook: 'Facebook',
  github: 'GitHub',
  gitlab: 'GitLab',
  google: 'Google',
  linkedin: 'LinkedIn',
  microsoft: 'Microsoft',
  twitch: 'Twitch',
};

interface PendingCode {
  clientId: string;
  redirectUri: string;
  nonce: string;
  issuer: string;
  email: string;
  scope: string;
  provider: string;
  expiresAt: number;
}

interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  state: string;
  nonce: string;
  scope: string;
  provider: string;
  issuer: string;
}

const CODE_TTL_MS = 60_000;
const TOKEN_TTL_S = 3600;
const EMAIL = /^[^\s@<>"'`]+@[^\s@<>"'`]+\.[^\s@<>"'`]+$/;

export class StubIdp {
  private readonly clients = new Map<string, string>();
  private readonly codes = new Map<string, PendingCode>();
  private readonly accessTokens = new Map<string, { claims: Record<string, unknown>; expiresAt: number }>();
  private readonly jwks: ReturnType<typeof createLocalJWKSet>;
  private readonly now: () => Date;

  private constructor(
    private readonly opts: StubIdpOptions,
    private readonly privateKey: CryptoKey,
    private readonly publicJwk: JWK,
  ) {
    this.jwks = createLocalJWKSet({ keys: [publicJwk] });
    this.now = opts.now ?? (() => new Date());
  }

  /** A provider with a fresh ES256 signing key. */
  static async create(opts: StubIdpOptions): Promise<StubIdp> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url').slice(0, 16);
    return new StubIdp({ ...opts, issuer: opts.issuer.replace(/\/+$/, '') }, privateKey, { ...jwk, kid, alg: 'ES256', use: 'sig' });
  }

  get issuer(): string {
    return this.opts.issuer;
  }

  /** Register (or replace) a client the IdP accepts. */
  registerClient(client: StubIdpClient): void {
    this.clients.set(client.clientId, client.clientSecret);
  }

  hasClient(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  /** The public signing keys, as served at /jwks. */
  publicKeys(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** The URL the edge sends a visitor to. `provider` is shown on the page; `issuer` lets the stub act as another issuer. */
  authorizeUrl(p: { clientId: string; redirectUri: string; state: string; nonce: string; scope: string; provider?: string; issuer?: string }): string {
    const url = new URL(`${this.issuer}/authorize`);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', p.clientId);
    url.searchParams.set('redirect_uri', p.redirectUri);
    url.searchParams.set('scope', p.scope);
    url.searchParams.set('state', p.state);
    url.searchParams.set('nonce', p.nonce);
    if (p.provider) url.searchParams.set('provider', p.provider);
    if (p.issuer && p.issuer.replace(/\/+$/, '') !== this.issuer) url.searchParams.set('issuer', p.issuer);
    return url.toString();
  }

  /** The token endpoint's logic (also reachable over HTTP at /token). */
  async exchangeCode(p: { code: string; clientId: string; clientSecret: string; redirectUri: string }): Promise<TokenExchange> {
    if (!this.clientAuthenticates(p.clientId, p.clientSecret)) return { ok: false, status: 401, error: 'invalid_client', description: 'unknown client or wrong client secret' };
    const pending = this.codes.get(p.code);
    this.codes.delete(p.code); // single use, whatever happens next
    if (!pending || pending.expiresAt < this.now().getTime()) return { ok: false, status: 400, error: 'invalid_grant', description: 'unknown, used or expired code' };
    if (pending.clientId !== p.clientId) return { ok: false, status: 400, error: 'invalid_grant', description: 'the code was issued to another client' };
    if (pending.redirectUri !== p.redirectUri) return { ok: false, status: 400, error: 'invalid_grant', description: 'redirect_uri does not match the authorization request' };
    const claims = identityClaims(pending.email, pending.provider);
    const idToken = await new SignJWT({ ...claims, nonce: pending.nonce })
      .setProtectedHeader({ alg: 'ES256', kid: this.publicJwk.kid!, typ: 'JWT' })
      .setIssuer(pending.issuer)
      .setAudience(pending.clientId)
      .setSubject(String(claims.sub))
      .setIssuedAt(Math.floor(this.now().getTime() / 1000))
      .setExpirationTime(Math.floor(this.now().getTime() / 1000) + TOKEN_TTL_S)
      .sign(this.privateKey);
    const accessToken = randomBytes(24).toString('base64url');
    this.accessTokens.set(accessToken, { claims, expiresAt: this.now().getTime() + TOKEN_TTL_S * 1000 });
    return { ok: true, tokens: { access_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_TTL_S, id_token: idToken, scope: pending.scope } };
  }

  /** Verify an ID token this IdP issued: signature, issuer, audience, expiry and nonce. Throws when any fails. */
  async verifyIdToken(token: string, expect: { issuer: string; audience: string; nonce: string }): Promise<JWTPayload & { email?: string; name?: string }> {
    const { payload } = await jwtVerify(token, this.jwks, {
      issuer: expect.issuer.replace(/\/+$/, ''),
      audience: expect.audience,
      algorithms: ['ES256'],
      currentDate: this.now(),
      requiredClaims: ['exp', 'iat', 'sub', 'nonce'],
    });
    if (typeof payload['nonce'] !== 'string' || !safeEqual(payload['nonce'], expect.nonce)) throw new Error('the ID token nonce does not match the sign-in attempt');
    return payload as JWTPayload & { email?: string; name?: string };
  }

  /** HTTP handler for `idp.<domain>`. */
  readonly handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void this.route(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: err.message });
      else res.destroy();
    });
  };

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    const method = req.method ?? 'GET';
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        return sendJson(res, 200, this.discovery());
      case '/jwks':
        return sendJson(res, 200, this.publicKeys());
      case '/authorize':
        if (method === 'GET') return this.authorizePage(url.searchParams, res);
        if (method === 'POST') return this.authorizeSubmit(new URLSearchParams(await readBody(req)), res);
        return sendJson(res, 405, { error: 'method_not_allowed' });
      case '/token': {
        if (method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' });
        const form = new URLSearchParams(await readBody(req));
        if (form.get('grant_type') !== 'authorization_code') return sendJson(res, 400, { error: 'unsupported_grant_type' });
        const basic = basicAuth(req.headers.authorization);
        const result = await this.exchangeCode({
          code: form.get('code') ?? '',
          clientId: basic?.user ?? form.get('client_id') ?? '',
          clientSecret: basic?.password ?? form.get('client_secret') ?? '',
          redirectUri: form.get('redirect_uri') ?? '',
        });
        if (!result.ok) return sendJson(res, result.status, { error: result.error, error_description: result.description });
        return sendJson(res, 200, result.tokens, { 'cache-control': 'no-store' });
      }
      case '/userinfo': {
        const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
        const entry = token ? this.accessTokens.get(token) : undefined;
        if (!entry || entry.expiresAt < this.now().getTime()) {
          res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
          return sendJson(res, 401, { error: 'invalid_token' });
        }
        return sendJson(res, 200, entry.claims);
      }
      case '/':
        return sendHtml(res, 200, page('devtunnel sandbox identity provider', `<p>This is the sandbox's stub identity provider (issuer <code>${esc(this.issuer)}</code>). Apps protected by a sign-in profile send you here.</p>`));
      default:
        return sendJson(res, 404, { error: 'not_found' });
    }
  }

  private discovery(): Record<string, unknown> {
    const i = this.issuer;
    return {
      issuer: i,
      authorization_endpoint: `${i}/authorize`,
      token_endpoint: `${i}/token`,
      userinfo_endpoint: `${i}/userinfo`,
      jwks_uri: `${i}/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      scopes_supported: ['openid', 'email', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      claims_supported: ['sub', 'email', 'email_verified', 'name', 'preferred_username', 'nonce'],
    };
  }

  /** Checks shared by the page and its form submission. Errors before redirect_uri is trusted are shown, never redirected. */
  private checkAuthorize(q: URLSearchParams): { ok: true; params: AuthorizeParams } | { ok: false; status: number; message: string; redirect?: string } {
    const clientId = q.get('client_id') ?? '';
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!this.clients.has(clientId)) return { ok: false, status: 400, message: `Unknown client "${clientId}". The sandbox IdP only knows clients the sandbox registered.` };
    let redirect: URL;
    try {
      redirect = new URL(redirectUri);
    } catch {
      return { ok: false, status: 400, message: 'redirect_uri is missing or not a URL.' };
    }
    if (redirect.pathname !== EDGE_CALLBACK_PATH || redirect.search || redirect.hash || redirect.username || redirect.password || !this.opts.redirectAllowed(redirect)) {
      return { ok: false, status: 400, message: `redirect_uri ${redirectUri} is not the edge's callback on an endpoint of this sandbox.` };
    }
    const state = q.get('state') ?? '';
    const toClient = (error: string, description: string) => {
      const u = new URL(redirectUri);
      u.searchParams.set('error', error);
      u.searchParams.set('error_description', description);
      if (state) u.searchParams.set('state', state);
      return { ok: false as const, status: 302, message: description, redirect: u.toString() };
    };
    if (q.get('response_type') !== 'code') return toClient('unsupported_response_type', 'only response_type=code is supported');
    if (!state) return toClient('invalid_request', 'state is required');
    const nonce = q.get('nonce') ?? '';
    if (!nonce) return toClient('invalid_request', 'nonce is required');
    const scope = q.get('scope') ?? 'openid';
    const issuer = (q.get('issuer') ?? this.issuer).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]/.test(issuer)) return toClient('invalid_request', 'issuer must be an http(s) URL');
    return { ok: true, params: { clientId, redirectUri, state, nonce, scope, provider: q.get('provider') ?? '', issuer } };
  }

  private authorizePage(q: URLSearchParams, res: http.ServerResponse): void {
    const checked = this.checkAuthorize(q);
    if (!checked.ok) return failAuthorize(res, checked);
    const p = checked.params;
    const app = new URL(p.redirectUri).host;
    const who = p.provider ? `${PROVIDER_NAMES[p.provider] ?? p.provider} (stand-in)` : p.issuer === this.issuer ? 'the sandbox identity provider' : `${p.issuer} (stand-in)`;
    const hidden = (['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'provider', 'issuer'] as const)
      .map((name) => [name, name === 'response_type' ? 'code' : name === 'client_id' ? p.clientId : name === 'redirect_uri' ? p.redirectUri : (p as unknown as Record<string, string>)[name] ?? ''] as const)
      .filter(([name, value]) => value !== '' && !(name === 'issuer' && value === this.issuer))
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${esc(value)}">`)
      .join('\n      ');
    const picks = (this.opts.quickPicks ?? DEFAULT_QUICK_PICKS)
      .map((email) => `<button type="submit" name="pick" value="${esc(email)}" formnovalidate>${esc(email)}</button>`)
      .join('\n        ');
    const body = `<h1>Sign in with ${esc(who)}</h1>
    <p><strong>${esc(app)}</strong> asks who you are. This is the devtunnel sandbox: type any email to sign in as that person.</p>
    <form method="post" action="/authorize">
      ${hidden}
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="email" required autofocus>
      <button type="submit" id="sign-in">Sign in</button>
      <p>Or pick a demo account:</p>
      <p class="picks">
        ${picks}
      </p>
      <p><button type="submit" name="cancel" value="1" formnovalidate class="secondary">Cancel</button></p>
    </form>`;
    sendHtml(res, 200, page(`Sign in — ${who}`, body));
  }

  private authorizeSubmit(form: URLSearchParams, res: http.ServerResponse): void {
    const checked = this.checkAuthorize(form);
    if (!checked.ok) return failAuthorize(res, checked);
    const p = checked.params;
    const back = new URL(p.redirectUri);
    back.searchParams.set('state', p.state);
    if (form.get('cancel')) {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'the visitor cancelled the sign-in');
      return redirect(res, back.toString());
    }
    const email = (form.get('pick') || form.get('email') || '').trim();
    if (!EMAIL.test(email) || email.length > 254) {
      return sendHtml(res, 400, page('Sign-in failed', `<p>"${esc(email)}" is not an email address. Go back and try again.</p>`));
    }
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, { clientId: p.clientId, redirectUri: p.redirectUri, nonce: p.nonce, issuer: p.issuer, email, scope: p.scope, provider: p.provider, expiresAt: this.now().getTime() + CODE_TTL_MS });
    back.searchParams.set('code', code);
    redirect(res, back.toString());
  }

  private clientAuthenticates(clientId: string, secret: string): boolean {
    const expected = this.clients.get(clientId);
    return expected !== undefined && safeEqual(expected, secret);
  }
}

/** Claims the stub asserts for an email: a stable subject, a display name from the local part. */
function identityClaims(email: string, provider: string): Record<string, unknown> {
  const local = email.split('@')[0] ?? email;
  const name = local
    .split(/[._+-]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
  const sub = createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 24);
  return { sub, email, email_verified: true, name: name || email, preferred_username: local, ...(provider ? { provider } : {}) };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function basicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic.
  const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { user: dec(text.slice(0, colon)), password: dec(text.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function readBody(req: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function failAuthorize(res: http.ServerResponse, f: { status: number; message: string; redirect?: string }): void {
  if (f.redirect) return redirect(res, f.redirect);
  sendHtml(res, f.status, page('Sign-in request refused', `<p>${esc(f.message)}</p>`));
}

function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

function sendHtml(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https: http:",
    'x-frame-options': 'DENY',
  });
  res.end(html);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${esc(title)}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <style>
    body { font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
    input[type=email] { width: 100%; padding: .5rem; margin: .25rem 0 .75rem; box-sizing: border-box; }
    button { padding: .4rem .8rem; margin: .15rem; cursor: pointer; }
    .secondary { background: none; border: none; text-decoration: underline; color: #555; }
    code { background: #f3f3f3; padding: 0 .2rem; }
  </style>
</head>
<body>
  <main>
    ${body}
  </main>
  <footer><p><small>devtunnel sandbox — not a real identity provider.</small></p></footer>
</body>
</html>
`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
