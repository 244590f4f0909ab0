import { Args } from '@oclif/core';
import { DevtunnelCommand } from '../../cli/base-command.js';
import { showProfile } from '../../account/approved-profiles.js';

export default class ProfilesShow extends DevtunnelCommand {
  static override summary = 'Explain one profile and print the Traffic Policy it compiles to.';
  static override examples = ['<%= config.bin %> profiles show sso', '<%= config.bin %> profiles show contractors --json'];
  static override args = { name: Args.string({ ignoreStdin: true, description: 'Profile name', required: true }) };

  async run() {
    const { args, flags } = await this.parse(ProfilesShow);
    const ctx = this.context(flags['no-color']);
    const result = await showProfile(ctx, args.name);
    ctx.out.data(result.name);
    for (const line of result.enforces) ctx.out.data(`  ${line}`);
    ctx.out.data('');
    ctx.out.data('Traffic Policy (secrets redacted):');
    ctx.out.data(JSON.stringify(result.traffic_policy, null, 2));
    return result;
  }
}
