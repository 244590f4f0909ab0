/**
 * Where, in each provider's own settings, a developer pastes the webhook URL and finds the signing
 * secret. One line each, shown next to the URL `devtunnel webhook` prints; providers without an
 * entry get a generic line built from the catalogue name.
 */
const HINTS: Record<string, string> = {
  github: 'GitHub: repository or organization Settings → Webhooks → Add webhook; Payload URL = this URL, Content type application/json, Secret = your signing secret.',
  gitlab: 'GitLab: project Settings → Webhooks → Add new webhook; URL = this URL, Secret token = your secret.',
  stripe: 'Stripe: Dashboard → Developers → Webhooks → Add endpoint; the signing secret (whsec_…) is under "Reveal" on the endpoint.',
  slack: 'Slack: api.slack.com/apps → your app → Event Subscriptions → Request URL; the Signing Secret is under Basic Information.',
  twilio: 'Twilio: Console → Phone Numbers → your number → Messaging/Voice webhook URL; the secret is your Auth Token.',
  shopify: 'Shopify: Partner Dashboard → your app → Configuration → Webhooks (or store Settings → Notifications → Webhooks); the secret is the app client secret.',
  svix: 'Svix: your app portal → Endpoints → Add endpoint; the Signing Secret (whsec_…) is on the endpoint page.',
  clerk: 'Clerk: Dashboard → Configure → Webhooks → Add Endpoint; the Signing Secret (whsec_…) is on the endpoint page.',
  brex: 'Brex: register the URL with the Webhooks API; the secret (whsec_…) comes from GET /v1/webhooks/secrets.',
  pagerduty: 'PagerDuty: Integrations → Generic Webhooks (v3) → New Webhook; the secret is shown once when the subscription is created.',
  zoom: 'Zoom: App Marketplace → your app → Feature → Event Subscriptions → Event notification endpoint URL; the secret is the Secret Token (the edge answers the URL validation).',
  linear: 'Linear: Settings → API → Webhooks → New webhook; the signing secret is shown on the webhook page.',
  sendgrid: 'SendGrid: Settings → Mail Settings → Event Webhook → HTTP Post URL; enable Signed Event Webhook and use its verification key as the secret.',
  square: 'Square: Developer Dashboard → your app → Webhooks → Subscriptions; Notification URL = this URL, the secret is the Signature key.',
  mailgun: 'Mailgun: Sending → Webhooks → Add webhook; the secret is the HTTP webhook signing key.',
  hubspot: 'HubSpot: developer account → your app → Webhooks → Target URL; the secret is the app Client secret.',
  twitter: 'X: developer portal → Account Activity API → register this URL; the secret is the app consumer secret (the edge answers the CRC check).',
  microsoft_teams: 'Teams: channel → Manage channel → Apps → Create an outgoing webhook; the secret is the security token shown after creating it.',
  sentry: 'Sentry: Settings → Developer Settings → your integration → Webhook URL; the secret is the integration Client Secret.',
  bitbucket: 'Bitbucket: repository settings → Webhooks → Add webhook; URL = this URL, Secret = your secret.',
  jira: 'Jira: Settings → System → WebHooks → Create a WebHook; URL = this URL, Secret = your secret.',
  intercom: 'Intercom: Developer Hub → your app → Webhooks; the secret is the app client secret.',
  typeform: 'Typeform: your form → Connect → Webhooks → Add a webhook; edit it to set a Secret.',
  zendesk: 'Zendesk: Admin Center → Apps and integrations → Webhooks → Create webhook; the signing secret is on the webhook page.',
  calendly: 'Calendly: create the subscription with the webhook API; the secret is the signing key you set.',
  mux: 'Mux: Dashboard → Settings → Webhooks → Create new webhook; the signing secret is on the webhook.',
};

/** One line saying where to paste the URL (and find the secret) for `provider`. */
export function webhookSettingsHint(provider: string, name: string): string {
  return HINTS[provider] ?? `${name}: paste this URL into ${name}'s webhook settings and use the signing secret shown there.`;
}
