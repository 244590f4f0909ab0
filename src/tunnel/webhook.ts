/**
 * `devtunnel webhook <provider> <target>`: a tunnel whose only door is the provider's signature,
 * checked by ngrok's edge. The team policy must approve a webhook profile for the provider; the
 * developer's signing secret lives in the keychain as `webhook:<team>:<provider>` (asked for once),
 * or comes from DEVTUNNEL_WEBHOOK_SECRET in CI. The secret only ever travels inside the Traffic
 * Policy handed to the SDK: never in argv, files, output or error text.
 */
import type { CliContext } from '../cli/context.js';
import { notLoggedInError, policyError, usageError, UserError } from '../errors.js';
import { findWebhookProvider, suggestWebhookProviders, type WebhookProvider } from '../profiles/webhook-providers.js';
import { webhookSecretAccount } from '../secrets/accounts.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { TeamPolicy, WebhookProfile } from '../team/policy-schema.js';
import type { LoginState } from '../team/team-store.js';
import { cannotPrompt } from '../ui/prompter.js';
import { loadLogin, readAuthtoken } from '../account/session.js';
import { holdTunnel, teamTunnelRequest, type TunnelLifecycleEvent } from './tunnel-session.js';
import { parseUpstream } from './upstream.js';
import { webhookSettingsHint } from './webhook-hints.js';
import { readStreamText } from '../ui/read-stream.js';
import { isDnsLabel } from '../team/identity.js';

export interface WebhookRequest {
  provider: string;
  target: string;
  /** Only this path (and below) is forwarded; must lie inside the profile's path, if it has one. */
  path?: string | undefined;
  /** Endpoint name (first URL label); default: the provider id, DNS-safe. */
  name?: string | undefined;
  rotateSecret: boolean;
  secretStdin: boolean;
}

/** Where the signing secret came from (never the secret itself). */
export type SecretSource = 'keychain' | 'prompt' | 'stdin' | 'env' | 'none';

/** Events a running webhook tunnel reports; `--json` prints each as one line. */
export type WebhookReady = {
  event: 'ready';
  url: string;
  provider: string;
  local: string;
  host: string;
  team: string;
  user: string;
  secret_source: SecretSource;
  hint: string;
};
export type WebhookEvent = WebhookReady | TunnelLifecycleEvent;

const pathPattern = /^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/;

/**
 * The approved webhook profile the user named: by its key in the team policy (what `login` and
 * `profiles` list, e.g. `launch-darkly`), else by provider id (`launch_darkly`), first key wins.
 */
export function findWebhookProfile(policy: TeamPolicy, provider: string): { key: string; profile: WebhookProfile } | undefined {
  const webhooks = policy.webhooks ?? {};
  const named = Object.hasOwn(webhooks, provider) ? webhooks[provider] : undefined;
  if (named) return { key: provider, profile: named };
  const key = Object.keys(webhooks)
    .sort()
    .find((k) => webhooks[k]?.provider === provider);
  return key === undefined ? undefined : { key, profile: webhooks[key]! };
}

function notApproved(provider: string, policy: TeamPolicy): UserError {
  // What users type: the policy's keys (e.g. launch-darkly), as `profiles` lists them.
  const approved = Object.keys(policy.webhooks ?? {}).sort();
  const approvedProviders = new Set(Object.values(policy.webhooks ?? {}).map((w) => w.provider));
  const known = findWebhookProvider(provider);
  const near = known ? [] : suggestWebhookProviders(provider).filter((p) => approvedProviders.has(p));
  return policyError(
    'webhook_not_approved',
    `${known ? `${known.name} webhooks are` : `Webhook provider "${provider}" is`} not approved by team ${policy.team.name}. Approved webhook providers: ${approved.join(', ') || '(none)'}.`,
    [
      ...(near.length ? [`Did you mean ${near.join(' or ')}?`] : []),
      approved[0] ? `Example: devtunnel webhook ${approved[0]} 8080` : 'Ask your team admin to approve a webhook profile for this provider.',
      ...(approved.length && known ? ['To receive other providers, ask your team admin to add a webhook profile to the team policy.'] : []),
    ],
  );
}

function effectivePath(flag: string | undefined, profile: WebhookProfile, key: string): string | undefined {
  const allowed = profile.path?.replace(/\/+$/, '') || undefined;
  if (flag === undefined) return profile.path;
  if (!pathPattern.test(flag)) {
    throw usageError('bad_path', `--path "${flag}" is not a URL path starting with /.`, ['Example: --path /webhooks/github']);
  }
  const wanted = flag.replace(/\/+$/, '') || '/';
  if (allowed && !(wanted === allowed || wanted.startsWith(`${allowed}/`))) {
    throw policyError('path_widens', `--path ${flag} is outside ${allowed}, the only path the team's "${key}" webhook profile allows.`, [
      `Use --path ${allowed} (or a path below it), or leave --path out.`,
    ]);
  }
  return wanted === '/' ? undefined : wanted;
}


