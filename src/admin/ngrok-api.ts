/**
 * A small client for the ngrok REST API (https://api.ngrok.com), the subset the admin side needs:
 * credentials (authtokens with ACLs) and tunnel sessions. The sandbox serves the same subset, so
 * everything runs offline against `devtunnel sandbox` (`--api-url`).
 *
 * - `Authorization: Bearer <API key>` and `Ngrok-Version: 2` on every request;
 * - ngrok's JSON error body (`error_code`, `status_code`, `msg`, `details.operation_id`) becomes a
 *   {@link NgrokApiError} (a UserError) naming the code, the message and the request id;
 * - 429 and 5xx are retried with exponential backoff, honouring `Retry-After`, a bounded number of times;
 * - list endpoints follow `next_page_uri` until the end.
 *
 * The API key never appears in an error message: it is only ever put in the Authorization header.
 */
import { ExitCode, UserError, type ExitCodeValue } from '../errors.js';

/** The public ngrok API. */
export const DEFAULT_NGROK_API_URL = 'https://api.ngrok.com';

/** A credential (an authtoken with ACL rules), as the API returns it. `token` is only present on create. */
export interface ApiCredential {
  id: string;
  uri: string;
  created_at: string;
  description: string;
  metadata: string;
  /** The authtoken itself; only in the create response. A secret. */
  token: string | null;
  acl: string[];
  owner_id?: string | null;
}

/** A live agent session. */
export interface ApiTunnelSession {
  id: string;
  uri: string;
  agent_version: string;
  credential: { id: string; uri: string } | null;
  ip: string;
  metadata: string;
  os: string;
  region: string;
  started_at: string;
  transport: string;
}

export interface CreateCredentialRequest {
  description?: string;
  metadata?: string;
  acl?: string[];
}

export interface NgrokApiClientOptions {
  apiKey: string;
  /** Default {@link DEFAULT_NGROK_API_URL}. */
  baseUrl?: string;
  /** Default the global fetch (Node 20). */
  fetch?: typeof fetch;
  /** Total attempts for a retryable failure (429, 5xx, network error). Default 4. */
  maxAttempts?: number;
  /** First backoff step in ms (doubled each retry, ±jitter-free). Default 500. */
  backoffMs?: number;
  /** Longest wait between attempts, including a server's Retry-After. Default 30 s. */
  maxDelayMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /** Appended to the User-Agent. */
  userAgent?: string;
}

/** An API failure: ngrok's error code and message, the HTTP status and the request (operation) id. */
export class NgrokApiError extends UserError {
  constructor(
    message: string,
    readonly status: number,
    readonly ngrokCode: string | undefined,
    readonly operationId: string | undefined,
    exitCode: ExitCodeValue,
    suggestions: string[],
  ) {
    super(message, { exitCode, code: 'ngrok_api_error', suggestions });
    this.name = 'NgrokApiError';
  }
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The REST client. Construct one per command run. */
export class NgrokApiClient {
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;
  readonly #maxAttempts: number;
  readonly #backoffMs: number;
  readonly #maxDelayMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #timeoutMs: number;
  readonly #userAgent: string;

  constructor(options: NgrokApiClientOptions) {
    if (!options.apiKey) throw new TypeError('an API key is required');
    this.baseUrl = normalizeBaseUrl(options.baseUrl ?? DEFAULT_NGROK_API_URL);
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#backoffMs = options.backoffMs ?? 500;
    this.#maxDelayMs = options.maxDelayMs ?? 30_000;
    this.#sleep = options.sleep ?? sleepMs;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#userAgent = `devtunnel${options.userAgent ? ` ${options.userAgent}` : ''}`;
  }

  createCredential(body: CreateCredentialRequest): Promise<ApiCredential> {
    return this.request<ApiCredential>('POST', '/credentials', body);
  }

  getCredential(id: string): Promise<ApiCredential> {
    return this.request<ApiCredential>('GET', `/credentials/${encodeURIComponent(id)}`);
  }

  async deleteCredential(id: string): Promise<void> {
    await this.request<unknown>('DELETE', `/credentials/${encodeURIComponent(id)}`);
  }

  /** Every credential, across all pages. */
  listCredentials(options: { limit?: number } = {}): Promise<ApiCredential[]> {
    return this.listAll<ApiCredential>('/credentials', 'credentials', options.limit);
  }

  /** Every live tunnel (agent) session, across all pages. */
  listTunnelSessions(options: { limit?: number } = {}): Promise<ApiTunnelSession[]> {
    return this.listAll<ApiTunnelSession>('/tunnel_sessions', 'tunnel_sessions', options.limit);
  }

  /** Ask the agent of a session to stop (the Stop command). */
  async stopTunnelSession(id: string): Promise<void> {
    await this.request<unknown>('POST', `/tunnel_sessions/${encodeURIComponent(id)}/stop`, {});
  }

  /** Follow `next_page_uri` from `path` and concatenate the `key` arrays. */
  async listAll<T>(path: string, key: string, limit?: number): Promise<T[]> {
    const items: T[] = [];
    let next: string | null = limit ? `${path}?limit=${limit}` : path;
    const seen = new Set<string>();
    while (next) {
      if (seen.has(next)) throw new NgrokApiError(`The ngrok API returned a page link that loops (${next}).`, 0, undefined, undefined, ExitCode.unexpected, []);
      seen.add(next);
      const page: Record<string, unknown> = await this.request<Record<string, unknown>>('GET', next);
      const list = page[key];
      if (!Array.isArray(list)) throw malformedResponse(`${path} has no "${key}" list`);
      items.push(...(list as T[]));
      const nextUri = page['next_page_uri'];
      next = typeof nextUri === 'string' && nextUri !== '' ? nextUri : null;
    }
    return items;
  }

