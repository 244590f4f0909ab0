import type { CliContext } from '../cli/context.js';
import { notLoggedInError } from '../errors.js';
import { loadLogin } from './session.js';
import { unknownProfile } from '../tunnel/share.js';

export interface ProfileSummary {
  name: string;
  kind: 'share' | 'webhook';
  description: string;
  enforces: string[];
}

/** The team's approved profiles and webhook providers, each with what it enforces in plain words. */
export async function listApprovedProfiles(ctx: CliContext): Promise<{ team: string; profiles: ProfileSummary[] }> {
  const login = await loadLogin(ctx);
  if (!login) throw notLoggedInError();
  const { describeProfile, describeWebhook } = await import('../profiles/describe.js');
  const profiles: ProfileSummary[] = Object.entries(login.policy.profiles)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, profile]) => ({
      name,
      kind: 'share',
      description: profile.description ?? '',
      enforces: describeProfile(profile),
    }));
  for (const [name, webhook] of Object.entries(login.policy.webhooks ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    profiles.push({ name, kind: 'webhook', description: '', enforces: describeWebhook(webhook) });
  }
  return { team: login.policy.team.id, profiles };
}

/** One profile in full: what it lets in, and the Traffic Policy it compiles to (secrets redacted). */
export async function showProfile(ctx: CliContext, name: string) {
  const login = await loadLogin(ctx);
  if (!login) throw notLoggedInError();
  const profile = login.policy.profiles[name];
  const { findWebhookProfile } = await import('../tunnel/webhook.js');
  const webhook = profile ? undefined : findWebhookProfile(login.policy, name)?.profile; // by key or provider id
  const { compileProfile, compileWebhook, redactPolicy } = await import('../profiles/compile.js');
  if (!profile && webhook) {
    // A webhook profile: what the edge checks, compiled with a placeholder for the developer's secret.
    const { describeWebhook } = await import('../profiles/describe.js');
    const document = redactPolicy(compileWebhook(webhook, { secret: '[your signing secret]' }));
    return { name, kind: 'webhook' as const, description: '', enforces: describeWebhook(webhook), traffic_policy: document };
  }
  if (!profile) throw unknownProfile(name, login.policy);
  const { describeProfile } = await import('../profiles/describe.js');
  const { secretNamesOf } = await import('./session.js');
  // Placeholders stand in for secret values: `show` must not need (or print) them.
  const placeholders = Object.fromEntries(secretNamesOf(profile).map((n) => [n, `[secret:${n}]`]));
  const document = redactPolicy(
    compileProfile(profile, {
      profileName: name,
      user: { email: login.email, label: login.userLabel },
      team: login.policy.team,
      secrets: placeholders,
    }),
  );
  return { name, kind: 'share' as const, description: profile.description ?? '', enforces: describeProfile(profile), traffic_policy: document };
}
