/**
 * PolicyEnforcer: the sandbox edge's `beforeForward` hook. For each public request it
 * normalises the path, serves the edge's own `/ngrok/…` paths (sign-in callback, login,
 * logout — never forwarded), runs the endpoint's Traffic Policy with {@link CompiledPolicy},
 * and turns the outcome into what the ingress forwards (path, header edits, buffered body,
 * response-phase edits) or answers itself. Every policy rejection is recorded in the event
 * log as `policy_denied`.
 *
 * Sign-in (oauth and openid-connect) always goes to the sandbox's stub identity provider:
 * no session → 302 to its authorize page (state, nonce, and a flow cookie binding the
 * attempt to this browser); callback → code exchange, ID token verified (signature, iss,
 * aud, nonce, exp), server-side session bound to the endpoint, HttpOnly cookie, 302 back.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { EventLog } from '../event-log.js';
import type { BeforeForwardHook, ForwardContext, UpstreamResponseHead } from '../public-ingress.js';
import type { TrafficPolicyDocument } from '../traffic-policy-document.js';
import type { StubIdp } from '../idp/stub-idp.js';
import { EDGE_CALLBACK_PATH } from '../idp/stub-idp.js';
import { tryParseDuration } from '../../team/duration.js';
import { EDGE_ERROR } from './actions.js';
import { normalizeClientIp } from './cidr.js';
import {
  applyHeaderOps,
  applyHeaderOpsToRaw,
  BodyTooLargeError,
  CompiledPolicy,
  type AuthOutcome,
  type AuthRequest,
  type AuthVars,
  type EdgeResponse,
  type HttpRequestFacts,
  type Termination,
  type WebhookVerifyFn,
} from './engine.js';
import { isEdgePath, parseRequestTarget } from './request-target.js';
import { SessionStore, type PendingSignIn } from './sessions.js';

export interface PolicyEnforcerOptions {
  events: EventLog;
  idp: StubIdp;
  verifyWebhook: WebhookVerifyFn;
  /** Largest request body buffered for verify-webhook (default 10 MiB); bigger ones get 413. */
  maxBodyBytes?: number;
  now?: () => Date;
}

const DEFAULT_MAX_SESSION_MS = 24 * 3600_000;
const DEFAULT_IDLE_MS = 12 * 3600_000;
const FLOW_COOKIE = 'ngrok_nonce';

export class PolicyEnforcer {
  readonly sessions: SessionStore;
  private readonly compiled = new WeakMap<TrafficPolicyDocument, CompiledPolicy>();
  private readonly managedClients = new Map<string, { clientId: string; clientSecret: string }>();
  private readonly now: () => Date;

  constructor(private readonly opts: PolicyEnforcerOptions) {
    this.now = opts.now ?? (() => new Date());
    this.sessions = new SessionStore(() => this.now().getTime());
  }

  /** The compiled form of an endpoint's policy (parsed once per policy document). */
  policyFor(doc: TrafficPolicyDocument): CompiledPolicy {
    let c = this.compiled.get(doc);
    if (!c) {
      c = new CompiledPolicy(doc);
      this.compiled.set(doc, c);
    }
    return c;
  }

