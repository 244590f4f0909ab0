// Synthetic requests and fake services for the policy engine.
import { CompiledPolicy, type AuthRequest, type HttpRequestFacts, type PolicyServices, type WebhookVerdict } from '../../../../src/sandbox/policy/engine.js';
import { parseTrafficPolicy } from '../../../../src/sandbox/traffic-policy-document.js';

export function facts(over: Partial<HttpRequestFacts> = {}): HttpRequestFacts {
  return {
    method: 'GET',
    host: 'app.dev.devtunnel.localhost',
    scheme: 'https',
    path: '/',
    rawPath: '/',
    query: '',
    queryParams: {},
    headers: { host: ['app.dev.devtunnel.localhost'], 'user-agent': ['test'] },
    clientIp: '127.0.0.1',
    clientPort: 50000,
    serverIp: '127.0.0.1',
    serverPort: 8443,
    httpVersion: '1.1',
    endpoint: { id: 'ep_1', host: 'app.dev.devtunnel.localhost', url: 'https://app.dev.devtunnel.localhost:8443', protocol: 'https' },
    now: new Date('2026-01-01T00:00:00Z'),
    ...over,
  };
}

export interface FakeServices extends PolicyServices {
  authCalls: AuthRequest[];
  webhookCalls: Array<{ provider: string; secret: string; body: Buffer; url: string }>;
}

/** Services that sign everyone in as `email` (or redirect when undefined) and verify webhooks per `verdict`. */
export function services(opts: { email?: string; name?: string; verdict?: WebhookVerdict } = {}): FakeServices {
  const authCalls: AuthRequest[] = [];
  const webhookCalls: FakeServices['webhookCalls'] = [];
  return {
    authCalls,
    webhookCalls,
    async authenticate(request) {
      authCalls.push(request);
      if (opts.email === undefined) return { response: { status: 302, headers: [['location', 'https://idp.example/authorize']], body: Buffer.alloc(0) }, reason: 'sign-in required', denial: false };
      return { vars: { identity: { email: opts.email, name: opts.name ?? 'Some One', id: 'sub-1' } } };
    },
    verifyWebhook(provider, secret, request) {
      webhookCalls.push({ provider, secret, body: request.body, url: request.url });
      return opts.verdict ?? { verified: true };
    },
  };
}

/** Validate like the edge at bind, then compile. */
export function policy(doc: unknown): CompiledPolicy {
  return new CompiledPolicy(parseTrafficPolicy(JSON.stringify(doc)));
}
