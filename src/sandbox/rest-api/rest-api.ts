/**
 * The sandbox's subset of the ngrok REST API (api.ngrok.com, `Ngrok-Version: 2`), on loopback:
 *
 *   POST   /credentials                  {description, metadata, acl}  → 201 credential (with token)
 *   GET    /credentials[?limit&before_id]                               → {credentials, uri, next_page_uri}
 *   GET    /credentials/{id}                                            → credential (no token)
 *   DELETE /credentials/{id}                                            → 204; live sessions get Stop, new Auth fails
 *   GET    /tunnel_sessions[?limit&before_id]                           → {tunnel_sessions, uri, next_page_uri}
 *   GET    /tunnel_sessions/{id}
 *   POST   /tunnel_sessions/{id}/stop                                   → 204; the agent gets the Stop command
 *
 * Errors use ngrok's body shape: `{error_code, status_code, msg, details: {operation_id}}`. Invalid
 * ACL rules get ngrok's own ERR_NGROK_600; the codes for a missing/refused API key, an unknown
 * resource or a bad body are the sandbox's stand-ins (documented in docs/admin-api.md).
 * A test knob (`injectFaults`) makes the next requests fail with chosen statuses and Retry-After.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentSessionInfo } from '../agent/agent-session.js';
import type { Credential, CredentialRegistry } from '../credentials.js';

/** What the REST API needs from the edge. */
export interface RestApiEdge {
  sessions(): AgentSessionInfo[];
  /** Send Stop to one agent session and end it; false when there is no such live session. */
  stopSession(sessionId: string): Promise<boolean>;
}

export interface RestApiOptions {
  credentials: CredentialRegistry;
  edge: RestApiEdge;
  host?: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** The API key clients must send; default a fresh random one. */
  apiKey?: string;
}

export interface InjectedFault {
  status: number;
  /** Value of the Retry-After header, if any. */
  retryAfter?: string;
  /** Only for requests whose path starts with this. */
  pathPrefix?: string;
}

/** ngrok's error codes the sandbox answers with. */
export const ApiErrorCode = {
  /** ngrok: "Invalid ACL rule. An ACL rule must be '*' or start with 'bind:'…" */
  invalidAcl: 'ERR_NGROK_600',
  /** Sandbox stand-ins. */
  unauthorized: 'ERR_NGROK_SBX_401',
  notFound: 'ERR_NGROK_SBX_404',
  badRequest: 'ERR_NGROK_SBX_400',
  methodNotAllowed: 'ERR_NGROK_SBX_405',
  injected: 'ERR_NGROK_SBX_FAULT',
} as const;

