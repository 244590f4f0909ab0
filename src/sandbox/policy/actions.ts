/** The Traffic Policy actions the sandbox edge enforces, per phase, and their documented facts. */
import type { PolicyPhase } from '../traffic-policy-document.js';

export const SUPPORTED_ACTIONS: Readonly<Record<PolicyPhase, readonly string[]>> = {
  on_tcp_connect: ['restrict-ips', 'deny'],
  on_http_request: ['oauth', 'openid-connect', 'verify-webhook', 'restrict-ips', 'deny', 'custom-response', 'add-headers', 'remove-headers'],
  on_http_response: ['restrict-ips', 'custom-response', 'add-headers', 'remove-headers'],
};

/** Real ngrok actions the sandbox does not emulate; a policy using them is refused at bind, never half-enforced. */
export const UNEMULATED_ACTIONS: readonly string[] = [
  'basic-auth',
  'rate-limit',
  'jwt-validation',
  'url-rewrite',
  'redirect',
  'log',
  'set-vars',
  'forward-internal',
  'close-connection',
  'compress-response',
  'saml',
  'terminate-tls',
  'http-request',
  'sse',
];

/** Actions that end the phase (traffic-policy.md §1.4). */
export const TERMINATING_ACTIONS: ReadonlySet<string> = new Set(['deny', 'custom-response', 'close-connection', 'forward-internal']);

/** Authentication actions: at most one per endpoint (ERR_NGROK_2239). */
export const AUTH_ACTIONS: ReadonlySet<string> = new Set(['oauth', 'openid-connect', 'saml']);

/** OAuth providers ngrok supports (traffic-policy.md §2.1). */
export const OAUTH_PROVIDERS: readonly string[] = ['amazon', 'facebook', 'github', 'gitlab', 'google', 'linkedin', 'microsoft', 'twitch'];

/** Providers with an ngrok-managed OAuth app (the others need client_id + client_secret). */
export const MANAGED_OAUTH_PROVIDERS: ReadonlySet<string> = new Set(['github', 'gitlab', 'google', 'linkedin', 'microsoft', 'twitch']);

/** ngrok-error-code values the sandbox attaches to its own rejections (non-contractual, traffic-policy.md §5). */
export const EDGE_ERROR = {
  ipRestricted: 'ERR_NGROK_3203',
  webhookFailed: 'ERR_NGROK_3204',
  runtime: 'ERR_NGROK_3900',
  /** OIDC: talking to the identity provider (token exchange) failed. */
  idpUnreachable: 'ERR_NGROK_5202',
  /** OIDC: the ID token failed verification. */
  idTokenInvalid: 'ERR_NGROK_5204',
  /** OIDC: the identity provider answered with an error. */
  idpError: 'ERR_NGROK_5211',
} as const;
