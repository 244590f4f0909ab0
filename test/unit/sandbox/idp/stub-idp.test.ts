// The stub IdP's checks, through its HTTP handler on a plain loopback server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { StubIdp } from '../../../../src/sandbox/idp/stub-idp.js';

let idp: StubIdp;
let server: http.Server;
let base: string;
const REDIRECT = 'https://app.dev.devtunnel.localhost:8443/ngrok/oauth2/callback';

beforeAll(async () => {
  server = http.createServer((req, res) => idp.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp = await StubIdp.create({
    issuer: base,
    redirectAllowed: (u) => u.hostname === 'app.dev.devtunnel.localhost' && u.port === '8443',
  });
  idp.registerClient({ clientId: 'client-1', clientSecret: 'secret-1' });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function call(method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    redirect: 'manual',
    headers: form ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : headers,
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  return { status: res.status, location: res.headers.get('location') ?? '', text: await res.text() };
}

const authz = (over: Record<string, string> = {}) => ({
  response_type: 'code',
  client_id: 'client-1',
  redirect_uri: REDIRECT,
  scope: 'openid email profile',
  state: 'st-1',
  nonce: 'n-1',
  ...over,
});

async function code(over: Record<string, string> = {}, email = 'dev@example.com'): Promise<string> {
  const res = await call('POST', '/authorize', { ...authz(over), email });
  expect(res.status, res.text).toBe(302);
  const loc = new URL(res.location);
  expect(loc.searchParams.get('state')).toBe(over.state ?? 'st-1');
  return loc.searchParams.get('code')!;
}

describe('stub IdP', () => {
  it('serves discovery and JWKS', async () => {
    const d = JSON.parse((await call('GET', '/.well-known/openid-configuration')).text);
    expect(d).toMatchObject({ issuer: base, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks` });
    expect(JSON.parse((await call('GET', '/jwks')).text).keys[0]).toMatchObject({ kty: 'EC', alg: 'ES256', use: 'sig' });
  });

  it('shows the sign-in page with quick picks, escaping what it echoes', async () => {
    const page = await call('GET', `/authorize?${new URLSearchParams(authz({ state: '"><script>x</script>', provider: 'github' }))}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('GitHub');
    expect(page.text).toContain('value="dev@example.com"');
    expect(page.text).not.toContain('<script>x');
  });

  it.each([
    ['unknown client', { client_id: 'nope' }],
    ['foreign redirect_uri', { redirect_uri: 'https://evil.test/ngrok/oauth2/callback' }],
    ['redirect_uri on another path', { redirect_uri: 'https://app.dev.devtunnel.localhost:8443/steal' }],
    ['redirect_uri on another port', { redirect_uri: 'https://app.dev.devtunnel.localhost:9999/ngrok/oauth2/callback' }],
  ])('refuses %s with a page, never a redirect', async (_, over) => {
    const res = await call('GET', `/authorize?${new URLSearchParams(authz(over))}`);
    expect(res.status).toBe(400);
    expect(res.location).toBe('');
  });

  it.each([
    ['missing state', { state: '' }, 'invalid_request'],
    ['missing nonce', { nonce: '' }, 'invalid_request'],
    ['implicit flow', { response_type: 'token' }, 'unsupported_response_type'],
  ])('returns %s to the client as an error', async (_, over, error) => {
    const res = await call('GET', `/authorize?${new URLSearchParams(authz(over))}`);
    expect(res.status).toBe(302);
    expect(new URL(res.location).searchParams.get('error')).toBe(error);
  });

  it('issues a signed ID token with iss, aud, nonce and email; codes are single use and bound to client and redirect_uri', async () => {
    const c = await code();
    const basic = `Basic ${Buffer.from('client-1:secret-1').toString('base64')}`;
    const token = await call('POST', '/token', { grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT }, { authorization: basic });
    expect(token.status, token.text).toBe(200);
    const set = JSON.parse(token.text);
    expect(decodeJwt(set.id_token)).toMatchObject({ iss: base, aud: 'client-1', nonce: 'n-1', email: 'dev@example.com' });
    const claims = await idp.verifyIdToken(set.id_token, { issuer: base, audience: 'client-1', nonce: 'n-1' });
    expect(claims.email).toBe('dev@example.com');
    await expect(idp.verifyIdToken(set.id_token, { issuer: base, audience: 'client-1', nonce: 'other' })).rejects.toThrow(/nonce/);
    await expect(idp.verifyIdToken(set.id_token, { issuer: base, audience: 'client-2', nonce: 'n-1' })).rejects.toThrow();
    await expect(idp.verifyIdToken(set.id_token, { issuer: 'https://other', audience: 'client-1', nonce: 'n-1' })).rejects.toThrow();
    const userinfo = await call('GET', '/userinfo', undefined, { authorization: `Bearer ${set.access_token}` });
    expect(JSON.parse(userinfo.text)).toMatchObject({ email: 'dev@example.com' });
    // Reuse fails.
    const again = await call('POST', '/token', { grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT }, { authorization: basic });
    expect(JSON.parse(again.text).error).toBe('invalid_grant');
  });

  it('refuses a wrong client secret and a mismatched redirect_uri', async () => {
    const wrong = await idp.exchangeCode({ code: await code(), clientId: 'client-1', clientSecret: 'nope', redirectUri: REDIRECT });
    expect(wrong).toMatchObject({ ok: false, error: 'invalid_client' });
    const other = await idp.exchangeCode({ code: await code(), clientId: 'client-1', clientSecret: 'secret-1', redirectUri: 'https://app.dev.devtunnel.localhost:8443/ngrok/oauth2/callback?x' });
    expect(other).toMatchObject({ ok: false, error: 'invalid_grant' });
  });

  it('acts as another issuer when asked (every openid-connect issuer is served by the stub)', async () => {
    const c = await code({ issuer: 'https://acme.okta.com' });
    const r = await idp.exchangeCode({ code: c, clientId: 'client-1', clientSecret: 'secret-1', redirectUri: REDIRECT });
    expect(r.ok && decodeJwt(r.tokens.id_token).iss).toBe('https://acme.okta.com');
  });
});
