import { Args, Flags } from '@oclif/core';
import { DevtunnelCommand } from '../../cli/base-command.js';
import { apiUrlFlag, teamFlag } from '../../admin/flags.js';
import type { InviteResult } from '../../admin/admin.js';

export default class AdminInvite extends DevtunnelCommand {
  static override summary = 'Invite a developer: mint an ACL-bound credential and print the invite code.';
  static override description =
    "Creates an ngrok credential whose ACL lets it bind only *.<user>.<domain>, with the developer's email in its description and metadata (refused, exit 4, when another member already has that URL name), and prints the invite code — and nothing else — on stdout, so it can be piped. The code carries the signed policy and the team secrets it names; it is a bearer secret: send it over a private channel.";
  static override examples = [
    { description: 'Invite alice for 7 days (the default)', command: '<%= config.bin %> admin invite alice@acme.com' },
    { description: 'Straight into a file only you can read', command: '(umask 077; <%= config.bin %> admin invite bob@acme.com --expires 2d > bob.invite)' },
  ];
  static override args = {
    email: Args.string({ description: "The developer's email", required: true }),
  };
  static override flags = {
    team: teamFlag,
    'api-url': apiUrlFlag,
    expires: Flags.string({ description: 'How long the code can be used, e.g. 7d, 48h (at most 90d).', default: '7d' }),
  };

  async run(): Promise<InviteResult> {
    const { args, flags } = await this.parse(AdminInvite);
    const ctx = this.context(flags['no-color']);
    const { createInvite, adminConfigFor } = await import('../../admin/admin.js');
    const result = await createInvite({ ctx, config: adminConfigFor(ctx), apiUrl: flags['api-url'] }, { team: flags.team, email: args.email, expires: flags.expires });
    ctx.out.data(result.invite);
    if (!ctx.out.json) {
      ctx.out.notice(`Invite for ${result.email} (credential ${result.credential_id}, ACL ${result.acl.join(', ')}), valid until ${result.expires_at}.`);
      if (result.earlier_credentials.length > 0) {
        const ids = result.earlier_credentials.join(', ');
        ctx.out.notice(`${result.email} already had ${ids}; it stays valid (another machine?). End it with \`devtunnel admin revoke ${result.earlier_credentials[0]}\` once it is no longer used.`);
      }
    }
    return result;
  }
}
