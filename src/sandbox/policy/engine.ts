/**
 * The sandbox's Traffic Policy engine (traffic-policy.md §1.4): rules top to bottom, a rule's
 * expressions ANDed, its actions in order; terminating actions end the phase, rejecting
 * actions (restrict-ips, verify-webhook) answer themselves, action results become
 * `actions.ngrok.*` variables for later rules. CEL runtime errors fail closed (500).
 *
 * Pure of HTTP: the enforcer turns a request into {@link HttpRequestFacts}, supplies the
 * side-effecting {@link PolicyServices} (sessions and sign-in, webhook verification), and
 * applies the {@link RequestResult} to what is forwarded.
 */
import type { CelEnv, CelInput } from '@bufbuild/cel';
import type { PolicyAction, PolicyPhase, PolicyRule, TrafficPolicyDocument } from '../traffic-policy-document.js';
import { EDGE_ERROR } from './actions.js';
import { celToString, compileExpression, evaluate, evaluateCondition, PolicyRuntimeError, requestEnv, type CompiledExpression } from './cel.js';
import { firstMatch, parseCidr, type ParsedCidr } from './cidr.js';
import { splitTemplate } from './template.js';

/** What the policy sees of one HTTP request. Header keys are lower-case; values are lists. */
export interface HttpRequestFacts {
  method: string;
  /** Host header without the port, lower-case. */
  host: string;
  scheme: 'http' | 'https';
  /** Normalised path (dot segments resolved, `//` collapsed), as the upstream receives it. */
  path: string;
  /** The path exactly as the client sent it. */
  rawPath: string;
  /** Query string without `?`. */
  query: string;
  queryParams: Record<string, string[]>;
  headers: Record<string, string[]>;
  /** The socket's peer address (never a header), IPv4-mapped shown as IPv4. */
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  httpVersion: string;
  endpoint: { id: string; host: string; url: string; protocol: string };
  now: Date;
  /** Buffers the request body (bounded by the enforcer); only called when an action needs it. */
  readBody?: () => Promise<Buffer>;
}

/** A response the edge produces itself. */
export interface EdgeResponse {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

/** Why the edge answered instead of forwarding. `denial` is false for the sign-in redirect. */
export interface Termination {
  response: EdgeResponse;
  rule: string;
  action: string;
  reason: string;
  denial: boolean;
  /** Whether on_http_response rules still run on this response (custom-response only). */
  runResponsePhase: boolean;
}

export type HeaderOp = { op: 'remove'; name: string } | { op: 'add'; name: string; value: string } | { op: 'set'; name: string; value: string };

export interface RequestResult {
  termination?: Termination;
  /** Edits for the upstream request headers, in order. */
  headerOps: HeaderOp[];
  /** `actions` variables after the phase, for the response phase. */
  actions: ActionVars;
  /** The body, when an action buffered it (it must then be forwarded from here). */
  body?: Buffer;
}

export interface ResponseFacts {
  status: number;
  /** Lower-case header names, list values. */
  headers: Record<string, string[]>;
}

export interface ResponseResult {
  termination?: Termination;
  /** Edits for the response headers sent to the client, in order. */
  headerOps: HeaderOp[];
}

/** Identity and session variables a successful sign-in provides (`actions.ngrok.oidc|oauth`). */
export type AuthVars = Record<string, CelInput>;

export interface AuthRequest {
  kind: 'oauth' | 'oidc';
  /** The action's config with CEL templates already interpolated. */
  config: Record<string, unknown>;
  rule: string;
}
export type AuthOutcome = { vars: AuthVars } | { response: EdgeResponse; reason: string; denial: boolean };

export interface WebhookVerdict {
  verified: boolean;
  error?: string;
  /** Some providers' endpoint-verification handshakes are answered by the edge itself. */
  handshake?: { status: number; headers: Record<string, string>; body: Buffer };
}
export type WebhookVerifyFn = (
  provider: string,
  secret: string,
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: Buffer },
  now: Date,
) => WebhookVerdict;

/** The side effects the engine needs from the edge. */
export interface PolicyServices {
  authenticate(request: AuthRequest, facts: HttpRequestFacts): Promise<AuthOutcome>;
  verifyWebhook: WebhookVerifyFn;
}

type ActionVars = Record<string, Record<string, CelInput>>;

interface CompiledRule {
  name: string;
  expressions: CompiledExpression[];
  actions: PolicyAction[];
}

const AUTH_NAMESPACE: Record<string, 'oauth' | 'oidc'> = { oauth: 'oauth', 'openid-connect': 'oidc' };

