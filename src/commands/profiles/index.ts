import { DevtunnelCommand } from '../../cli/base-command.js';
import { listApprovedProfiles } from '../../account/approved-profiles.js';
import { formatTable } from '../../ui/output.js';

export default class Profiles extends DevtunnelCommand {
  static override summary = "List the team's approved profiles and what each enforces.";
  static override examples = ['<%= config.bin %> profiles', '<%= config.bin %> profiles --json', '<%= config.bin %> profiles show sso'];

  async run() {
    const { flags } = await this.parse(Profiles);
    const ctx = this.context(flags['no-color']);
    const result = await listApprovedProfiles(ctx);
    const rows = result.profiles.map((p) => [p.kind === 'webhook' ? `webhook ${p.name}` : p.name, p.enforces.join('; ')]);
    for (const line of formatTable(rows, ctx.tty.stdout)) ctx.out.data(line);
    return result;
  }
}
