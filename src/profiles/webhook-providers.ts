/**
 * The webhook providers ngrok's `verify-webhook` action accepts (identifiers exactly as ngrok's
 * docs list them; see docs/webhook-providers.md §1). devtunnel accepts only these: anything else
 * would be refused by the edge when the endpoint starts.
 */
import { SANDBOX_WEBHOOK_PROVIDERS } from '../sandbox/webhooks/providers.js';

/** One provider ngrok can verify webhooks for. */
export interface WebhookProvider {
  /** ngrok's identifier, e.g. `github`. */
  readonly id: string;
  /** Human name, e.g. `GitHub`. */
  readonly name: string;
  /** False only for Amazon SNS, which is verified by certificate and takes no shared secret. */
  readonly needsSecret: boolean;
  /** True when the local sandbox edge verifies this provider's signatures (src/sandbox/webhooks). */
  readonly sandbox: boolean;
}

const P = (id: string, name: string, needsSecret = true): WebhookProvider => ({ id, name, needsSecret, sandbox: SANDBOX_WEBHOOK_PROVIDERS.has(id) });

/** All providers, sorted by id. */
export const WEBHOOK_PROVIDERS: readonly WebhookProvider[] = Object.freeze([
  P('aftership', 'AfterShip'),
  P('airship', 'Airship'),
  P('alchemy', 'Alchemy'),
  P('autodesk', 'Autodesk Platform Services'),
  P('bitbucket', 'Bitbucket'),
  P('bolt', 'Bolt'),
  P('box', 'Box'),
  P('brex', 'Brex'),
  P('buildkite', 'Buildkite'),
  P('calendly', 'Calendly'),
  P('castle', 'Castle'),
  P('chargify', 'Chargify'),
  P('circleci', 'CircleCI'),
  P('clearbit', 'Clearbit'),
  P('clerk', 'Clerk'),
  P('coinbase', 'Coinbase'),
  P('contentful', 'Contentful'),
  P('docusign', 'DocuSign'),
  P('dropbox', 'Dropbox'),
  P('facebook_graph_api', 'Facebook Graph API'),
  P('facebook_messenger', 'Facebook Messenger'),
  P('frameio', 'Frame.io'),
  P('github', 'GitHub'),
  P('gitlab', 'GitLab'),
  P('go1', 'Go1'),
  P('graphcms', 'Hygraph (GraphCMS)'),
  P('heroku', 'Heroku'),
  P('hostedhooks', 'Hosted Hooks'),
  P('hubspot', 'HubSpot'),
  P('instagram', 'Instagram'),
  P('intercom', 'Intercom'),
  P('jira', 'Jira'),
  P('launch_darkly', 'LaunchDarkly'),
  P('linear', 'Linear'),
  P('mailchimp', 'Mailchimp'),
  P('mailgun', 'Mailgun'),
  P('microsoft_teams', 'Microsoft Teams'),
  P('modern_treasury', 'Modern Treasury'),
  P('mongodb', 'MongoDB'),
  P('mux', 'Mux'),
  P('orb', 'Orb'),
  P('orbit', 'Orbit'),
  P('pagerduty', 'PagerDuty'),
  P('pinwheel', 'Pinwheel'),
  P('plivo', 'Plivo'),
  P('pusher', 'Pusher'),
  P('sendgrid', 'SendGrid'),
  P('sentry', 'Sentry'),
  P('shopify', 'Shopify'),
  P('signal_sciences', 'Signal Sciences'),
  P('slack', 'Slack'),
  P('sns', 'Amazon SNS', false),
  P('sonatype', 'Sonatype Nexus'),
  P('square', 'Square'),
  P('stripe', 'Stripe'),
  P('svix', 'Svix'),
  P('terraform', 'Terraform'),
  P('tiktok', 'TikTok'),
  P('trendmicro_conformity', 'Trend Micro Conformity'),
  P('twilio', 'Twilio'),
  P('twitter', 'Twitter / X'),
  P('typeform', 'Typeform'),
  P('vmware', 'VMware Workspace ONE'),
  P('webex', 'Webex'),
  P('whatsapp', 'WhatsApp'),
  P('worldline', 'Worldline'),
  P('xero', 'Xero'),
  P('zendesk', 'Zendesk'),
  P('zoom', 'Zoom'),
]);

/** The provider with this exact id, or undefined. */
export function findWebhookProvider(id: string): WebhookProvider | undefined {
  return WEBHOOK_PROVIDERS.find((p) => p.id === id);
}

/** The providers the sandbox edge verifies, sorted by id. */
export function sandboxWebhookProviders(): WebhookProvider[] {
  return WEBHOOK_PROVIDERS.filter((p) => p.sandbox);
}

/** True when ngrok can verify webhooks from `id`. */
export function isWebhookProvider(id: string): boolean {
  return findWebhookProvider(id) !== undefined;
}

/** Ids close to a mistyped one (same prefix or edit distance ≤ 2), for "did you mean" suggestions. */
export function suggestWebhookProviders(id: string): string[] {
  const lower = id.toLowerCase();
  return WEBHOOK_PROVIDERS.map((p) => p.id).filter(
    (candidate) => candidate.startsWith(lower.slice(0, 3)) && lower.length >= 3 || editDistance(candidate, lower) <= 2,
  );
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