  readonly beforeForward: BeforeForwardHook = async (ctx) => {
    const { endpoint, req } = ctx;
    const target = parseRequestTarget(req.url);
    if (!target.ok) {
      this.answer(ctx, undefined, { response: textResponse(400, `Bad request path: ${target.reason}.`), rule: '-', action: 'path-normalisation', reason: target.reason, denial: true, runResponsePhase: false });
      return false;
    }
    ctx.forwardPath = target.forwardTarget;
    const policy = endpoint.policy ? this.policyFor(endpoint.policy) : undefined;
    const facts = this.facts(ctx, target);

    if (policy?.hasTcpPhase) {
      const tcp = await policy.runTcp(facts);
      if (tcp.rejected) {
        this.log(ctx, facts, { rule: tcp.rejected.rule, action: tcp.rejected.action, status: 0, reason: `${tcp.rejected.reason} (connection closed)` });
        req.socket.destroy();
        return false;
      }
    }
    if (isEdgePath(target.path)) {
      await this.edgePath(ctx, facts, policy);
      return false;
    }
    if (!policy) return true;

    const result = await policy.runRequest(facts, {
      authenticate: (request, f) => this.authenticate(request, f),
      verifyWebhook: this.opts.verifyWebhook,
    });
    if (result.termination) {
      let termination = result.termination;
      if (termination.runResponsePhase && policy.hasResponsePhase) {
        const r = await policy.runResponse(facts, result.actions, { status: termination.response.status, headers: headerLists(termination.response.headers) });
        termination = r.termination ?? { ...termination, response: { ...termination.response, headers: pairs(applyHeaderOpsToRaw(flat(termination.response.headers), r.headerOps)) } };
      }
      this.answer(ctx, facts, termination);
      return false;
    }
    if (result.body) ctx.forwardBody = result.body;
    if (result.headerOps.length > 0) ctx.editRequestHeaders = (headers) => applyHeaderOps(headers, result.headerOps);
    if (policy.hasResponsePhase) {
      ctx.onResponse = async (head: UpstreamResponseHead) => {
        const r = await policy.runResponse(facts, result.actions, { status: head.statusCode, headers: headerLists(pairs(head.rawHeaders)) });
        if (r.termination) {
          this.answer(ctx, facts, r.termination);
          return null;
        }
        return { ...head, rawHeaders: applyHeaderOpsToRaw(head.rawHeaders, r.headerOps) };
      };
    }
    return true;
  };

  // ---------------------------------------------------------------------------------------------

