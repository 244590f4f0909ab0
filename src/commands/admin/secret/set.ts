import { Args, Flags } from '@oclif/core';
import { DevtunnelCommand } from '../../../cli/base-command.js';
import { teamFlag } from '../../../admin/flags.js';
import { cannotPrompt } from '../../../ui/prompter.js';

export default class AdminSecretSet extends DevtunnelCommand {
  static override showKeychainNotice = true;
  static override summary = 'Keep a team secret (e.g. the OIDC client secret) in the keychain for invites.';
  static override description =
    'Policies refer to secrets as `{ secret: NAME }`; `admin invite` reads each named secret from your keychain (team-secret:<team>:<name>) and puts it into the invite, from where it goes straight into the developer’s keychain.';
  static override examples = [{ description: 'From a file, never on the command line', command: '<%= config.bin %> admin secret set okta --stdin < okta-client-secret.txt' }];
  static override args = { name: Args.string({ description: 'Secret name, as in `{ secret: NAME }`', required: true }) };
  static override flags = { team: teamFlag, stdin: Flags.boolean({ description: 'Read the value from standard input.' }) };

  async run(): Promise<{ team: string; name: string; keychain: string }> {
    const { args, flags } = await this.parse(AdminSecretSet);
    const ctx = this.context(flags['no-color']);
    let value: string;
    if (flags.stdin) {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      value = Buffer.concat(chunks).toString('utf8');
    } else {
      if (!ctx.prompter.interactive) throw cannotPrompt(`the value of ${args.name}`, `Pipe it in: \`devtunnel admin secret set ${args.name} --stdin < file\`.`);
      value = await ctx.prompter.secret(`Value of team secret ${args.name}:`);
    }
    const { setTeamSecret, adminConfigFor } = await import('../../../admin/admin.js');
    const result = await setTeamSecret({ ctx, config: adminConfigFor(ctx) }, { team: flags.team, name: args.name, value });
    ctx.out.data(`Stored team secret ${result.name} in ${result.keychain} (team-secret:${result.team}:${result.name}).`);
    return result;
  }
}
