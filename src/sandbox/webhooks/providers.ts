/**
 * The ngrok webhook provider ids the sandbox edge verifies. Kept free of imports so the CLI's
 * provider catalogue (src/profiles/webhook-providers.ts) can mark them without loading any
 * verifier; verify.ts is typed against this list, so the two cannot drift apart.
 */
export const SANDBOX_WEBHOOK_PROVIDER_IDS = [
  'aftership', 'airship', 'alchemy', 'bitbucket', 'bolt', 'box', 'brex', 'buildkite', 'calendly', 'chargify',
  'circleci', 'clerk', 'coinbase', 'docusign', 'dropbox', 'facebook_graph_api', 'facebook_messenger', 'frameio',
  'github', 'gitlab', 'heroku', 'hubspot', 'instagram', 'intercom', 'jira', 'launch_darkly', 'linear', 'mailgun',
  'microsoft_teams', 'modern_treasury', 'mux', 'orb', 'pagerduty', 'pinwheel', 'pusher', 'sendgrid', 'sentry',
  'shopify', 'slack', 'sonatype', 'square', 'stripe', 'svix', 'terraform', 'tiktok', 'twilio', 'twitter',
  'typeform', 'vmware', 'webex', 'whatsapp', 'worldline', 'xero', 'zendesk', 'zoom',
] as const;

export type SandboxWebhookProviderId = (typeof SANDBOX_WEBHOOK_PROVIDER_IDS)[number];

/** Providers the sandbox verifies: every one of them has a verifier in verify.ts and a webhook profile in the demo policy. */
export const SANDBOX_WEBHOOK_PROVIDERS: ReadonlySet<string> = new Set(SANDBOX_WEBHOOK_PROVIDER_IDS);
