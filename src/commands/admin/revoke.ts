import { Args } from '@oclif/core';
import { DevtunnelCommand } from '../../cli/base-command.js';
import { apiUrlFlag, teamFlag } from '../../admin/flags.js';
import type { RevokeResult } from '../../admin/admin.js';

export default class AdminRevoke extends DevtunnelCommand {
  static override summary = "Revoke a developer's access: delete the credential and stop their live sessions.";
  static override description =
    'Deletes the credential (so no new agent session can authenticate with it) and sends Stop to every live agent session that used it. Running `devtunnel share` processes end with exit 5, saying the team admin revoked access.';
  static override examples = [
    { description: 'By email (every credential of that developer)', command: '<%= config.bin %> admin revoke alice@acme.com' },
    { description: 'One credential by id', command: '<%= config.bin %> admin revoke cr_2abcDEF' },
  ];
  static override args = {
    who: Args.string({ description: 'EMAIL or CREDENTIAL_ID', required: true }),
  };
  static override flags = { team: teamFlag, 'api-url': apiUrlFlag };

  async run(): Promise<RevokeResult> {
    const { args, flags } = await this.parse(AdminRevoke);
    const ctx = this.context(flags['no-color']);
    const { revokeMember, adminConfigFor } = await import('../../admin/admin.js');
    const result = await revokeMember({ ctx, config: adminConfigFor(ctx), apiUrl: flags['api-url'] }, { team: flags.team, who: args.who });
    for (const r of result.revoked) ctx.out.data(`Revoked ${r.credential_id}${r.email ? ` (${r.email})` : ''}.`);
    ctx.out.data(`Stopped ${result.sessions_stopped.length} live session${result.sessions_stopped.length === 1 ? '' : 's'}.`);
    return result;
  }
}
