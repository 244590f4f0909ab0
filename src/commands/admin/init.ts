import { Flags } from '@oclif/core';
import { DevtunnelCommand } from '../../cli/base-command.js';
import { apiUrlFlag } from '../../admin/flags.js';
import type { InitResult } from '../../admin/admin.js';

export default class AdminInit extends DevtunnelCommand {
  static override showKeychainNotice = true;
  static override summary = 'Set up a team: make its signing key and write a starter policy.yaml.';
  static override description =
    "Makes the team's Ed25519 key (the private half goes into the OS keychain as admin-key:<team> and nowhere else), writes a starter policy from the shipped templates with your team, domain and ingress filled in, and prints the key fingerprint. Publish the fingerprint to developers over a channel they trust.";
  static override examples = [
    {
      description: 'A team on its own ngrok custom ingress',
      command: '<%= config.bin %> admin init --team acme --name "Acme Corp" --domain tunnels-dev.acme.com --ingress connect.tunnels-dev.acme.com:443',
    },
    {
      description: 'Against a local sandbox (its CA file and REST API)',
      command: '<%= config.bin %> admin init --team acme --name Acme --domain devtunnel.localhost --ingress 127.0.0.1:4443 --root-cas ~/.local/state/devtunnel/sandbox/ca.pem --api-url http://127.0.0.1:4040',
    },
  ];
  static override flags = {
    team: Flags.string({ description: 'Team id: lower-case letters, digits and dashes.', required: true, env: 'DEVTUNNEL_TEAM' }),
    name: Flags.string({ description: 'Team display name.', required: true }),
    domain: Flags.string({ description: 'Endpoint domain: endpoints are <name>.<user>.<domain>.', required: true }),
    ingress: Flags.string({ description: 'Agent ingress HOST:PORT (the SDK’s server_addr).', required: true }),
    'root-cas': Flags.string({ description: 'Trust for the ingress: trusted (ngrok’s CA), host (OS store) or a PEM file.', default: 'trusted' }),
    'allow-domain': Flags.string({ description: 'Email domain the starter profile admits (repeatable).', multiple: true, default: [] }),
    output: Flags.string({ char: 'o', description: 'Where to write the starter policy.', default: 'policy.yaml' }),
    'api-url': apiUrlFlag,
    force: Flags.boolean({ description: 'Replace an existing team key and policy file (developers then need new invites).' }),
  };

  async run(): Promise<InitResult> {
    const { flags } = await this.parse(AdminInit);
    const ctx = this.context(flags['no-color']);
    const { initTeam, adminConfigFor } = await import('../../admin/admin.js');
    const result = await initTeam(
      { ctx, config: adminConfigFor(ctx), apiUrl: flags['api-url'] },
      {
        team: flags.team,
        name: flags.name,
        domain: flags.domain,
        ingress: flags.ingress,
        rootCas: flags['root-cas'],
        apiUrl: flags['api-url'],
        output: flags.output,
        allowDomains: flags['allow-domain'],
        force: flags.force,
      },
    );
    ctx.out.data(`Team ${result.team.name} (${result.team.id}) is set up.`);
    ctx.out.data(`Team key fingerprint: ${result.key_fingerprint}`);
    ctx.out.data(`  private key: ${result.keychain} (admin-key:${result.team.id}); never written to a file`);
    ctx.out.data(`Starter policy: ${result.policy_file}`);
    ctx.out.data(`Next: edit it, then \`devtunnel admin policy sign ${result.policy_file}\` and \`devtunnel admin login\`.`);
    return result;
  }
}
