import { Args, Flags } from '@oclif/core';
import { DevtunnelCommand } from '../cli/base-command.js';
import { waitForStopSignal } from '../cli/signals.js';
import { runShare, type ShareEvent } from '../tunnel/share.js';
import { printLifecycleEvent } from '../ui/tunnel-events.js';

export default class Share extends DevtunnelCommand {
  static override summary = 'Expose a local app on your team domain, behind a team-approved profile.';
  static override description =
    'Starts an endpoint <name>.<you>.<team domain> through the team\'s agent ingress. The profile decides who gets in (company SSO, allow-listed emails, IP ranges); flags can only narrow it. Runs until Ctrl-C, which closes the endpoint at the edge.';
  static override examples = [
    { description: 'Share port 3000 behind company SSO', command: '<%= config.bin %> share 3000 --profile sso' },
    { description: 'Share an app on another host and port, named "api"', command: '<%= config.bin %> share 127.0.0.1:8080 --profile sso --name api' },
    { description: 'Only let one colleague in (must be inside the profile)', command: '<%= config.bin %> share 3000 --profile sso --allow-email alice@example.com' },
    { description: 'Machine-readable events, one JSON object per line', command: '<%= config.bin %> share 3000 --profile sso --json' },
  ];
  static override args = {
    target: Args.string({ ignoreStdin: true, description: 'Local app: PORT, HOST:PORT or an http(s) URL', required: true }),
  };
  static override flags = {
    profile: Flags.string({
      char: 'p',
      description: 'Approved profile to use (required; see `devtunnel profiles`).',
      env: 'DEVTUNNEL_PROFILE',
      // Checked by the service, which can list the team's approved profiles in the error.
    }),
    name: Flags.string({ char: 'n', description: 'Endpoint name, the first label of the URL.', default: 'app', env: 'DEVTUNNEL_NAME' }),
    'allow-email': Flags.string({
      description: 'Narrow the profile to these emails (repeatable); each must already be allowed by the profile.',
      multiple: true,
      default: [],
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Share);
    const ctx = this.context(flags['no-color']);
    const signals = waitForStopSignal();
    const report = (event: ShareEvent) => {
      if (ctx.out.json) return ctx.out.jsonLine(event);
      if (event.event !== 'ready') return printLifecycleEvent(ctx.out, event, (url) => `Stopped sharing ${url}.`);
      ctx.out.data(event.url);
      ctx.out.notice(`Sharing ${event.local} as ${event.url} (profile ${event.profile}, team ${event.team}).`);
      ctx.out.notice('Press Ctrl-C to stop.');
    };
    const exitCode = await runShare(
      ctx,
      { target: args.target, profile: flags.profile, name: flags.name, allowEmails: flags['allow-email'] },
      report,
      signals,
    );
    // The SDK's native session keeps the event loop alive; the endpoint is already closed.
    process.exit(exitCode);
  }
}
