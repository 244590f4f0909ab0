import { Flags } from '@oclif/core';
import { DevtunnelCommand } from '../../cli/base-command.js';
import { teamFlag } from '../../admin/flags.js';
import type { AdminLogoutResult } from '../../admin/admin.js';

export default class AdminLogout extends DevtunnelCommand {
  static override summary = "Remove the team's ngrok API key and team secrets from this machine's keychain.";
  static override description =
    "Deletes admin-api:<team> and the team secrets `admin secret set` stored (team-secret:<team>:<name>; kept when this machine's developer login is for the same team, which uses them). The team's private signing key (admin-key:<team>) stays, so `admin login` later picks up where you left off; --forget-team-key deletes it too, with the team's admin settings, after a confirmation. Without the key no policy or invite can be signed for the team again.";
  static override examples = [
    { description: 'Remove the API key and team secrets, keep the signing key', command: '<%= config.bin %> admin logout' },
    { description: 'Also delete the signing key (asks first)', command: '<%= config.bin %> admin logout --forget-team-key' },
    { description: 'The same in a script', command: '<%= config.bin %> admin logout --forget-team-key --yes' },
  ];
  static override flags = {
    team: teamFlag,
    'forget-team-key': Flags.boolean({ description: "Also delete the team's private signing key and its admin settings (cannot be undone)." }),
    yes: Flags.boolean({ char: 'y', description: 'Confirm --forget-team-key without a prompt.' }),
  };

  async run(): Promise<AdminLogoutResult> {
    const { flags } = await this.parse(AdminLogout);
    const ctx = this.context(flags['no-color']);
    const { adminLogout, adminConfigFor } = await import('../../admin/admin.js');
    const result = await adminLogout({ ctx, config: adminConfigFor(ctx) }, { team: flags.team, forgetTeamKey: flags['forget-team-key'], yes: flags.yes });
    if (result.removed.length === 0) ctx.out.data(`Nothing to remove for team ${result.team} in ${result.keychain}.`);
    for (const account of result.removed) ctx.out.data(`Removed ${account} from ${result.keychain}.`);
    for (const k of result.kept) ctx.out.data(`Kept ${k.account}: ${k.reason}.`);
    if (result.settings_removed) ctx.out.data(`Forgot team ${result.team}'s admin settings; \`devtunnel admin init\` starts again.`);
    return result;
  }
}