/** A policy parsed once per endpoint (expressions and templates), run per request. */
export class CompiledPolicy {
  private readonly phases: Record<PolicyPhase, CompiledRule[]>;
  private readonly templates = new Map<string, Array<{ text: string } | { expr: CompiledExpression }>>();

  constructor(readonly document: TrafficPolicyDocument) {
    const compile = (rules: PolicyRule[] | undefined): CompiledRule[] =>
      (rules ?? []).map((r, i) => ({ name: r.name ?? `rule ${i + 1}`, expressions: (r.expressions ?? []).map(compileExpression), actions: r.actions }));
    this.phases = {
      on_tcp_connect: compile(document.on_tcp_connect),
      on_http_request: compile(document.on_http_request),
      on_http_response: compile(document.on_http_response),
    };
  }

  get hasTcpPhase(): boolean {
    return this.phases.on_tcp_connect.length > 0;
  }
  get hasResponsePhase(): boolean {
    return this.phases.on_http_response.length > 0;
  }
  /** The first oauth / openid-connect action, for /ngrok/login. */
  authAction(): { kind: 'oauth' | 'oidc'; action: PolicyAction; rule: string } | undefined {
    for (const rule of this.phases.on_http_request) {
      for (const action of rule.actions) {
        const kind = AUTH_NAMESPACE[action.type];
        if (kind) return { kind, action, rule: rule.name };
      }
    }
    return undefined;
  }

  /** Interpolate the string fields of an action's config (for /ngrok/login and the callback). */
  resolveConfig(action: PolicyAction, facts: HttpRequestFacts): Record<string, unknown> {
    const env = requestEnv({ headers: facts.headers, queryParams: facts.queryParams });
    return this.interpolateConfig(action.config ?? {}, env, this.variables(facts, {}));
  }

  /** on_tcp_connect, evaluated per request on connection facts: a rejection closes the connection. */
  async runTcp(facts: HttpRequestFacts): Promise<{ rejected?: { rule: string; action: string; reason: string } }> {
    const actions: ActionVars = {};
    const env = requestEnv({ headers: {}, queryParams: {} });
    const vars = () => ({ conn: this.connVars(facts), endpoint: this.endpointVars(facts), time: { now: facts.now.toISOString() }, actions: { ngrok: actions } });
    for (const rule of this.phases.on_tcp_connect) {
      try {
        if (!rule.expressions.every((e) => evaluateCondition(env, e, vars()))) continue;
        for (const action of rule.actions) {
          if (action.type === 'deny') return { rejected: { rule: rule.name, action: 'deny', reason: 'denied by policy' } };
          if (action.type === 'restrict-ips') {
            const r = this.restrictIps(action, facts.clientIp, env, vars());
            actions['restrict_ips'] = r.vars;
            if (r.reject) return { rejected: { rule: rule.name, action: 'restrict-ips', reason: r.reason } };
          }
        }
      } catch (err) {
        return { rejected: { rule: rule.name, action: 'error', reason: (err as Error).message } };
      }
    }
    return {};
  }