  /**
   * One API call with retries. `pathOrUrl` is a path under the base URL, or an absolute URL the API
   * itself returned (pagination), which must be on the same origin (so the key never goes elsewhere).
   */
  async request<T>(method: string, pathOrUrl: string, body?: unknown): Promise<T> {
    const url = this.resolve(pathOrUrl);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.#apiKey}`,
            'ngrok-version': '2',
            accept: 'application/json',
            'user-agent': this.#userAgent,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (error) {
        const reason = describeNetworkError(error);
        // fetch refuses some ports outright ("bad port"): trying again cannot help.
        const blockedPort = reason === 'bad port';
        if (attempt < this.#maxAttempts && !blockedPort) {
          await this.#sleep(this.backoff(attempt));
          continue;
        }
        // A URL that cannot be reached is bad input (exit 2), not a bug.
        const port = new URL(this.baseUrl).port;
        throw new NgrokApiError(
          blockedPort
            ? `Cannot reach the ngrok API at ${this.baseUrl}: port ${port} is one that fetch refuses to connect to ("bad port").`
            : `Cannot reach the ngrok API at ${this.baseUrl}: ${reason}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}.`,
          0,
          undefined,
          undefined,
          ExitCode.usage,
          blockedPort
            ? ['Serve the API on another port (fetch blocks well-known service ports such as 1, 9, 25, 6000), and pass that URL with --api-url.']
            : ['Check the --api-url / DEVTUNNEL_API_URL value (default https://api.ngrok.com), and the network or VPN.'],
        );
      }
      const retryable = response.status === 429 || response.status >= 500;
      if (retryable && attempt < this.#maxAttempts) {
        const wait = retryAfterMs(response.headers.get('retry-after')) ?? this.backoff(attempt);
        await response.body?.cancel().catch(() => undefined);
        await this.#sleep(Math.min(wait, this.#maxDelayMs));
        continue;
      }
      const text = await response.text();
      if (!response.ok) throw this.toError(method, url, response, text, attempt);
      if (response.status === 204 || text.trim() === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw malformedResponse(`${method} ${new URL(url).pathname} did not return JSON`);
      }
    }
  }

  private resolve(pathOrUrl: string): string {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      const target = new URL(pathOrUrl);
      if (target.origin !== new URL(this.baseUrl).origin) {
        throw malformedResponse(`a page link points to another host (${target.origin})`);
      }
      return target.toString();
    }
    return `${this.baseUrl}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`;
  }

  private backoff(attempt: number): number {
    return Math.min(this.#backoffMs * 2 ** (attempt - 1), this.#maxDelayMs);
  }

  private toError(method: string, url: string, response: Response, text: string, attempts: number): NgrokApiError {
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      // not JSON: a proxy's HTML page, say
    }
    const code = typeof body['error_code'] === 'string' ? body['error_code'] : undefined;
    const details = body['details'] && typeof body['details'] === 'object' ? (body['details'] as Record<string, unknown>) : {};
    const operationId =
      typeof details['operation_id'] === 'string' ? details['operation_id'] : (response.headers.get('ngrok-operation-id') ?? undefined);
    const msg = typeof body['msg'] === 'string' && body['msg'].trim() !== '' ? body['msg'].trim() : `HTTP ${response.status} ${response.statusText}`.trim();
    const safe = this.scrub(msg);
    const path = new URL(url).pathname;
    const parts = [`The ngrok API refused ${method} ${path}: ${safe}`];
    if (code) parts.push(`(${code})`);
    const tail = [`HTTP ${response.status}`];
    if (operationId) tail.push(`request id ${operationId}`);
    if (attempts > 1) tail.push(`after ${attempts} attempts`);
    const message = `${parts.join(' ')} [${tail.join(', ')}]`;
    const { exitCode, suggestions } = classify(response.status);
    return new NgrokApiError(message, response.status, code, operationId, exitCode, suggestions);
  }

  private scrub(text: string): string {
    return text.split(this.#apiKey).join('[redacted]');
  }
}

function classify(status: number): { exitCode: ExitCodeValue; suggestions: string[] } {
  if (status === 401 || status === 403) {
    return {
      exitCode: ExitCode.notLoggedIn,
      suggestions: ['The API key was refused: run `devtunnel admin login` again with a valid ngrok API key.'],
    };
  }
  if (status === 404) return { exitCode: ExitCode.usage, suggestions: ['Check the id; `devtunnel admin members` lists the team credentials.'] };
  if (status === 429) return { exitCode: ExitCode.unexpected, suggestions: ['The API is rate limiting this account; wait a minute and try again.'] };
  if (status >= 500) return { exitCode: ExitCode.unexpected, suggestions: ['The ngrok API failed; try again later, and quote the request id to ngrok support.'] };
  return { exitCode: ExitCode.usage, suggestions: [] };
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. Undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** `https://api.ngrok.com/` → `https://api.ngrok.com`; throws a usage error when not an http(s) URL. */
export function normalizeBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(`"${text}" is not a URL for the ngrok API.`, { exitCode: ExitCode.usage, code: 'api_url_invalid', suggestions: ['Example: --api-url https://api.ngrok.com'] });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UserError(`The ngrok API URL must be http(s): ${text}`, { exitCode: ExitCode.usage, code: 'api_url_invalid' });
  }
  if (url.username || url.password) {
    throw new UserError('The ngrok API URL must not carry a user name or password.', { exitCode: ExitCode.usage, code: 'api_url_invalid' });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function malformedResponse(what: string): NgrokApiError {
  return new NgrokApiError(`Unexpected answer from the ngrok API: ${what}.`, 0, undefined, undefined, ExitCode.unexpected, []);
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    if (error.name === 'TimeoutError') return 'the request timed out';
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
