import { Args, Flags } from '@oclif/core';
import { DevtunnelCommand } from '../cli/base-command.js';
import { waitForStopSignal } from '../cli/signals.js';
import { runWebhook, type WebhookEvent } from '../tunnel/webhook.js';
import { printLifecycleEvent } from '../ui/tunnel-events.js';

export default class Webhook extends DevtunnelCommand {
  static override showKeychainNotice = true;
  static override summary = 'Receive a provider\'s webhooks on a local port, signature-verified at the edge.';
  static override description =
    'Starts an endpoint <provider>.<you>.<team domain> that only lets through requests carrying a valid signature from the provider (checked by ngrok\'s edge with your signing secret, including timestamp windows and replays). The team policy must approve a webhook profile for the provider. The signing secret is asked for once and kept in the OS keychain; --rotate-secret replaces it. Prints the URL to paste into the provider\'s webhook settings and runs until Ctrl-C.';
  static override examples = [
    { description: 'GitHub webhooks to port 8080 (asks for the secret the first time)', command: '<%= config.bin %> webhook github 8080' },
    { description: 'Stripe webhooks, secret read from a file instead of a prompt', command: '<%= config.bin %> webhook stripe localhost:4242 --secret-stdin < stripe-whsec.txt' },
    { description: 'Only forward one path, under a custom endpoint name', command: '<%= config.bin %> webhook slack 3000 --path /slack/events --name bot' },
    { description: 'Replace the stored secret after rotating it at the provider', command: '<%= config.bin %> webhook github 8080 --rotate-secret' },
    { description: 'In CI: secret from the environment, events as JSON lines', command: 'DEVTUNNEL_WEBHOOK_SECRET=… <%= config.bin %> webhook github 8080 --json' },
  ];
  static override args = {
    provider: Args.string({ description: 'Webhook provider, as ngrok names it (github, stripe, slack, twilio, …); must be approved by the team policy.', required: true }),
    target: Args.string({ ignoreStdin: true, description: 'Local app: PORT, HOST:PORT or an http(s) URL', required: true }),
  };
  static override flags = {
    path: Flags.string({ description: 'Forward only this path (and below); the printed URL includes it.', env: 'DEVTUNNEL_WEBHOOK_PATH' }),
    name: Flags.string({ char: 'n', description: 'Endpoint name, the first label of the URL (default: the provider).', env: 'DEVTUNNEL_NAME' }),
    'rotate-secret': Flags.boolean({ description: 'Ask for the signing secret again and replace the one in the keychain.' }),
    'secret-stdin': Flags.boolean({ description: 'Read the signing secret from standard input (and store it in the keychain).' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Webhook);
    const ctx = this.context(flags['no-color']);
    const signals = waitForStopSignal();
    const report = (event: WebhookEvent) => {
      if (ctx.out.json) return ctx.out.jsonLine(event);
      if (event.event !== 'ready') return printLifecycleEvent(ctx.out, event, (url) => `Stopped receiving webhooks at ${url}.`);
      ctx.out.data(event.url);
      ctx.out.notice(`Receiving ${event.provider} webhooks at ${event.url} → ${event.local}; only requests with a valid signature get through.`);
      ctx.out.notice(`Where to paste it: ${event.hint}`);
      ctx.out.notice('Press Ctrl-C to stop.');
    };
    const exitCode = await runWebhook(
      ctx,
      {
        provider: args.provider,
        target: args.target,
        path: flags.path,
        name: flags.name,
        rotateSecret: flags['rotate-secret'],
        secretStdin: flags['secret-stdin'],
      },
      report,
      signals,
    );
    // The SDK's native session keeps the event loop alive; the endpoint is already closed.
    process.exit(exitCode);
  }
}