/**
 * The signing secret: from stdin or a masked prompt when asked (and then stored), else the
 * keychain (or DEVTUNNEL_WEBHOOK_SECRET), else the prompt once. Registered with the redactor.
 */
export async function resolveWebhookSecret(
  ctx: CliContext,
  secrets: SecretStore,
  login: LoginState,
  provider: WebhookProvider,
  opts: { rotate: boolean; stdin: boolean },
): Promise<{ secret: string | undefined; source: SecretSource }> {
  if (!provider.needsSecret) return { secret: undefined, source: 'none' };
  const account = webhookSecretAccount(login.policy.team.id, provider.id);
  const flagHint = `Pipe it in: \`devtunnel webhook ${provider.id} 8080 --secret-stdin < secret.txt\`, or set DEVTUNNEL_WEBHOOK_SECRET.`;
  let entered: { value: string; source: SecretSource } | undefined;
  if (opts.stdin) {
    entered = { value: (await readStreamText(ctx.stdin)).replace(/\r?\n$/, ''), source: 'stdin' };
  } else if (!opts.rotate) {
    const stored = await secrets.getPassword(account);
    if (stored) {
      ctx.redactor.add(stored);
      return { secret: stored, source: secrets.overriddenBy?.(account) ? 'env' : 'keychain' };
    }
  }
  if (!entered) {
    if (!ctx.prompter.interactive) throw cannotPrompt(`the ${provider.name} webhook signing secret`, flagHint);
    const value = await ctx.prompter.secret(`${provider.name} webhook signing secret (from ${provider.name}'s webhook settings):`);
    entered = { value, source: 'prompt' };
  }
  const secret = entered.value.trim();
  if (secret === '') {
    throw usageError('webhook_secret_empty', `The ${provider.name} webhook signing secret is empty.`, [flagHint]);
  }
  ctx.redactor.add(secret);
  await secrets.setPassword(account, secret);
  return { secret, source: entered.source };
}

/** Everything checkable before the network: who, which approved profile, which secret, which target. */
export async function prepareWebhook(ctx: CliContext, request: WebhookRequest) {
  const upstream = parseUpstream(request.target);
  const asked = request.provider.trim().toLowerCase();
  const login = await loadLogin(ctx);
  if (!login) throw notLoggedInError();
  const { policy } = login;
  const found = findWebhookProfile(policy, asked);
  const provider = found ? findWebhookProvider(found.profile.provider) : undefined;
  if (!found || !provider) throw notApproved(request.provider, policy);
  const name = (request.name ?? found.key.replace(/_/g, '-')).toLowerCase();
  if (!isDnsLabel(name)) {
    throw usageError('bad_name', `"${request.name ?? name}" is not a valid endpoint name.`, ['Use lower-case letters, digits and dashes (at most 63), e.g. `--name hooks`.']);
  }
  const path = effectivePath(request.path, found.profile, found.key);

  const { compileWebhook, serializePolicy } = await import('../profiles/compile.js');
  const { endpointHost } = await import('../team/identity.js');
  const secrets = await ctx.secretStore();
  const authtoken = await readAuthtoken(ctx, secrets, login);
  const { secret, source } = await resolveWebhookSecret(ctx, secrets, login, provider, { rotate: request.rotateSecret, stdin: request.secretStdin });
  const document = compileWebhook({ ...found.profile, ...(path === undefined ? {} : { path }) }, { secret });
  const host = endpointHost(name, login.userLabel, policy.domain);
  return {
    upstream,
    host,
    login,
    provider,
    path,
    secretSource: source,
    tunnel: teamTunnelRequest({
      policy,
      email: login.email,
      version: ctx.version,
      authtoken,
      host,
      upstreamAddr: upstream.addr,
      trafficPolicy: serializePolicy(document),
      extra: { webhook: provider.id, profile: `webhooks.${found.key}` },
    }),
  };
}

/**
 * Starts the webhook tunnel and keeps it until a signal arrives or the edge ends it. Returns the
 * exit code (130 for Ctrl-C, 143 for SIGTERM) after the edge has been told the endpoint is gone.
 */
export async function runWebhook(
  ctx: CliContext,
  request: WebhookRequest,
  report: (event: WebhookEvent) => void,
  signals: { wait(): Promise<'SIGINT' | 'SIGTERM'> },
): Promise<number> {
  const prepared = await prepareWebhook(ctx, request);
  return holdTunnel({
    starter: await ctx.tunnelStarter(),
    request: prepared.tunnel,
    authtokenFromEnv: ctx.env.DEVTUNNEL_AUTHTOKEN ? 'DEVTUNNEL_AUTHTOKEN' : undefined,
    publicUrl: (tunnelUrl) => `${tunnelUrl}${prepared.path ?? ''}`,
    ready: (url): WebhookReady => ({
      event: 'ready',
      url,
      provider: prepared.provider.id,
      local: prepared.upstream.display,
      host: prepared.host,
      team: prepared.login.policy.team.id,
      user: prepared.login.email,
      secret_source: prepared.secretSource,
      hint: webhookSettingsHint(prepared.provider.id, prepared.provider.name),
    }),
    report,
    signals,
  });
}