  private facts(ctx: ForwardContext, target: { path: string; rawPath: string; query: string; queryParams: Record<string, string[]> }): HttpRequestFacts {
    const { req, endpoint } = ctx;
    const headers: Record<string, string[]> = {};
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) (headers[req.rawHeaders[i]!.toLowerCase()] ??= []).push(req.rawHeaders[i + 1]!);
    const max = this.opts.maxBodyBytes ?? 10 * 1024 * 1024;
    return {
      method: req.method ?? 'GET',
      host: endpoint.host,
      scheme: ctx.scheme,
      path: target.path,
      rawPath: target.rawPath,
      query: target.query,
      queryParams: target.queryParams,
      headers,
      clientIp: normalizeClientIp(ctx.clientIp),
      clientPort: req.socket.remotePort ?? 0,
      serverIp: normalizeClientIp(req.socket.localAddress ?? ''),
      serverPort: req.socket.localPort ?? 0,
      httpVersion: req.httpVersion,
      endpoint: { id: endpoint.id, host: endpoint.host, url: endpoint.url, protocol: ctx.scheme },
      now: this.now(),
      readBody: () => readBounded(req, max),
    };
  }

  /** Write the edge's own response; rejections (not sign-in redirects) go to the event log. */
  private answer(ctx: ForwardContext, facts: HttpRequestFacts | undefined, t: Termination): void {
    writeResponse(ctx.res, t.response);
    if (t.denial) this.log(ctx, facts, { rule: t.rule, action: t.action, status: t.response.status, reason: t.reason });
  }

  private log(ctx: ForwardContext, facts: HttpRequestFacts | undefined, d: { rule: string; action: string; status: number; reason: string }): void {
    this.opts.events.append({
      type: 'policy_denied',
      endpointId: ctx.endpoint.id,
      host: ctx.endpoint.host,
      method: ctx.req.method ?? 'GET',
      path: facts?.rawPath ?? (ctx.req.url ?? '/').split('?')[0]!,
      clientIp: normalizeClientIp(ctx.clientIp),
      rule: d.rule,
      action: d.action,
      status: d.status,
      reason: d.reason,
    });
  }

  // --- sign-in -----------------------------------------------------------------------------------

  private signInTarget(request: { kind: 'oauth' | 'oidc'; config: Record<string, unknown> }): { issuer: string; clientId: string; clientSecret: string; provider: string; scope: string } {
    const c = request.config;
    const scopes = Array.isArray(c['scopes']) ? (c['scopes'] as string[]) : [];
    if (request.kind === 'oidc') {
      return {
        issuer: String(c['issuer_url']).replace(/\/+$/, ''),
        clientId: String(c['client_id'] ?? ''),
        clientSecret: String(c['client_secret'] ?? ''),
        provider: '',
        scope: (scopes.length ? scopes : ['openid', 'profile', 'email']).join(' '),
      };
    }
    const provider = String(c['provider']);
    let clientId = typeof c['client_id'] === 'string' ? c['client_id'] : '';
    let clientSecret = typeof c['client_secret'] === 'string' ? c['client_secret'] : '';
    if (!clientId) {
      // ngrok's managed OAuth app for this provider: in the sandbox, a client of the stub IdP.
      let managed = this.managedClients.get(provider);
      if (!managed) {
        managed = { clientId: `ngrok-managed-${provider}`, clientSecret: randomBytes(24).toString('base64url') };
        this.managedClients.set(provider, managed);
        this.opts.idp.registerClient(managed);
      }
      clientId = managed.clientId;
      clientSecret = managed.clientSecret;
    }
    return { issuer: this.opts.idp.issuer, clientId, clientSecret, provider, scope: ['openid', 'profile', 'email', ...scopes].join(' ') };
  }

  private async authenticate(request: AuthRequest, facts: HttpRequestFacts): Promise<AuthOutcome> {
    const target = this.signInTarget(request);
    const cookieName = sessionCookieName(request.config['auth_id']);
    const problems: string[] = [];
    for (const id of cookieValues(facts.headers, cookieName)) {
      const found = this.sessions.find(id, { endpointId: facts.endpoint.id, host: facts.endpoint.host, kind: request.kind, issuer: target.issuer, clientId: target.clientId });
      if (found.session) {
        const s = found.session;
        const identity = { email: s.identity.email, name: s.identity.name, id: s.identity.sub, provider_user_id: s.identity.sub, [request.kind === 'oidc' ? 'current_session_id' : 'current_provider_session_id']: s.id.slice(0, 12) };
        const vars: Record<string, unknown> = {
          identity,
          access_token: s.accessToken,
          expires_at: new Date(s.createdAt + s.maxMs).toISOString(),
          session_timed_out: false,
          session_max_duration_reached: false,
          userinfo_refreshed: false,
          error: { code: '', message: '' },
        };
        if (request.kind === 'oidc') vars['identity_token'] = s.idToken;
        return { vars: vars as AuthVars };
      }
      problems.push(found.problem ?? 'invalid session');
    }
    const returnTo = facts.query ? `${facts.path}?${facts.query}` : facts.path;
    const response = this.startSignIn(facts, request.kind, request.config, target, cookieName, returnTo);
    return { response, reason: problems.length ? `sign-in required: ${problems.join('; ')}` : 'sign-in required', denial: false };
  }

  private startSignIn(
    facts: HttpRequestFacts,
    kind: 'oauth' | 'oidc',
    config: Record<string, unknown>,
    target: ReturnType<PolicyEnforcer['signInTarget']>,
    cookieName: string,
    returnTo: string,
  ): EdgeResponse {
    const defaultPort = facts.scheme === 'https' ? 443 : 80;
    const origin = `${facts.scheme}://${facts.endpoint.host}${facts.serverPort && facts.serverPort !== defaultPort ? `:${facts.serverPort}` : ''}`;
    const durations = (key: string, fallback: number) => (typeof config[key] === 'string' ? tryParseDuration(config[key]) : undefined) ?? fallback;
    const pending = this.sessions.startSignIn({
      endpointId: facts.endpoint.id,
      host: facts.endpoint.host,
      kind,
      issuer: target.issuer,
      clientId: target.clientId,
      clientSecret: target.clientSecret,
      provider: target.provider,
      redirectUri: `${origin}${EDGE_CALLBACK_PATH}`,
      returnTo,
      cookieName,
      maxMs: durations('max_session_duration', DEFAULT_MAX_SESSION_MS),
      idleMs: durations('idle_session_timeout', durations('idle_session_duration', DEFAULT_IDLE_MS)),
    });
    const location = this.opts.idp.authorizeUrl({
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      state: pending.state,
      nonce: pending.nonce,
      scope: target.scope,
      provider: target.provider || undefined,
      issuer: target.issuer,
    });
    return {
      status: 302,
      headers: [
        ['location', location],
        ['cache-control', 'no-store'],
        ['set-cookie', cookie(FLOW_COOKIE, pending.binding, { secure: facts.scheme === 'https', path: '/ngrok/', maxAge: 600 })],
      ],
      body: Buffer.alloc(0),
    };
  }

  /** `/ngrok/oauth2/callback`, `/ngrok/login`, `/ngrok/logout`; anything else under /ngrok is 404. Never forwarded. */
  private async edgePath(ctx: ForwardContext, facts: HttpRequestFacts, policy: CompiledPolicy | undefined): Promise<void> {
    const auth = policy?.authAction();
    const q = facts.queryParams;
    const redirectPath = safeReturnPath(q['redirect_path']?.[0]);
    if (facts.path === EDGE_CALLBACK_PATH && auth) return this.callback(ctx, facts);
    if (facts.path === '/ngrok/login' && auth && policy) {
      const config = policy.resolveConfig(auth.action, facts);
      const target = this.signInTarget({ kind: auth.kind, config });
      writeResponse(ctx.res, this.startSignIn(facts, auth.kind, config, target, sessionCookieName(config['auth_id']), redirectPath ?? '/'));
      return;
    }
    if (facts.path === '/ngrok/logout' && auth) {
      const config = auth.action.config ?? {};
      const name = sessionCookieName(config['auth_id']);
      for (const id of cookieValues(facts.headers, name)) this.sessions.revoke(id, facts.endpoint.id);
      const clear = cookie(name, '', { secure: facts.scheme === 'https', path: '/', maxAge: 0 });
      if (redirectPath) {
        writeResponse(ctx.res, { status: 302, headers: [['location', redirectPath], ['set-cookie', clear], ['cache-control', 'no-store']], body: Buffer.alloc(0) });
      } else {
        const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><h1>Signed out</h1><p>You are signed out of ${escapeHtml(facts.endpoint.host)}.</p><p><a href="/">Sign in again</a></p></body></html>\n`;
        writeResponse(ctx.res, { status: 200, headers: [['content-type', 'text/html; charset=utf-8'], ['set-cookie', clear], ['cache-control', 'no-store']], body: Buffer.from(html) });
      }
      return;
    }
    writeResponse(ctx.res, textResponse(404, `${facts.path} is served by the edge and does not exist here.`));
  }

  private async callback(ctx: ForwardContext, facts: HttpRequestFacts): Promise<void> {
    const q = facts.queryParams;
    const state = q['state']?.[0] ?? '';
    const pending = state ? this.sessions.takeSignIn(state) : undefined;
    const fail = (status: number, code: string | undefined, reason: string) => {
      const headers: Array<[string, string]> = [['content-type', 'text/plain; charset=utf-8'], ['cache-control', 'no-store']];
      if (code) headers.push(['ngrok-error-code', code]);
      this.answer(ctx, facts, { response: { status, headers, body: Buffer.from(`Sign-in failed: ${reason}\nOpen the app's address again to start over.\n`) }, rule: 'sign-in', action: 'callback', reason, denial: true, runResponsePhase: false });
    };
    if (!pending) return fail(400, undefined, 'unknown or expired sign-in attempt');
    if (pending.endpointId !== facts.endpoint.id || pending.host !== facts.endpoint.host) return fail(400, undefined, 'the sign-in attempt was started on another endpoint');
    if (!cookieValues(facts.headers, FLOW_COOKIE).some((v) => v === pending.binding)) return fail(400, undefined, 'the sign-in attempt was started in another browser (flow cookie missing)');
    const error = q['error']?.[0];
    if (error) return fail(403, EDGE_ERROR.idpError, `the identity provider answered ${error}${q['error_description']?.[0] ? `: ${q['error_description'][0]}` : ''}`);
    const code = q['code']?.[0];
    if (!code) return fail(400, undefined, 'the callback carries no code');
    const exchanged = await this.opts.idp.exchangeCode({ code, clientId: pending.clientId, clientSecret: pending.clientSecret, redirectUri: pending.redirectUri });
    if (!exchanged.ok) return fail(502, EDGE_ERROR.idpUnreachable, `token exchange failed: ${exchanged.error} (${exchanged.description})`);
    let claims: Awaited<ReturnType<StubIdp['verifyIdToken']>>;
    try {
      claims = await this.opts.idp.verifyIdToken(exchanged.tokens.id_token, { issuer: pending.issuer, audience: pending.clientId, nonce: pending.nonce });
    } catch (err) {
      return fail(403, EDGE_ERROR.idTokenInvalid, `the ID token did not verify: ${(err as Error).message}`);
    }
    if (typeof claims.email !== 'string' || !claims.email) return fail(403, EDGE_ERROR.idTokenInvalid, 'the ID token has no email claim');
    const session = this.createSession(pending, claims.email, typeof claims.name === 'string' ? claims.name : claims.email, String(claims.sub), exchanged.tokens.id_token, exchanged.tokens.access_token);
    writeResponse(ctx.res, {
      status: 302,
      headers: [
        ['location', pending.returnTo],
        ['cache-control', 'no-store'],
        ['set-cookie', cookie(pending.cookieName, session, { secure: facts.scheme === 'https', path: '/', maxAge: Math.floor(pending.maxMs / 1000) })],
        ['set-cookie', cookie(FLOW_COOKIE, '', { secure: facts.scheme === 'https', path: '/ngrok/', maxAge: 0 })],
      ],
      body: Buffer.alloc(0),
    });
  }

  private createSession(p: PendingSignIn, email: string, name: string, sub: string, idToken: string, accessToken: string): string {
    return this.sessions.create({
      endpointId: p.endpointId,
      host: p.host,
      kind: p.kind,
      issuer: p.issuer,
      clientId: p.clientId,
      provider: p.provider,
      identity: { email, name, sub },
      idToken,
      accessToken,
      maxMs: p.maxMs,
      idleMs: p.idleMs,
    }).id;
  }
}