  /** Run on_http_request. Never throws for policy problems: a runtime error is a 500 termination. */
  async runRequest(facts: HttpRequestFacts, services: PolicyServices): Promise<RequestResult> {
    const actions: ActionVars = {};
    const headerOps: HeaderOp[] = [];
    let body: Buffer | undefined;
    const env = requestEnv({ headers: facts.headers, queryParams: facts.queryParams });
    const result = (termination?: Termination): RequestResult => ({ termination, headerOps, actions, ...(body ? { body } : {}) });
    for (const rule of this.phases.on_http_request) {
      let current = 'expressions';
      try {
        if (!rule.expressions.every((e) => evaluateCondition(env, e, this.variables(facts, actions)))) continue;
        for (const action of rule.actions) {
          current = action.type;
          const vars = this.variables(facts, actions);
          const config = action.config ?? {};
          switch (action.type) {
            case 'deny':
              return result(deny(rule.name, config));
            case 'custom-response':
              return result(this.customResponse(rule.name, config, env, vars));
            case 'restrict-ips': {
              const r = this.restrictIps(action, facts.clientIp, env, vars);
              actions['restrict_ips'] = r.vars;
              if (r.reject) return result(rejection(rule.name, 'restrict-ips', 403, EDGE_ERROR.ipRestricted, r.reason));
              break;
            }
            case 'add-headers':
            case 'remove-headers': {
              const ops = this.headerActions(action, env, vars);
              headerOps.push(...ops.ops);
              actions[action.type === 'add-headers' ? 'add_headers' : 'remove_headers'] = ops.vars;
              break;
            }
            case 'oauth':
            case 'openid-connect': {
              const kind = AUTH_NAMESPACE[action.type]!;
              const outcome = await services.authenticate({ kind, config: this.interpolateConfig(config, env, vars), rule: rule.name }, facts);
              if ('response' in outcome) {
                return result({ response: outcome.response, rule: rule.name, action: action.type, reason: outcome.reason, denial: outcome.denial, runResponsePhase: false });
              }
              actions[kind] = outcome.vars;
              break;
            }
            case 'verify-webhook': {
              const provider = String(config['provider']);
              const secret = typeof config['secret'] === 'string' ? this.interpolate(config['secret'], env, vars) : '';
              const enforce = config['enforce'] !== false;
              body ??= facts.readBody ? await facts.readBody() : Buffer.alloc(0);
              const query = facts.query ? `?${facts.query}` : '';
              const port = facts.serverPort && !((facts.scheme === 'https' && facts.serverPort === 443) || (facts.scheme === 'http' && facts.serverPort === 80)) ? `:${facts.serverPort}` : '';
              const verdict = services.verifyWebhook(
                provider,
                secret,
                { method: facts.method, url: `${facts.scheme}://${facts.host}${port}${facts.rawPath}${query}`, headers: flattenHeaders(facts.headers), body },
                facts.now,
              );
              actions['verify_webhook'] = {
                verified: verdict.verified,
                error: verdict.verified ? { code: '', message: '' } : { code: EDGE_ERROR.webhookFailed, message: verdict.error ?? 'verification failed' },
              };
              if (verdict.handshake) {
                const h = verdict.handshake;
                return result({
                  response: { status: h.status, headers: Object.entries(h.headers), body: h.body },
                  rule: rule.name,
                  action: 'verify-webhook',
                  reason: `answered the ${provider} endpoint-verification handshake`,
                  denial: false,
                  runResponsePhase: false,
                });
              }
              if (!verdict.verified && enforce) {
                return result(rejection(rule.name, 'verify-webhook', 403, EDGE_ERROR.webhookFailed, `${provider} webhook verification failed: ${verdict.error ?? 'invalid signature'}`));
              }
              break;
            }
            default:
              // validate.ts refuses these at bind; never silently skip an action.
              throw new PolicyRuntimeError(`action "${action.type}" is not supported in on_http_request`);
          }
        }
      } catch (err) {
        if (err instanceof BodyTooLargeError) return result(rejection(rule.name, current, 413, undefined, err.message));
        if (!(err instanceof PolicyRuntimeError)) throw err;
        return result(rejection(rule.name, current, 500, EDGE_ERROR.runtime, `Traffic Policy runtime error: ${err.message}`));
      }
    }
    return result();
  }

  /** Run on_http_response on the upstream's (or a custom-response's) status and headers. */
  async runResponse(facts: HttpRequestFacts, requestActions: ActionVars, response: ResponseFacts): Promise<ResponseResult> {
    const actions: ActionVars = { ...requestActions };
    const headerOps: HeaderOp[] = [];
    const env = requestEnv({ headers: facts.headers, queryParams: facts.queryParams, responseHeaders: response.headers });
    const vars = () => ({ ...this.variables(facts, actions), res: { status_code: BigInt(response.status), headers: response.headers } });
    for (const rule of this.phases.on_http_response) {
      let current = 'expressions';
      try {
        if (!rule.expressions.every((e) => evaluateCondition(env, e, vars()))) continue;
        for (const action of rule.actions) {
          current = action.type;
          const config = action.config ?? {};
          switch (action.type) {
            case 'custom-response':
              return { headerOps, termination: this.customResponse(rule.name, config, env, vars()) };
            case 'restrict-ips': {
              const r = this.restrictIps(action, facts.clientIp, env, vars());
              actions['restrict_ips'] = r.vars;
              if (r.reject) return { headerOps, termination: rejection(rule.name, 'restrict-ips', 403, EDGE_ERROR.ipRestricted, r.reason) };
              break;
            }
            case 'add-headers':
            case 'remove-headers': {
              const ops = this.headerActions(action, env, vars());
              headerOps.push(...ops.ops);
              actions[action.type === 'add-headers' ? 'add_headers' : 'remove_headers'] = ops.vars;
              break;
            }
            default:
              throw new PolicyRuntimeError(`action "${action.type}" is not supported in on_http_response`);
          }
        }
      } catch (err) {
        if (!(err instanceof PolicyRuntimeError)) throw err;
        return { headerOps, termination: rejection(rule.name, current, 500, EDGE_ERROR.runtime, `Traffic Policy runtime error: ${err.message}`) };
      }
    }
    return { headerOps };
  }

