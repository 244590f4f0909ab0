/**
 * Wires Traffic Policy enforcement and the stub identity provider into a SandboxEdge:
 * the IdP is served on `idp.<domain>` by the edge's public ingress, and the enforcer
 * becomes the ingress's beforeForward hook.
 */
import { networkInterfaces } from 'node:os';
import type { SandboxEdge } from '../edge.js';
import { StubIdp, type StubIdpClient } from '../idp/stub-idp.js';
import { verifyWebhook, webhookHandshake } from '../webhooks/verify.js';
import type { WebhookVerifyFn } from './engine.js';
import { PolicyEnforcer } from './enforcer.js';

export interface PolicyEnforcement {
  idp: StubIdp;
  enforcer: PolicyEnforcer;
}

/** verify-webhook through the webhook verifiers: handshakes the edge answers itself first, then signatures. */
export const sandboxWebhookVerifier: WebhookVerifyFn = (provider, secret, request, now) => {
  const handshake = webhookHandshake(provider, secret, request, now);
  if (handshake) return { verified: true, handshake };
  return verifyWebhook(provider, secret, request, now);
};

/** Start the stub IdP (issuer `https://idp.<domain>:<httpsPort>`) and enforce policies on `edge`. */
export async function attachPolicyEnforcement(edge: SandboxEdge, options: { clients?: StubIdpClient[]; verifyWebhook?: WebhookVerifyFn } = {}): Promise<PolicyEnforcement> {
  const idpHost = `idp.${edge.domain}`;
  const idp = await StubIdp.create({
    issuer: `https://${idpHost}:${edge.httpsPort}`,
    // Only the edge's callback on an endpoint this edge serves, on the ingress port for that scheme.
    redirectAllowed: (uri) => {
      const port = uri.protocol === 'https:' ? edge.httpsPort : uri.protocol === 'http:' ? edge.httpPort : -1;
      return Number(uri.port) === port && edge.endpoints().some((e) => e.host === uri.hostname.toLowerCase());
    },
  });
  for (const client of options.clients ?? []) idp.registerClient(client);
  const enforcer = new PolicyEnforcer({ events: edge.events, idp, verifyWebhook: options.verifyWebhook ?? sandboxWebhookVerifier });
  edge.serveHost(idpHost, (req, res) => idp.handle(req, res));
  edge.setBeforeForward(enforcer.beforeForward);
  return { idp, enforcer };
}

/** Loopback addresses the public ingress can listen on: 127.0.0.1, and ::1 when the host has IPv6 loopback. */
export function loopbackPublicHosts(): string[] {
  const hasV6 = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.internal && a.family === 'IPv6' && a.address === '::1'));
  return hasV6 ? ['127.0.0.1', '::1'] : ['127.0.0.1'];
}