// ---------------------------------------------------------------------------------------------

function sessionCookieName(authId: unknown): string {
  const suffix = typeof authId === 'string' && authId ? `_${authId.replace(/[^A-Za-z0-9_-]/g, '_')}` : '';
  return `ngrok_session${suffix}`;
}

function cookie(name: string, value: string, o: { secure: boolean; path: string; maxAge: number }): string {
  return `${name}=${value}; Path=${o.path}; Max-Age=${o.maxAge}; HttpOnly; SameSite=Lax${o.secure ? '; Secure' : ''}`;
}

/** All values of cookie `name` in the request's Cookie headers. */
function cookieValues(headers: Record<string, string[]>, name: string): string[] {
  const out: string[] = [];
  for (const header of headers['cookie'] ?? []) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      if (part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
    }
  }
  return out;
}

/** A same-origin path to return to: must start with one `/` (no `//host`, no scheme, no backslash). */
function safeReturnPath(p: string | undefined): string | undefined {
  if (!p || !p.startsWith('/') || p.startsWith('//') || p.includes('\\') || /[\r\n]/.test(p)) return undefined;
  return p;
}

function textResponse(status: number, text: string): EdgeResponse {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(`${text}\n`) };
}

function writeResponse(res: http.ServerResponse, r: EdgeResponse): void {
  if (res.headersSent || res.writableEnded) return;
  const raw: string[] = [];
  for (const [n, v] of r.headers) if (n.toLowerCase() !== 'content-length') raw.push(n, v);
  raw.push('content-length', String(r.body.length));
  if (r.status === 413) raw.push('connection', 'close');
  res.writeHead(r.status, raw);
  res.end(r.body);
}

function headerLists(headers: ReadonlyArray<readonly [string, string]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [n, v] of headers) (out[n.toLowerCase()] ??= []).push(v);
  return out;
}

function pairs(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function flat(headers: ReadonlyArray<readonly [string, string]>): string[] {
  return headers.flatMap(([n, v]) => [n, v]);
}

function readBounded(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > max) return Promise.reject(new BodyTooLargeError(`request body of ${declared} bytes exceeds the ${max}-byte limit for verified requests`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLargeError(`request body exceeds the ${max}-byte limit for verified requests`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