const MAX_LIMIT = 100;
const MAX_BODY = 64 * 1024;
const MAX_DESCRIPTION = 255;
const MAX_METADATA = 4096;

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class SandboxRestApi {
  readonly apiKey: string;
  private readonly server: http.Server;
  private readonly faults: InjectedFault[] = [];
  /** Creation order of credentials seen through this API or the registry, for stable paging. */
  private readonly order = new Map<string, number>();
  private seq = 0;
  /** Requests served, for tests. */
  readonly requests: Array<{ method: string; path: string; status: number }> = [];

  private constructor(private readonly opts: RestApiOptions) {
    this.apiKey = opts.apiKey ?? `sbxapi_${randomBytes(24).toString('base64url')}`;
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async listen(opts: RestApiOptions): Promise<SandboxRestApi> {
    const api = new SandboxRestApi(opts);
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', reject);
      api.server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
        api.server.off('error', reject);
        resolve();
      });
    });
    return api;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const host = this.opts.host ?? '127.0.0.1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  /** Make the next requests fail (one fault per request, in order). */
  injectFaults(...faults: InjectedFault[]): void {
    this.faults.push(...faults);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const operationId = `op_${randomBytes(12).toString('base64url')}`;
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method, path: url.pathname, status });
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, {
        'ngrok-operation-id': operationId,
        ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }),
        ...headers,
      });
      res.end(text);
    };
    const fail = (status: number, code: string, msg: string, headers?: Record<string, string>) =>
      send(status, { error_code: code, status_code: status, msg, details: { operation_id: operationId } }, headers);
    try {
      const faultIndex = this.faults.findIndex((f) => f.pathPrefix === undefined || url.pathname.startsWith(f.pathPrefix));
      if (faultIndex >= 0) {
        const [fault] = this.faults.splice(faultIndex, 1);
        req.resume();
        return fail(fault!.status, ApiErrorCode.injected, `Injected failure (HTTP ${fault!.status}).`, fault!.retryAfter === undefined ? {} : { 'retry-after': fault!.retryAfter });
      }
      if (!this.authorized(req.headers.authorization)) {
        req.resume();
        return fail(401, ApiErrorCode.unauthorized, 'The API key is missing or not valid for this sandbox. Send "Authorization: Bearer <API key>".');
      }
      const body = method === 'POST' ? await readJson(req) : (req.resume(), undefined);
      const [status, payload] = await this.route(method, url, body);
      send(status, payload);
    } catch (error) {
      if (error instanceof ApiFailure) return fail(error.status, error.code, error.message);
      return fail(500, 'ERR_NGROK_SBX_500', `Internal sandbox error: ${(error as Error).message}`);
    }
  }

  private authorized(header: string | undefined): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) return false;
    const given = Buffer.from(match[1]!);
    const expected = Buffer.from(this.apiKey);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async route(method: string, url: URL, body: unknown): Promise<[number, unknown]> {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const [collection, id, action] = parts;
    if (collection === 'credentials' && parts.length <= 2) {
      if (id === undefined) {
        if (method === 'POST') return [201, this.createCredential(body)];
        if (method === 'GET') return [200, this.page(url, 'credentials', this.sortedCredentials().map((c) => this.credentialJson(c, false)))];
      } else {
        const credential = this.opts.credentials.get(id);
        if (!credential) throw notFound('credential', id);
        if (method === 'GET') return [200, this.credentialJson(credential, false)];
        if (method === 'DELETE') {
          this.opts.credentials.delete(id);
          return [204, undefined];
        }
      }
      throw methodNotAllowed(method, url.pathname);
    }
    if (collection === 'tunnel_sessions' && parts.length <= 3) {
      const sessions = this.opts.edge.sessions().filter((s) => s.authenticated);
      if (id === undefined) {
        if (method === 'GET') {
          const newestFirst = [...sessions].sort((a, b) => (a.connectedAt < b.connectedAt ? 1 : a.connectedAt > b.connectedAt ? -1 : 0));
          return [200, this.page(url, 'tunnel_sessions', newestFirst.map((s) => this.sessionJson(s)))];
        }
        throw methodNotAllowed(method, url.pathname);
      }
      const session = sessions.find((s) => s.id === id);
      if (!session) throw notFound('tunnel session', id);
      if (action === undefined && method === 'GET') return [200, this.sessionJson(session)];
      if (action === 'stop' && method === 'POST') {
        if (!(await this.opts.edge.stopSession(id))) throw notFound('tunnel session', id);
        return [204, undefined];
      }
      throw methodNotAllowed(method, url.pathname);
    }
    throw new ApiFailure(404, ApiErrorCode.notFound, `No such API endpoint: ${method} ${url.pathname}. The sandbox serves /credentials and /tunnel_sessions.`);
  }

  private createCredential(body: unknown): unknown {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
    const input = body as Record<string, unknown>;
    const description = optionalString(input, 'description', MAX_DESCRIPTION);
    const metadata = optionalString(input, 'metadata', MAX_METADATA);
    const acl = input['acl'] ?? [];
    if (!Array.isArray(acl) || !acl.every((r) => typeof r === 'string')) throw badRequest('"acl" must be a list of strings.');
    for (const rule of acl) {
      if (!isValidAclRule(rule)) {
        throw new ApiFailure(
          400,
          ApiErrorCode.invalidAcl,
          `Invalid ACL rule. An ACL rule must be '*' or start with 'bind:'. The bind value must match the format of a domain, address, or label. You specified: ${rule}.`,
        );
      }
    }
    const credential = this.opts.credentials.create({ description, metadata, acl });
    this.order.set(credential.id, ++this.seq);
    return this.credentialJson(credential, true);
  }

  private sortedCredentials(): Credential[] {
    const list = this.opts.credentials.list();
    // Credentials made outside the API (the demo developer's) come first in creation order.
    for (const c of list) if (!this.order.has(c.id)) this.order.set(c.id, ++this.seq);
    return list.sort((a, b) => (this.order.get(b.id) ?? 0) - (this.order.get(a.id) ?? 0));
  }

  private credentialJson(c: Credential, withToken: boolean) {
    return {
      id: c.id,
      uri: `${this.url}/credentials/${c.id}`,
      created_at: c.createdAt,
      description: c.description,
      metadata: c.metadata,
      token: withToken ? c.token : null,
      acl: [...c.acl],
      owner_id: null,
    };
  }

  private sessionJson(s: AgentSessionInfo) {
    const remote = /^\[?([^\]]*?)\]?:\d+$/.exec(s.remoteAddr);
    return {
      id: s.id,
      uri: `${this.url}/tunnel_sessions/${s.id}`,
      agent_version: '',
      credential: s.credentialId ? { id: s.credentialId, uri: `${this.url}/credentials/${s.credentialId}` } : null,
      ip: remote?.[1] ?? s.remoteAddr,
      metadata: s.metadata,
      os: '',
      region: 'local',
      started_at: s.connectedAt,
      transport: 'ngrok/2',
    };
  }

  /** ngrok-style paging: newest first, `limit` (≤ 100) and `before_id`. */
  private page<T extends { id: string }>(url: URL, key: string, items: T[]): Record<string, unknown> {
    const limitText = url.searchParams.get('limit');
    const limit = limitText === null ? MAX_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badRequest(`"limit" must be a whole number from 1 to ${MAX_LIMIT}.`);
    const beforeId = url.searchParams.get('before_id');
    let start = 0;
    if (beforeId !== null) {
      const at = items.findIndex((i) => i.id === beforeId);
      start = at < 0 ? items.length : at + 1;
    }
    const slice = items.slice(start, start + limit);
    const more = start + limit < items.length;
    const last = slice.at(-1);
    return {
      [key]: slice,
      uri: `${this.url}${url.pathname}${url.search}`,
      next_page_uri: more && last ? `${this.url}${url.pathname}?before_id=${encodeURIComponent(last.id)}&limit=${limit}` : null,
    };
  }
}