  // -------------------------------------------------------------------------------------------

  private variables(facts: HttpRequestFacts, actions: ActionVars): Record<string, CelInput> {
    const query = facts.query ? `?${facts.query}` : '';
    const defaultPort = facts.scheme === 'https' ? 443 : 80;
    const authority = facts.serverPort && facts.serverPort !== defaultPort ? `${facts.host}:${facts.serverPort}` : facts.host;
    const url: Record<string, CelInput> = {
      scheme: facts.scheme,
      host: facts.host,
      authority,
      path: facts.path,
      raw_path: facts.rawPath,
      query: facts.query,
      query_params: facts.queryParams,
      uri: `${facts.path}${query}`,
      raw: `${facts.scheme}://${authority}${facts.rawPath}${query}`,
      url: `${facts.scheme}://${authority}${facts.path}${query}`,
    };
    if (facts.serverPort && facts.serverPort !== defaultPort) url['port'] = BigInt(facts.serverPort);
    const req: Record<string, CelInput> = {
      method: facts.method,
      host: facts.host,
      url,
      headers: facts.headers,
      version: `HTTP/${facts.httpVersion}`,
      user_agent: facts.headers['user-agent']?.[0] ?? '',
    };
    const length = facts.headers['content-length']?.[0];
    if (length !== undefined && /^\d+$/.test(length)) req['content_length'] = BigInt(length);
    const contentType = facts.headers['content-type']?.[0];
    if (contentType !== undefined) req['content_type'] = contentType;
    return {
      conn: this.connVars(facts),
      req,
      endpoint: this.endpointVars(facts),
      time: { now: facts.now.toISOString() },
      actions: { ngrok: actions },
    };
  }

  private connVars(facts: HttpRequestFacts): Record<string, CelInput> {
    return { client_ip: facts.clientIp, client_port: BigInt(facts.clientPort), server_ip: facts.serverIp, server_port: BigInt(facts.serverPort) };
  }

  private endpointVars(facts: HttpRequestFacts): Record<string, CelInput> {
    return { id: facts.endpoint.id, host: facts.endpoint.host, url: facts.endpoint.url, protocol: facts.endpoint.protocol, port: BigInt(facts.serverPort) };
  }

  /** Expand `${…}` in a config string; a failing expression is a runtime error (fail closed). */
  private interpolate(text: string, env: CelEnv, vars: Record<string, CelInput>): string {
    let parts = this.templates.get(text);
    if (!parts) {
      try {
        parts = splitTemplate(text).map((p) => ('expr' in p ? { expr: compileExpression(p.expr) } : p));
      } catch (err) {
        throw new PolicyRuntimeError((err as Error).message);
      }
      this.templates.set(text, parts);
    }
    return parts.map((p) => ('expr' in p ? celToString(evaluate(env, p.expr, vars)) : p.text)).join('');
  }

