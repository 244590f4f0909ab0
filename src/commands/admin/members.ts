import { DevtunnelCommand } from '../../cli/base-command.js';
import { apiUrlFlag, teamFlag } from '../../admin/flags.js';
import type { Member } from '../../admin/admin.js';
import { formatTable } from '../../ui/output.js';

export default class AdminMembers extends DevtunnelCommand {
  static override summary = "List the team's members: one credential per invited developer.";
  static override description = 'Reads the credentials devtunnel minted for this team from the ngrok REST API: user, credential id, creation time and ACL.';
  static override examples = [
    { description: 'As a table', command: '<%= config.bin %> admin members' },
    { description: 'For scripts', command: '<%= config.bin %> admin members --json' },
  ];
  static override flags = { team: teamFlag, 'api-url': apiUrlFlag };

  async run(): Promise<{ team: string; members: Member[] }> {
    const { flags } = await this.parse(AdminMembers);
    const ctx = this.context(flags['no-color']);
    const { listMembers, adminConfigFor } = await import('../../admin/admin.js');
    const result = await listMembers({ ctx, config: adminConfigFor(ctx), apiUrl: flags['api-url'] }, { team: flags.team });
    if (result.members.length === 0) {
      ctx.out.notice(`Team ${result.team} has no members yet. Invite one with \`devtunnel admin invite EMAIL\`.`);
    } else {
      const rows = [['USER', 'CREDENTIAL', 'CREATED', 'ACL'], ...result.members.map((m) => [m.email, m.credential_id, m.created_at, m.acl.join(',')])];
      for (const line of formatTable(ctx.tty.stdout ? rows : rows.slice(1), ctx.tty.stdout)) ctx.out.data(line);
    }
    return result;
  }
}
