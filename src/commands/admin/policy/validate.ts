import { Args } from '@oclif/core';
import { DevtunnelCommand } from '../../../cli/base-command.js';
import { teamFlag } from '../../../admin/flags.js';
import type { ValidateResult } from '../../../admin/admin.js';
import { policyFileInvalid } from '../../../admin/policy-file.js';

export default class AdminPolicyValidate extends DevtunnelCommand {
  static override summary = 'Check a team policy file; every problem is reported with its line.';
  static override description =
    'Schema and rules: every profile has a sign-in method, CIDRs are valid, webhook providers are known, TTLs are sane, the team is yours and the version is higher than the one you signed last. Exit 0 when valid, 2 otherwise.';
  static override examples = [
    { description: 'Check before signing', command: '<%= config.bin %> admin policy validate policy.yaml' },
    { description: 'In CI, problems as JSON', command: '<%= config.bin %> admin policy validate policy.yaml --json' },
  ];
  static override args = { file: Args.string({ description: 'Policy YAML file', required: true }) };
  static override flags = { team: teamFlag };

  async run(): Promise<ValidateResult> {
    const { args, flags } = await this.parse(AdminPolicyValidate);
    const ctx = this.context(flags['no-color']);
    const { validatePolicyFile, adminConfigFor } = await import('../../../admin/admin.js');
    const result = validatePolicyFile({ ctx, config: adminConfigFor(ctx) }, { file: args.file, team: flags.team });
    if (!result.valid) throw policyFileInvalid(args.file, result.problems);
    ctx.out.data(`${args.file} is valid: version ${result.version}, profiles ${result.profiles?.join(', ')}.`);
    return result;
  }
}
