import { Args, Flags } from '@oclif/core';
import { DevtunnelCommand } from '../cli/base-command.js';
import { login, readInviteCode, type LoginResult } from '../account/login.js';

export default class Login extends DevtunnelCommand {
  static override showKeychainNotice = true;
  static override summary = 'Join your team with an invite code.';
  static override description =
    'Verifies the invite (team signature, expiry, policy), stores the ACL-bound authtoken and team secrets in the OS keychain, and keeps the signed team policy and the team key locally. Logging in again replaces the previous login cleanly.';
  static override examples = [
    { description: 'Paste the code at a masked prompt', command: '<%= config.bin %> login' },
    { description: 'Read the code from a file or another program (keeps it off the command line)', command: '<%= config.bin %> login --stdin < invite.txt' },
    { description: 'Require the team key your admin told you about', command: '<%= config.bin %> login --stdin --fingerprint SHA256:AbC... < invite.txt' },
  ];
  static override args = {
    code: Args.string({ ignoreStdin: true, description: 'Invite code (dtinv1.…). Prefer --stdin or the prompt: arguments end up in shell history.' }),
  };
  static override flags = {
    stdin: Flags.boolean({ description: 'Read the invite code from standard input.' }),
    fingerprint: Flags.string({
      description: 'Refuse the invite unless the team key has this fingerprint.',
      env: 'DEVTUNNEL_TEAM_FINGERPRINT',
    }),
  };

  async run(): Promise<LoginResult> {
    const { args, flags } = await this.parse(Login);
    const ctx = this.context(flags['no-color']);
    const code = await readInviteCode(ctx, { arg: args.code, stdin: flags.stdin });
    const result = await login(ctx, code, { fingerprint: flags.fingerprint });
    const { out } = ctx;
    out.data(`Logged in to ${result.team.name} (${result.team.id}) as ${result.user.email}.`);
    out.data(`Team key fingerprint: ${result.key_fingerprint}`);
    out.data(`Authtoken stored in: ${result.keychain}`);
    out.data(`Policy version ${result.policy_version}; approved profiles: ${result.profiles.join(', ')}`);
    if (result.webhooks.length > 8) out.data(`Approved webhook providers: ${result.webhooks.length} (see \`devtunnel profiles\`)`);
    else if (result.webhooks.length > 0) out.data(`Approved webhook providers: ${result.webhooks.join(', ')}`);
    const suggested = result.profiles.includes('sso') ? 'sso' : (result.profiles[0] ?? '<profile>');
    out.data(`Next: devtunnel share 3000 --profile ${suggested}`);
    return result;
  }
}
