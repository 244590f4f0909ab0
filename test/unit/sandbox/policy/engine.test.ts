import { describe, expect, it } from 'vitest';
import { applyHeaderOps, applyHeaderOpsToRaw, CompiledPolicy } from '../../../../src/sandbox/policy/engine.js';
import { facts, policy, services } from './fixtures.js';

const run = (doc: unknown, f = facts(), s = services({ email: 'a@example.com' })) => policy(doc).runRequest(f, s);

describe('rules and actions', () => {
  it('forwards when no rule matches, and a rule without expressions always matches', async () => {
    expect((await run({ on_http_request: [{ expressions: ["req.url.path == '/nope'"], actions: [{ type: 'deny' }] }] })).termination).toBeUndefined();
    expect((await run({ on_http_request: [{ actions: [{ type: 'deny' }] }] })).termination?.response.status).toBe(403);
  });

  it('ANDs the expressions of a rule', async () => {
    const doc = (second: string) => ({ on_http_request: [{ expressions: ["req.method == 'GET'", second], actions: [{ type: 'deny', config: { status_code: 451 } }] }] });
    expect((await run(doc("req.url.path == '/'"))).termination?.response.status).toBe(451);
    expect((await run(doc("req.url.path == '/x'"))).termination).toBeUndefined();
  });

  it('deny: default 403 with no body, configured status, and nothing after it runs', async () => {
    const r = await run({
      on_http_request: [
        { name: 'first', actions: [{ type: 'add-headers', config: { headers: { 'x-a': '1' } } }] },
        { name: 'stop', actions: [{ type: 'deny', config: { status_code: 404 } }] },
        { name: 'never', actions: [{ type: 'custom-response', config: { status_code: 200, body: 'no' } }] },
      ],
    });
    expect(r.termination).toMatchObject({ rule: 'stop', action: 'deny', denial: true, response: { status: 404 } });
    expect(r.termination!.response.body.length).toBe(0);
  });

  it('rules run top to bottom: the first terminating rule wins', async () => {
    const r = await run({
      on_http_request: [
        { name: 'a', actions: [{ type: 'custom-response', config: { status_code: 201, body: 'first' } }] },
        { name: 'b', actions: [{ type: 'deny' }] },
      ],
    });
    expect(r.termination?.rule).toBe('a');
    expect(r.termination?.response.body.toString()).toBe('first');
  });

  it('custom-response: status, headers, interpolated body, inferred content-type', async () => {
    const r = await run(
      { on_http_request: [{ actions: [{ type: 'custom-response', config: { status_code: 403, headers: { 'X-Why': 'ip ${conn.client_ip}' }, body: 'address ${conn.client_ip} on ${req.url.path} is outside' } }] }] },
      facts({ clientIp: '203.0.113.9', path: '/admin', rawPath: '/admin' }),
    );
    expect(r.termination?.response.status).toBe(403);
    expect(r.termination?.response.headers).toEqual([
      ['x-why', 'ip 203.0.113.9'],
      ['content-type', 'text/plain; charset=utf-8'],
    ]);
    expect(r.termination?.response.body.toString()).toBe('address 203.0.113.9 on /admin is outside');
    const json = await run({ on_http_request: [{ actions: [{ type: 'custom-response', config: { body: '{"ok":true}' } }] }] });
    expect(json.termination?.response.status).toBe(200);
    expect(json.termination?.response.headers).toContainEqual(['content-type', 'application/json']);
  });

  it('add-headers and remove-headers: ordered edits, interpolated from action results, host overwritten', async () => {
    const r = await run(
      {
        on_http_request: [
          { actions: [{ type: 'openid-connect', config: { issuer_url: 'https://idp.example', client_id: 'c', client_secret: 's' } }] },
          {
            actions: [
              { type: 'remove-headers', config: { headers: ['X-Devtunnel-User', 'cookie'] } },
              { type: 'add-headers', config: { headers: { 'X-Devtunnel-User': '${actions.ngrok.oidc.identity.email}', 'x-name': '${actions.ngrok.oidc.identity.name}', host: 'internal' } } },
            ],
          },
        ],
      },
      facts(),
      services({ email: 'dev@example.com', name: 'Dev Eloper' }),
    );
    expect(r.termination).toBeUndefined();
    const headers: Record<string, string | string[]> = { host: 'app', 'x-devtunnel-user': 'spoofed@evil.test', cookie: 'a=b', accept: '*/*' };
    applyHeaderOps(headers, r.headerOps);
    expect(headers).toEqual({ accept: '*/*', 'x-devtunnel-user': 'dev@example.com', 'x-name': 'Dev Eloper', host: 'internal' });
    expect(r.actions['add_headers']).toEqual({ headers_added: { 'x-devtunnel-user': 'dev@example.com', 'x-name': 'Dev Eloper', host: 'internal' } });
    // add-headers appends to an existing header.
    const appended: Record<string, string | string[]> = { 'x-a': '1' };
    applyHeaderOps(appended, [{ op: 'add', name: 'x-a', value: '2' }]);
    expect(appended).toEqual({ 'x-a': ['1', '2'] });
  });

  it('on_http_response edits the response headers and can replace the response', async () => {
    const p = policy({
      on_http_response: [
        { actions: [{ type: 'remove-headers', config: { headers: ['server'] } }, { type: 'add-headers', config: { headers: { 'x-frame-options': 'DENY', 'x-status': '${string(res.status_code)}' } } }] },
        { expressions: ['res.status_code >= 500'], actions: [{ type: 'custom-response', config: { status_code: 503, body: 'upstream trouble' } }] },
      ],
    });
    const ok = await p.runResponse(facts(), {}, { status: 200, headers: { server: ['x'], 'content-type': ['text/plain'] } });
    expect(ok.termination).toBeUndefined();
    expect(applyHeaderOpsToRaw(['Server', 'x', 'Content-Type', 'text/plain'], ok.headerOps)).toEqual(['Content-Type', 'text/plain', 'x-frame-options', 'DENY', 'x-status', '200']);
    const bad = await p.runResponse(facts(), {}, { status: 502, headers: {} });
    expect(bad.termination?.response.status).toBe(503);
  });

  it('a custom-response in the request phase asks for the response phase to run; deny does not', async () => {
    expect((await run({ on_http_request: [{ actions: [{ type: 'custom-response', config: { body: 'x' } }] }] })).termination?.runResponsePhase).toBe(true);
    expect((await run({ on_http_request: [{ actions: [{ type: 'deny' }] }] })).termination?.runResponsePhase).toBe(false);
  });
});

