import { Args, Flags } from '@oclif/core';
import { DevtunnelCommand } from '../../../cli/base-command.js';
import { teamFlag } from '../../../admin/flags.js';
import type { SignResult } from '../../../admin/admin.js';

export default class AdminPolicySign extends DevtunnelCommand {
  static override summary = 'Validate and sign the team policy with the team key.';
  static override description =
    'Writes the signed policy (JSON) that invites carry and `devtunnel sync` fetches. Publish it at the policy_url named in the policy, if any. The version must be higher than the one signed last.';
  static override examples = [
    { description: 'Writes policy.signed.json', command: '<%= config.bin %> admin policy sign policy.yaml' },
    { description: 'Somewhere else', command: '<%= config.bin %> admin policy sign policy.yaml --output /srv/intranet/devtunnel/policy.signed.json' },
  ];
  static override args = { file: Args.string({ description: 'Policy YAML file', required: true }) };
  static override flags = {
    team: teamFlag,
    output: Flags.string({ char: 'o', description: 'Signed policy file (default: <file>.signed.json).' }),
  };

  async run(): Promise<SignResult> {
    const { args, flags } = await this.parse(AdminPolicySign);
    const ctx = this.context(flags['no-color']);
    const { signPolicyFile, adminConfigFor } = await import('../../../admin/admin.js');
    const result = await signPolicyFile({ ctx, config: adminConfigFor(ctx) }, { file: args.file, output: flags.output, team: flags.team });
    ctx.out.data(`Signed policy version ${result.version} (key ${result.key_fingerprint}) → ${result.output}`);
    if (result.secrets_needed.length > 0) {
      ctx.out.notice(`Invites will carry the team secrets ${result.secrets_needed.join(', ')}; store each once with \`devtunnel admin secret set NAME --stdin\`.`);
    }
    return result;
  }
}