/** ngrok's ACL rule forms: `*`, `bind:<domain>`, `bind:*.<domain>`, `bind:<label-name>=<value>`. */
export function isValidAclRule(rule: string): boolean {
  if (rule === '*') return true;
  if (!rule.startsWith('bind:')) return false;
  const target = rule.slice('bind:'.length).toLowerCase();
  if (/^[a-z][a-z0-9_.-]{0,62}=[a-z0-9_.-]{1,63}$/.test(target)) return true;
  const host = target.startsWith('*.') ? target.slice(2) : target;
  return host.length > 0 && host.length <= 253 && host.includes('.') && host.split('.').every((l) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(l));
}

function optionalString(input: Record<string, unknown>, key: string, max: number): string {
  const value = input[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw badRequest(`"${key}" must be a string.`);
  if (Buffer.byteLength(value) > max) throw badRequest(`"${key}" is longer than ${max} bytes.`);
  return value;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw badRequest('The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
}

const badRequest = (msg: string) => new ApiFailure(400, ApiErrorCode.badRequest, msg);
const notFound = (what: string, id: string) => new ApiFailure(404, ApiErrorCode.notFound, `No ${what} with id "${id}".`);
const methodNotAllowed = (method: string, path: string) => new ApiFailure(405, ApiErrorCode.methodNotAllowed, `${method} is not supported on ${path}.`);