describe('CEL variables and functions', () => {
  const matches = async (expr: string, f = facts()) => (await run({ on_http_request: [{ expressions: [expr], actions: [{ type: 'deny' }] }] }, f)).termination?.response.status === 403;

  it.each([
    ["req.method == 'POST'", true],
    ["req.host == 'app.dev.devtunnel.localhost'", true],
    ["req.url.path == '/hooks/github'", true],
    ["req.url.query == 'a=1&a=2&b=x'", true],
    ["req.url.query_params['a'] == ['1', '2']", true],
    ["getQueryParam('b') == ['x'] && hasQueryParam('a') && !hasQueryParam('z')", true],
    ["req.headers['x-api-key'][0] == 'K'", true],
    ["'x-api-key' in req.headers && !('x-nope' in req.headers)", true],
    ["getReqHeader('X-Api-Key') == ['K'] && hasReqHeader('X-API-KEY') && !hasReqHeader('x-nope')", true],
    ["getReqHeader('x-multi').size() == 2", true],
    ["conn.client_ip == '10.1.2.3'", true],
    ["inCidrRange(conn.client_ip, '10.0.0.0/8')", true],
    ["inCidrRange(conn.client_ip, 'not-a-cidr')", false],
    ["inCidrRanges(conn.client_ip, ['192.168.0.0/16', 'bogus', '10.1.0.0/16'])", true],
    ["conn.client_ip.isPrivateIp()", true],
    ["'ÄBC'.lower() == 'äbc' && 'abc'.upper() == 'ABC' && 'MiXeD'.lowerAscii() == 'mixed'", true],
    ["req.url.path.matches('(?i)^/HOOKS/')", true],
    ["time.now.startsWith('2026-01-01T')", true],
    ["endpoint.host == 'app.dev.devtunnel.localhost' && conn.server_port == 8443", true],
    ["req.content_length == 3", true],
  ])('%s → %s', async (expr, expected) => {
    const f = facts({
      method: 'POST',
      path: '/hooks/github',
      rawPath: '/hooks/github',
      query: 'a=1&a=2&b=x',
      queryParams: { a: ['1', '2'], b: ['x'] },
      headers: { 'x-api-key': ['K'], 'x-multi': ['1', '2'], 'content-length': ['3'] },
      clientIp: '10.1.2.3',
    });
    expect(await matches(expr, f)).toBe(expected);
  });

  it('X-Forwarded-For never changes conn.client_ip', async () => {
    const f = facts({ clientIp: '198.51.100.7', headers: { 'x-forwarded-for': ['127.0.0.1'], 'x-real-ip': ['127.0.0.1'] } });
    expect(await matches("conn.client_ip == '198.51.100.7'", f)).toBe(true);
    const r = await run({ on_http_request: [{ actions: [{ type: 'restrict-ips', config: { allow: ['127.0.0.0/8'] } }] }] }, f);
    expect(r.termination?.response.status).toBe(403);
  });
});

