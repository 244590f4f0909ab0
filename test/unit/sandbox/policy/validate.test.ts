// Bind-time validation: what the sandbox refuses (the agent sees ERR_NGROK_9026 wrapping these).
import { describe, expect, it } from 'vitest';
import { parseTrafficPolicy } from '../../../../src/sandbox/traffic-policy-document.js';

const req = (...actions: unknown[]) => JSON.stringify({ on_http_request: [{ actions }] });

describe('action validation at bind', () => {
  it.each([
    ['unknown action', req({ type: 'teleport' }), /unknown action type "teleport".*2201/],
    ['unemulated action', req({ type: 'rate-limit', config: {} }), /not supported by the devtunnel sandbox edge.*2201/],
    ['action in the wrong phase', JSON.stringify({ on_http_response: [{ actions: [{ type: 'oauth', config: { provider: 'github' } }] }] }), /not allowed in phase on_http_response.*2202/],
    ['action after a terminating one', req({ type: 'deny' }, { type: 'add-headers', config: { headers: { a: 'b' } } }), /unreachable.*2207/],
    [
      'two auth actions',
      JSON.stringify({ on_http_request: [{ actions: [{ type: 'oauth', config: { provider: 'github' } }] }, { actions: [{ type: 'oauth', config: { provider: 'google' } }] }] }),
      /only one auth action.*2239/,
    ],
    ['bad CEL', JSON.stringify({ on_http_request: [{ expressions: ['req.method =='], actions: [{ type: 'deny' }] }] }), /2200/],
    ['bad template', req({ type: 'add-headers', config: { headers: { a: '${req.method' } } }), /2224/],
    ['bad CIDR', req({ type: 'restrict-ips', config: { allow: ['10.0.0.0/33'] } }), /not a valid CIDR.*2217/],
    ['deny-only restrict-ips', req({ type: 'restrict-ips', config: { deny: ['10.0.0.0/8'] } }), /393/],
    ['ip_policies', req({ type: 'restrict-ips', config: { ip_policies: ['ipp_1'] } }), /2216/],
    ['unknown oauth provider', req({ type: 'oauth', config: { provider: 'myspace' } }), /unsupported OAuth provider/],
    ['half a client', req({ type: 'oauth', config: { provider: 'github', client_id: 'x' } }), /both client_id and client_secret/],
    ['oidc without issuer', req({ type: 'openid-connect', config: { client_id: 'c', client_secret: 's' } }), /issuer_url is required/],
    ['unknown webhook provider', req({ type: 'verify-webhook', config: { provider: 'nope', secret: 's' } }), /unsupported webhook provider/],
    ['webhook without secret', req({ type: 'verify-webhook', config: { provider: 'github' } }), /secret is required/],
    ['bad status', req({ type: 'deny', config: { status_code: 99 } }), /HTTP status code/],
    ['add-headers without headers', req({ type: 'add-headers', config: {} }), /map of header names/],
    ['user-agent removal', req({ type: 'remove-headers', config: { headers: ['User-Agent'] } }), /cannot be removed/],
  ])('%s', (_, text, message) => {
    expect(() => parseTrafficPolicy(text)).toThrow(message);
  });

  it('accepts every action the sandbox enforces', () => {
    const doc = {
      on_tcp_connect: [{ actions: [{ type: 'restrict-ips', config: { allow: ['0.0.0.0/0', '::/0'] } }] }],
      on_http_request: [
        { actions: [{ type: 'restrict-ips', config: { allow: ['127.0.0.0/8', '::1/128'], deny: ['127.0.0.77'] } }] },
        { expressions: ["req.url.path.startsWith('/hooks')"], actions: [{ type: 'verify-webhook', config: { provider: 'github', secret: 's', enforce: true } }] },
        { expressions: ["!req.url.path.startsWith('/hooks')"], actions: [{ type: 'openid-connect', config: { issuer_url: 'https://idp.x', client_id: 'c', client_secret: 's', scopes: ['openid'] } }] },
        { actions: [{ type: 'remove-headers', config: { headers: ['x-u'] } }, { type: 'add-headers', config: { headers: { 'x-u': '${actions.ngrok.oidc.identity.email}' } } }] },
        { expressions: ["req.method == 'TRACE'"], actions: [{ type: 'deny', config: { status_code: 405 } }] },
        { expressions: ["req.url.path == '/teapot'"], actions: [{ type: 'custom-response', config: { status_code: 418, headers: { 'content-type': 'text/plain' }, body: 'short and stout' } }] },
      ],
      on_http_response: [{ actions: [{ type: 'add-headers', config: { headers: { 'x-frame-options': 'DENY' } } }] }],
    };
    expect(() => parseTrafficPolicy(JSON.stringify(doc))).not.toThrow();
  });
});
