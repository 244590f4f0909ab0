import { Flags } from '@oclif/core';
import { DevtunnelCommand } from '../cli/base-command.js';
import type { SyncResult } from '../account/sync.js';

export default class Sync extends DevtunnelCommand {
  static override summary = "Update your team policy from the admin's newest signed one.";
  static override description =
    "Fetches the signed policy (from the policy's policy_url, or --from a file or URL), verifies it with the team key pinned at login, and refuses an older version, another key or a file edited after signing — your current policy then stays in force (exit 4). Shows which profiles were added, removed or changed.";
  static override examples = [
    { description: "From the team's policy_url", command: '<%= config.bin %> sync' },
    { description: 'From a file your admin sent', command: '<%= config.bin %> sync --from policy.signed.json' },
    { description: 'For scripts', command: '<%= config.bin %> sync --json' },
  ];
  static override flags = {
    from: Flags.string({ description: 'Signed policy file, file: URL or http(s) URL (default: the policy_url in your policy).', env: 'DEVTUNNEL_POLICY_FROM' }),
  };

  async run(): Promise<SyncResult> {
    const { flags } = await this.parse(Sync);
    const ctx = this.context(flags['no-color']);
    const { policySourceFromFlag } = await import('../team/policy-source.js');
    const from = flags.from === undefined ? undefined : policySourceFromFlag(flags.from);
    const { syncPolicy } = await import('../account/sync.js');
    const result = await syncPolicy(ctx, { from });
    if (!result.updated) {
      ctx.out.data(`Already up to date: policy version ${result.to_version} (team ${result.team}).`);
      return result;
    }
    ctx.out.data(`Updated team ${result.team} policy: version ${result.from_version} → ${result.to_version}.`);
    const lines = (kind: string, d: SyncResult['profiles']) => [
      ...d.added.map((n) => `  + ${kind} ${n}`),
      ...d.removed.map((n) => `  - ${kind} ${n}`),
      ...d.changed.map((n) => `  ~ ${kind} ${n}`),
    ];
    const all = [...lines('profile', result.profiles), ...lines('webhook', result.webhooks)];
    for (const line of all.length > 0 ? all : ['  (no profile changes)']) ctx.out.data(line);
    return result;
  }
}