describe('runtime errors fail closed', () => {
  it.each([
    ['a missing action variable', "actions.ngrok.oidc.identity.email.endsWith('@example.com')"],
    ['a non-bool expression', "req.url.path"],
    ['an int divide by zero', '1 / 0 == 1'],
    ['an unknown function', "secrets.get('v', 'n') == 'x'"],
  ])('%s → 500 with ngrok-error-code, nothing forwarded', async (_, expr) => {
    const r = await run({ on_http_request: [{ name: 'gate', expressions: [expr], actions: [{ type: 'deny' }] }] });
    expect(r.termination).toMatchObject({ rule: 'gate', denial: true, response: { status: 500 } });
    expect(r.termination!.response.headers).toContainEqual(['ngrok-error-code', 'ERR_NGROK_3900']);
  });

  it('an interpolation error in add-headers fails closed too', async () => {
    const r = await run({ on_http_request: [{ actions: [{ type: 'add-headers', config: { headers: { 'x-u': '${actions.ngrok.oauth.identity.email}' } } }] }] });
    expect(r.termination?.response.status).toBe(500);
  });

  it('CEL error absorption still applies inside an expression', async () => {
    const r = await run({ on_http_request: [{ expressions: ['true || actions.ngrok.oidc.identity.email == "x"'], actions: [{ type: 'deny', config: { status_code: 418 } }] }] });
    expect(r.termination?.response.status).toBe(418);
  });
});

describe('restrict-ips', () => {
  const ips = (allow: string[], deny: string[] = [], enforce?: boolean) => ({
    on_http_request: [{ name: 'ip', actions: [{ type: 'restrict-ips', config: { allow, ...(deny.length ? { deny } : {}), ...(enforce === undefined ? {} : { enforce }) } }] }],
  });
  const status = async (doc: unknown, clientIp: string) => (await run(doc, facts({ clientIp }))).termination?.response.status ?? 200;

  it.each([
    // [allow, deny, client, expected]
    [['127.0.0.0/8'], [], '127.0.0.1', 200],
    [['127.0.0.0/8'], [], '10.0.0.1', 403],
    [['127.0.0.0/8'], ['127.0.0.77/32'], '127.0.0.77', 403],
    [['127.0.0.0/8'], ['127.0.0.77/32'], '127.0.0.78', 200],
    [['127.0.0.77/32'], ['127.0.0.0/8'], '127.0.0.77', 403], // deny wins on overlap
    [['::1/128'], [], '::1', 200],
    [['127.0.0.0/8'], [], '::1', 403],
    [['::/0'], [], '127.0.0.1', 403], // families do not mix
    [['0.0.0.0/0'], [], '::1', 403],
    [['0.0.0.0/0', '::/0'], ['::1/128'], '::1', 403],
    [['2001:db8:100::/48'], [], '2001:db8:100:7::1', 200],
    [['2001:db8:100::/48'], ['2001:db8:100:7::/64'], '2001:db8:100:7::1', 403],
    [['127.0.0.0/8'], [], '::ffff:127.0.0.1', 200], // IPv4-mapped client = IPv4
    [['::ffff:10.0.0.0/104'], [], '10.9.9.9', 200], // IPv4 rule written in mapped form
    [['10.0.0.1'], [], '10.0.0.1', 200], // bare address = /32
  ])('allow %j deny %j: %s → %d', async (allow, deny, ip, expected) => {
    expect(await status(ips(allow, deny), ip)).toBe(expected);
  });

  it('rejects with 403 and an ngrok-error-code; sets result variables; enforce:false only sets them', async () => {
    const r = await run(ips(['10.0.0.0/8'], ['10.6.6.0/24']), facts({ clientIp: '10.6.6.6' }));
    expect(r.termination?.response.headers).toContainEqual(['ngrok-error-code', 'ERR_NGROK_3203']);
    const soft = await run(
      {
        on_http_request: [
          { actions: [{ type: 'restrict-ips', config: { enforce: false, allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] } }] },
          { expressions: ["actions.ngrok.restrict_ips.action == 'deny'"], actions: [{ type: 'custom-response', config: { status_code: 401, body: 'blocked by ${actions.ngrok.restrict_ips.matched_cidr}' } }] },
        ],
      },
      facts({ clientIp: '10.6.6.6' }),
    );
    expect(soft.termination?.response.status).toBe(401);
    expect(soft.termination?.response.body.toString()).toBe('blocked by 10.6.6.0/24');
  });
});

