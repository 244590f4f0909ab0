import { DevtunnelCommand } from '../cli/base-command.js';
import { logout, type LogoutResult } from '../account/logout.js';

export default class Logout extends DevtunnelCommand {
  static override summary = 'Leave the team on this machine: remove keychain entries and local team state.';
  static override examples = ['<%= config.bin %> logout', '<%= config.bin %> logout --json'];

  async run(): Promise<LogoutResult> {
    const { flags } = await this.parse(Logout);
    const ctx = this.context(flags['no-color']);
    const result = await logout(ctx);
    const entries = (n: number) => `${n} keychain ${n === 1 ? 'entry' : 'entries'}`;
    if (result.removed_damaged_login) {
      ctx.out.data('Removed a damaged local login. Run `devtunnel login` to join your team again.');
      // The damaged file no longer says which team it was, so its keychain entries cannot be named.
      ctx.out.warn(`Its keychain entries (service "${ctx.env.DEVTUNNEL_KEYCHAIN_SERVICE || 'devtunnel'}", accounts authtoken:<team> and team-secret:<team>:*) could not be identified; logging in again to the same team overwrites them, or remove them with your keychain tool.`);
    }
    else if (!result.was_logged_in) ctx.out.data('Not logged in; nothing to remove.');
    else ctx.out.data(`Logged out of ${result.team}; removed ${entries(result.removed_keychain_entries)}.`);
    return result;
  }
}
