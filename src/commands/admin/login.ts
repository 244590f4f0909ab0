import { Flags } from '@oclif/core';
import { DevtunnelCommand } from '../../cli/base-command.js';
import { apiUrlFlag, teamFlag } from '../../admin/flags.js';
import type { AdminLoginResult } from '../../admin/admin.js';
import { cannotPrompt } from '../../ui/prompter.js';

export default class AdminLogin extends DevtunnelCommand {
  static override showKeychainNotice = true;
  static override summary = "Store the team's ngrok API key in the OS keychain.";
  static override description =
    'Checks the key against the ngrok REST API, then keeps it in the keychain as admin-api:<team>. The key is read from a masked prompt or from standard input, never from the command line.';
  static override examples = [
    { description: 'Paste the key at a masked prompt', command: '<%= config.bin %> admin login' },
    { description: 'From a secrets manager, keeping it out of argv and history', command: 'op read op://it/ngrok/api-key | <%= config.bin %> admin login --stdin' },
    { description: 'Against a sandbox', command: '<%= config.bin %> admin login --stdin --api-url http://127.0.0.1:4040 < sandbox-api-key.txt' },
  ];
  static override flags = {
    team: teamFlag,
    'api-url': apiUrlFlag,
    stdin: Flags.boolean({ description: 'Read the API key from standard input.' }),
  };

  async run(): Promise<AdminLoginResult> {
    const { flags } = await this.parse(AdminLogin);
    const ctx = this.context(flags['no-color']);
    let apiKey: string;
    if (flags.stdin) {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      apiKey = Buffer.concat(chunks).toString('utf8').trim();
    } else {
      if (!ctx.prompter.interactive) throw cannotPrompt('the ngrok API key', 'Pipe it in: `devtunnel admin login --stdin < api-key.txt`.');
      apiKey = (await ctx.prompter.secret('ngrok API key:')).trim();
    }
    ctx.redactor.add(apiKey);
    const { adminLogin, adminConfigFor } = await import('../../admin/admin.js');
    const result = await adminLogin({ ctx, config: adminConfigFor(ctx), apiUrl: flags['api-url'] }, { team: flags.team, apiUrl: flags['api-url'], apiKey });
    ctx.out.data(`API key for team ${result.team} stored in ${result.keychain} (admin-api:${result.team}).`);
    ctx.out.data(`ngrok API: ${result.api_url}`);
    return result;
  }
}
