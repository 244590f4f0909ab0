/**
 * `devtunnel sync`: fetch the team's signed policy (from `policy_url`, or a file/URL given with
 * --from), verify it with the pinned team key, refuse a rollback, another key or a hand-edited
 * file (exit 4, the current policy stays in force), and report which profiles changed.
 */
import { readFile } from 'node:fs/promises';
import type { CliContext } from '../cli/context.js';
import { ExitCode, UserError, notLoggedInError, policyError, usageError } from '../errors.js';
import { canonicalJson } from '../team/canonical-json.js';
import type { TeamPolicy } from '../team/policy-schema.js';
import { verifySignedPolicy, type SignedPolicy } from '../team/signed-policy.js';

export interface SyncResult {
  team: string;
  source: string;
  updated: boolean;
  from_version: number;
  to_version: number;
  profiles: { added: string[]; removed: string[]; changed: string[] };
  webhooks: { added: string[]; removed: string[]; changed: string[] };
}

const MAX_POLICY_BYTES = 1024 * 1024;
/** Verification failures that mean "not your team's policy as signed": refused by policy (exit 4). */
const REFUSED_CODES = new Set(['policy_wrong_key', 'policy_signature_invalid', 'policy_malformed', 'policy_invalid']);

export async function syncPolicy(ctx: CliContext, opts: { from?: string }): Promise<SyncResult> {
  const store = await ctx.teamStore();
  const current = store.load();
  if (!current) throw notLoggedInError();
  const source = opts.from ?? current.policy.policy_url;
  if (!source) {
    throw usageError('policy_url_missing', `Team ${current.policy.team.name}'s policy names no policy_url to sync from.`, [
      'Pass the signed policy your admin sent: `devtunnel sync --from policy.signed.json`.',
    ]);
  }
  const text = await fetchPolicyText(source);
  let signed: unknown;
  try {
    signed = JSON.parse(text);
  } catch {
    throw policyError('policy_malformed', `${source} is not a signed devtunnel policy (not JSON).`, ['Ask your team admin for the signed policy file (policy.signed.json).']);
  }
  let next: TeamPolicy;
  try {
    next = verifySignedPolicy(signed, current.teamPublicKey);
  } catch (error) {
    if (error instanceof UserError && REFUSED_CODES.has(error.code)) {
      throw new UserError(`${error.message} Your current policy (version ${current.policy.version}) stays in force.`, {
        exitCode: ExitCode.policyRefused,
        code: error.code,
        suggestions: error.suggestions,
      });
    }
    throw error;
  }
  const same = next.version === current.policy.version && canonicalJson(next) === canonicalJson(current.policy);
  if (!same) {
    try {
      await store.updatePolicy(signed as SignedPolicy, ctx.now());
    } catch (error) {
      if (error instanceof UserError && error.exitCode === ExitCode.policyRefused) {
        throw new UserError(`${error.message} Your current policy (version ${current.policy.version}) stays in force.`, {
          exitCode: ExitCode.policyRefused,
          code: error.code,
          suggestions: error.suggestions,
        });
      }
      throw error;
    }
  }
  return {
    team: current.policy.team.id,
    source,
    updated: !same,
    from_version: current.policy.version,
    to_version: next.version,
    profiles: diffMaps(current.policy.profiles, next.profiles),
    webhooks: diffMaps(current.policy.webhooks ?? {}, next.webhooks ?? {}),
  };
}

/** Names added, removed and changed between two keyed maps (compared canonically). */
export function diffMaps(before: Record<string, unknown>, after: Record<string, unknown>) {
  const added = Object.keys(after).filter((k) => !(k in before)).sort();
  const removed = Object.keys(before).filter((k) => !(k in after)).sort();
  const changed = Object.keys(after)
    .filter((k) => k in before && canonicalJson(before[k]) !== canonicalJson(after[k]))
    .sort();
  return { added, removed, changed };
}

async function fetchPolicyText(source: string): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const loopback = host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host);
    if (url.protocol !== 'https:' && !loopback) {
      throw usageError('policy_url_insecure', `Refusing to fetch the policy over plain http from ${url.host}.`, ['Use an https:// URL.']);
    }
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(20_000), headers: { accept: 'application/json' } });
    } catch (error) {
      // A URL that cannot be reached is bad input (exit 2), not a bug.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new UserError(`Cannot fetch the team policy from ${source}: ${why}.`, {
        exitCode: ExitCode.usage,
        code: 'policy_fetch_failed',
        suggestions: [
          ...(why === 'bad port' ? ['fetch refuses well-known service ports (such as 1, 9, 25, 6000): serve the policy on another port.'] : []),
          'Check the URL and the network (VPN?), or pass the signed policy file your admin sent: --from ./policy.signed.json.',
        ],
        cause: error,
      });
    }
    if (!response.ok) {
      throw new UserError(`Cannot fetch the team policy from ${source}: HTTP ${response.status}.`, {
        exitCode: ExitCode.usage,
        code: 'policy_fetch_failed',
        suggestions: ['Ask your team admin whether the policy moved, or pass the signed file with --from.'],
      });
    }
    const body = await response.text();
    if (body.length > MAX_POLICY_BYTES) throw policyError('policy_malformed', `${source} is too large to be a team policy.`);
    return body;
  }
  try {
    const text = await readFile(source, 'utf8');
    if (text.length > MAX_POLICY_BYTES) throw policyError('policy_malformed', `${source} is too large to be a team policy.`);
    return text;
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'ENOTDIR' ? 'a part of the path is not a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? 'unreadable');
    throw usageError('policy_file_unreadable', `Cannot read the signed policy ${source}: ${why}.`, [
      'Check the path: pass the policy.signed.json file your team admin sent, or an https:// URL to it.',
    ]);
  }
}
