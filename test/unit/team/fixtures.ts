// Shared test fixtures for team and profile tests.
import type { TeamPolicy } from '../../../src/team/policy-schema.js';

/** A valid policy exercising every profile kind; tests clone and break it. */
export function samplePolicy(): TeamPolicy {
  return {
    version: 7,
    team: { id: 'acme', name: 'Acme Corp' },
    ingress: { server_addr: 'connect.tunnels-dev.acme.com:443', root_cas: 'trusted' },
    domain: 'tunnels-dev.acme.com',
    limits: { max_ttl: '8h', default_ttl: '2h' },
    profiles: {
      sso: {
        description: 'Company SSO',
        oidc: { issuer_url: 'https://acme.okta.com', client_id: '0oa123', client_secret: { secret: 'okta' }, allow_domains: ['acme.com'] },
        ip: { allow: ['203.0.113.0/24', '2001:db8::/32'] },
        headers: { add: { 'X-Devtunnel-User': '${user.email}' } },
      },
      contractors: {
        oauth: { provider: 'github', allow_emails: ['john@contractor.example'], allow_domains: ['acme-services.example'] },
      },
    },
    webhooks: {
      github: { provider: 'github', ip: { allow: ['192.30.252.0/22'] } },
      stripe: { provider: 'stripe' },
    },
  };
}

export const clone = <T>(value: T): T => structuredClone(value);
