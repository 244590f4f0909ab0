import { Flags } from '@oclif/core';
import { DevtunnelCommand } from '../cli/base-command.js';
import { waitForStopSignal } from '../cli/signals.js';
import { ExitCode } from '../errors.js';

export default class Sandbox extends DevtunnelCommand {
  static override summary = 'Run a local ngrok-compatible edge with a demo team, for trying devtunnel offline.';
  static override description =
    'Listens on loopback only. Starts the agent ingress (TLS, with a CA kept in the state dir), the public HTTP/HTTPS ingress for *.devtunnel.localhost, and a demo team whose invite code is printed. Runs until Ctrl-C. With --json the first line describes the sandbox ("event":"sandbox_ready") and each later line is an edge event (its "event" names it).';
  static override examples = [
    { description: 'Start it and follow the printed steps', command: '<%= config.bin %> sandbox' },
    { description: 'Fixed ports, state kept in ./sandbox-state', command: '<%= config.bin %> sandbox --agent-port 4443 --http-port 8080 --https-port 8443 --state ./sandbox-state' },
    { description: 'For scripts: one JSON line with agent_addr, ca_path, http_url, https_url, domain, invite, api_url, api_key_file', command: '<%= config.bin %> sandbox --json' },
  ];
  static override flags = {
    state: Flags.string({ description: 'Directory for the sandbox CA and state.', env: 'DEVTUNNEL_SANDBOX_STATE' }),
    'agent-port': Flags.integer({ description: 'Agent ingress port (0 = any free port).', default: 0, min: 0, max: 65535 }),
    'http-port': Flags.integer({ description: 'Public HTTP ingress port (0 = any free port).', default: 0, min: 0, max: 65535 }),
    'https-port': Flags.integer({ description: 'Public HTTPS ingress port (0 = any free port).', default: 0, min: 0, max: 65535 }),
    'api-port': Flags.integer({ description: 'REST API port (0 = any free port).', default: 0, min: 0, max: 65535 }),
    'demo-acl': Flags.string({
      description: "ACL rule for the demo developer's credential (testing knob; default bind:*.dev.<domain>).",
      multiple: true,
      hidden: true,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Sandbox);
    const ctx = this.context(flags['no-color']);
    const signals = waitForStopSignal();
    const { startSandbox, defaultSandboxStateDir, sandboxEventLine, adminQuickStart } = await import('../sandbox/sandbox.js');
    const sandbox = await startSandbox({
      stateDir: flags.state ?? defaultSandboxStateDir(ctx.env),
      agentPort: flags['agent-port'],
      httpPort: flags['http-port'],
      httpsPort: flags['https-port'],
      apiPort: flags['api-port'],
      demoAcl: flags['demo-acl'],
    });
    const info = sandbox.info;
    if (ctx.out.json) {
      ctx.out.jsonLine(info);
      sandbox.onEvent((event) => ctx.out.jsonLine(sandboxEventLine(event)));
    } else {
      const o = ctx.out;
      o.data(`devtunnel sandbox — a local edge for team "${info.team.name}" (loopback only)`);
      o.data('');
      o.data(`  agent ingress   ${info.agent_addr}`);
      o.data(`  sandbox CA      ${info.ca_path}`);
      o.data(`  public ingress  ${info.http_url}  ${info.https_url}`);
      o.data(`  domain          *.${info.domain}`);
      o.data(`  team key        ${info.team_fingerprint}`);
      o.data(`  REST API        ${info.api_url}  (API key ${info.api_key})`);
      o.data('');
      o.data('Invite code for dev@example.com (a secret: treat it like a password):');
      o.data(`  ${info.invite}`);
      o.data('');
      o.data('In another terminal:');
      o.data('  devtunnel login            # paste the code above');
      o.data('  devtunnel share 3000 --profile sso');
      o.data('Or act as the team admin against this sandbox (docs/administrators.md, "Trying it offline"):');
      for (const line of adminQuickStart(info)) o.data(`  ${line}`);
      o.data('');
      o.notice('Press Ctrl-C to stop.');
      sandbox.onEvent((event) => o.notice(`[edge] ${sandbox.describeEvent(event)}`));
    }
    const signal = await signals.wait();
    await sandbox.close();
    process.exit(signal === 'SIGINT' ? ExitCode.interrupted : ExitCode.terminated);
  }
}
