import { DevtunnelCommand } from '../cli/base-command.js';
import { whoami, type WhoamiResult } from '../account/whoami.js';
import { formatTable } from '../ui/output.js';

export default class Whoami extends DevtunnelCommand {
  static override summary = 'Show your team, user, ingress and whether an authtoken is stored (never the token).';
  static override examples = ['<%= config.bin %> whoami', '<%= config.bin %> whoami --json'];

  async run(): Promise<WhoamiResult> {
    const { flags } = await this.parse(Whoami);
    const ctx = this.context(flags['no-color']);
    const result = await whoami(ctx);
    const rows = [
      ['team', `${result.team.name} (${result.team.id})`],
      ['user', result.user.email],
      ['endpoints', result.endpoint_pattern],
      ['ingress', result.ingress],
      ['policy', `version ${result.policy_version}, team key ${result.key_fingerprint}`],
      ['authtoken', result.authtoken.present ? `present (${result.authtoken.source})` : `missing — run devtunnel login`],
    ];
    for (const line of formatTable(rows, ctx.tty.stdout)) ctx.out.data(line);
    return result;
  }
}