describe('sign-in actions', () => {
  it('oauth: no session → the service answers (redirect), not a denial; with a session the identity is visible', async () => {
    const doc = {
      on_http_request: [
        { name: 'sign-in', actions: [{ type: 'oauth', config: { provider: 'github' } }] },
        { name: 'gate', expressions: ["!(actions.ngrok.oauth.identity.email.lowerAscii() in ['contractor@partner.test'])"], actions: [{ type: 'deny' }] },
      ],
    };
    const anonymous = await run(doc, facts(), services());
    expect(anonymous.termination).toMatchObject({ rule: 'sign-in', action: 'oauth', denial: false, response: { status: 302 } });
    const s = services({ email: 'Contractor@Partner.test' });
    expect((await run(doc, facts(), s)).termination).toBeUndefined();
    expect(s.authCalls[0]).toMatchObject({ kind: 'oauth', config: { provider: 'github' }, rule: 'sign-in' });
    expect((await run(doc, facts(), services({ email: 'someone@partner.test' }))).termination).toMatchObject({ rule: 'gate', response: { status: 403 } });
  });

  it('openid-connect: client_secret interpolation reaches the service', async () => {
    const s = services({ email: 'a@example.com' });
    await run({ on_http_request: [{ actions: [{ type: 'openid-connect', config: { issuer_url: 'https://idp.example', client_id: 'c', client_secret: 'pre-${req.method}' } }] }] }, facts(), s);
    expect(s.authCalls[0]?.config['client_secret']).toBe('pre-GET');
  });
});

describe('verify-webhook', () => {
  const doc = (extra: Record<string, unknown> = {}) => ({
    on_http_request: [{ name: 'verify', actions: [{ type: 'verify-webhook', config: { provider: 'github', secret: 'shh', ...extra } }] }],
  });
  const body = Buffer.from('{"zen":"Keep it logically awesome."}');

  it('buffers the body once, passes the raw bytes and absolute URL, and forwards those bytes', async () => {
    const s = services({ email: 'x', verdict: { verified: true } });
    let reads = 0;
    const f = facts({ method: 'POST', path: '/hook', rawPath: '/hook', query: 'a=1', readBody: async () => (reads++, body) });
    const r = await policy(doc()).runRequest(f, s);
    expect(r.termination).toBeUndefined();
    expect(reads).toBe(1);
    expect(r.body?.equals(body)).toBe(true);
    expect(s.webhookCalls[0]).toMatchObject({ provider: 'github', secret: 'shh', url: 'https://app.dev.devtunnel.localhost:8443/hook?a=1' });
    expect(r.actions['verify_webhook']).toMatchObject({ verified: true });
  });

  it('failure → 403 with ngrok-error-code; enforce:false only sets the variables', async () => {
    const s = services({ email: 'x', verdict: { verified: false, error: 'signature mismatch' } });
    const f = facts({ method: 'POST', readBody: async () => body });
    const r = await policy(doc()).runRequest(f, s);
    expect(r.termination).toMatchObject({ action: 'verify-webhook', response: { status: 403 } });
    expect(r.termination!.response.headers).toContainEqual(['ngrok-error-code', 'ERR_NGROK_3204']);
    expect(r.termination!.reason).toContain('signature mismatch');
    const soft = await policy(doc({ enforce: false })).runRequest(f, s);
    expect(soft.termination).toBeUndefined();
    expect(soft.actions['verify_webhook']).toMatchObject({ verified: false });
  });

  it('answers a provider handshake itself', async () => {
    const s = services({ email: 'x', verdict: { verified: true, handshake: { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"ok":1}') } } });
    const r = await policy(doc()).runRequest(facts({ method: 'POST', readBody: async () => body }), s);
    expect(r.termination).toMatchObject({ denial: false, response: { status: 200 } });
  });
});

describe('engine-level API', () => {
  it('compiles a document directly (no bind-time validation) and reports the auth action', () => {
    const p = new CompiledPolicy({ on_http_request: [{ actions: [{ type: 'openid-connect', config: { issuer_url: 'https://i', client_id: 'c', client_secret: 's' } }] }] });
    expect(p.authAction()).toMatchObject({ kind: 'oidc' });
    expect(p.hasResponsePhase).toBe(false);
  });
});