  private interpolateConfig(config: Record<string, unknown>, env: CelEnv, vars: Record<string, CelInput>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config)) out[k] = typeof v === 'string' ? this.interpolate(v, env, vars) : v;
    return out;
  }

  private restrictIps(action: PolicyAction, ip: string, env: CelEnv, vars: Record<string, CelInput>): { reject: boolean; reason: string; vars: Record<string, CelInput> } {
    const config = action.config ?? {};
    const list = (key: string): ParsedCidr[] =>
      ((config[key] as string[] | undefined) ?? []).map((raw) => {
        const text = this.interpolate(raw, env, vars);
        const parsed = parseCidr(text);
        if (!parsed) throw new PolicyRuntimeError(`restrict-ips: "${text}" is not a valid CIDR`);
        return parsed;
      });
    const denied = firstMatch(ip, list('deny'));
    const allowed = denied ? undefined : firstMatch(ip, list('allow'));
    const decision = allowed ? 'allow' : 'deny';
    const matched = (denied ?? allowed)?.text ?? '';
    const reason = denied ? `client ${ip} is in the denied range ${denied.text}` : allowed ? '' : `client ${ip} is not in any allowed range`;
    const enforce = config['enforce'] !== false;
    return {
      reject: enforce && decision === 'deny',
      reason,
      vars: { action: decision, matched_cidr: matched, error: decision === 'deny' ? { code: EDGE_ERROR.ipRestricted, message: reason } : { code: '', message: '' } },
    };
  }

  private customResponse(rule: string, config: Record<string, unknown>, env: CelEnv, vars: Record<string, CelInput>): Termination {
    const status = typeof config['status_code'] === 'number' ? config['status_code'] : 200;
    const rawBody = typeof config['body'] === 'string' ? config['body'] : typeof config['content'] === 'string' ? config['content'] : '';
    const body = status === 204 || status === 304 ? '' : this.interpolate(rawBody, env, vars);
    const headers: Array<[string, string]> = Object.entries((config['headers'] as Record<string, string> | undefined) ?? {}).map(([n, v]) => [n.toLowerCase(), this.interpolate(v, env, vars)]);
    if (body && !headers.some(([n]) => n === 'content-type')) headers.push(['content-type', inferContentType(body)]);
    return { response: { status, headers, body: Buffer.from(body, 'utf8') }, rule, action: 'custom-response', reason: `custom response ${status}`, denial: true, runResponsePhase: true };
  }

  private headerActions(action: PolicyAction, env: CelEnv, vars: Record<string, CelInput>): { ops: HeaderOp[]; vars: Record<string, CelInput> } {
    const config = action.config ?? {};
    if (action.type === 'remove-headers') {
      const names = ((config['headers'] as string[] | undefined) ?? []).map((n) => n.toLowerCase());
      return { ops: names.map((name) => ({ op: 'remove', name })), vars: { headers_removed: names } };
    }
    const added: Record<string, string> = {};
    const ops: HeaderOp[] = [];
    for (const [rawName, rawValue] of Object.entries((config['headers'] as Record<string, string> | undefined) ?? {})) {
      const name = rawName.toLowerCase();
      const value = this.interpolate(rawValue, env, vars);
      if (/[\r\n\0]/.test(value)) throw new PolicyRuntimeError(`add-headers: the value for "${name}" contains a line break`);
      added[name] = value;
      ops.push(name === 'host' ? { op: 'set', name, value } : { op: 'add', name, value });
    }
    return { ops, vars: { headers_added: added } };
  }
}

/** Thrown by a facts.readBody that exceeds its bound: the request is answered 413. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

function deny(rule: string, config: Record<string, unknown>): Termination {
  const status = typeof config['status_code'] === 'number' ? config['status_code'] : 403;
  return { response: { status, headers: [], body: Buffer.alloc(0) }, rule, action: 'deny', reason: `denied by rule "${rule}"`, denial: true, runResponsePhase: false };
}

function rejection(rule: string, action: string, status: number, code: string | undefined, reason: string): Termination {
  const headers: Array<[string, string]> = [['content-type', 'text/plain; charset=utf-8']];
  if (code) headers.push(['ngrok-error-code', code]);
  return { response: { status, headers, body: Buffer.from(`${reason}\n`, 'utf8') }, rule, action, reason, denial: true, runResponsePhase: false };
}

function inferContentType(body: string): string {
  const t = body.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) return 'application/json';
  if (t.startsWith('<')) return 'text/html; charset=utf-8';
  return 'text/plain; charset=utf-8';
}

function flattenHeaders(headers: Record<string, string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = v.length === 1 ? v[0]! : v;
  return out;
}

/** Apply header edits to a header map (lower-case keys), as the ingress forwards it. */
export function applyHeaderOps(headers: Record<string, string | string[]>, ops: readonly HeaderOp[]): void {
  for (const op of ops) {
    if (op.op === 'remove') {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === op.name) delete headers[key];
    } else if (op.op === 'set') {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === op.name) delete headers[key];
      headers[op.name] = op.value;
    } else {
      const prev = headers[op.name];
      headers[op.name] = prev === undefined ? op.value : Array.isArray(prev) ? [...prev, op.value] : [prev, op.value];
    }
  }
}

/** Apply header edits to raw name/value pairs (a response head). */
export function applyHeaderOpsToRaw(raw: readonly string[], ops: readonly HeaderOp[]): string[] {
  let out = [...raw];
  for (const op of ops) {
    if (op.op === 'remove' || op.op === 'set') {
      const kept: string[] = [];
      for (let i = 0; i + 1 < out.length; i += 2) if (out[i]!.toLowerCase() !== op.name) kept.push(out[i]!, out[i + 1]!);
      out = kept;
    }
    if (op.op !== 'remove') out.push(op.name, op.value);
  }
  return out;
}
