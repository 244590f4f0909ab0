/**
 * The admin side of one team tenant: make the team key, keep the ngrok API key, validate and sign
 * the policy, mint ACL-bound invites through the ngrok REST API, list and revoke members.
 *
 * Secrets: the team's private key (`admin-key:<team>`), the API key (`admin-api:<team>`) and team
 * secrets (`team-secret:<team>:<name>`) live only in the keychain. They are registered with the
 * redactor as soon as they are read, and are never written to a file, printed or put in argv.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isMap, parseDocument } from 'yaml';
import type { CliContext } from '../cli/context.js';
import { ExitCode, UserError, policyError, usageError } from '../errors.js';
import { adminApiAccount, adminKeyAccount, teamSecretAccount } from '../secrets/accounts.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { parseDuration } from '../team/duration.js';
import { aclRuleForUser, isDnsLabel, isEmailAddress, isHostname, userLabelFromEmail } from '../team/identity.js';
import { encodeInvite } from '../team/invite.js';
import type { TeamPolicy } from '../team/policy-schema.js';
import { signPolicy, verifySignedPolicy, type SignedPolicy } from '../team/signed-policy.js';
import { fingerprintOf, generateTeamKey, publicKeyFromPrivate } from '../team/team-key.js';
import { readTemplate } from '../team/templates.js';
import { cannotPrompt } from '../ui/prompter.js';
import { AdminConfig, type AdminTeam } from './admin-config.js';
import { checkPolicyFile, checkPolicyText, formatProblems, policyFileInvalid, type PolicyProblem } from './policy-file.js';
import { DEFAULT_NGROK_API_URL, NgrokApiClient, NgrokApiError, normalizeBaseUrl, type ApiCredential } from './ngrok-api.js';

/** What admin services need; tests pass fakes for the API client. */
export interface AdminDeps {
  ctx: CliContext;
  config: AdminConfig;
  /** Builds the REST client; default {@link NgrokApiClient} over fetch. */
  apiClient?: (options: { apiKey: string; baseUrl: string }) => NgrokApiClient;
  /** `--api-url` / DEVTUNNEL_API_URL: overrides the team's saved API URL for this run. */
  apiUrl?: string;
}

/** The admin config for this run (honours DEVTUNNEL_CONFIG_DIR). */
export function adminConfigFor(ctx: CliContext): AdminConfig {
  return new AdminConfig({ env: ctx.env });
}

/** Metadata devtunnel puts on each member credential, so `members` and `revoke` can find them. */
export interface MemberMetadata {
  devtunnel: 'member';
  team: string;
  email: string;
  label: string;
}

// ---------------------------------------------------------------------------------------------
// init

export interface InitRequest {
  team: string;
  name: string;
  domain: string;
  ingress: string;
  /** `trusted`, `host` or a PEM file path. */
  rootCas: string;
  apiUrl?: string;
  /** Where to write the starter policy. */
  output: string;
  /** Email domains the starter profile admits. */
  allowDomains: string[];
  /** Replace an existing team key (every developer must then log in again). */
  force: boolean;
}

export interface InitResult {
  team: { id: string; name: string };
  key_fingerprint: string;
  policy_file: string;
  keychain: string;
  api_url: string;
  config_file: string;
}

export async function initTeam(deps: AdminDeps, req: InitRequest): Promise<InitResult> {
  const { ctx, config } = deps;
  if (!isDnsLabel(req.team)) throw usageError('team_id_invalid', `"${req.team}" is not a team id (lower-case letters, digits and -, at most 63).`);
  const domain = req.domain.toLowerCase().replace(/\.$/, '');
  if (!isHostname(domain) || !domain.includes('.')) throw usageError('domain_invalid', `"${req.domain}" is not a domain name.`, ['Example: --domain tunnels-dev.acme.com']);
  for (const d of req.allowDomains) {
    if (!isHostname(d.toLowerCase().replace(/^\*\./, ''))) throw usageError('allow_domain_invalid', `"${d}" is not an email domain.`);
  }
  const rootCas = resolveRootCas(req.rootCas);
  const apiUrl = normalizeBaseUrl(req.apiUrl ?? deps.apiUrl ?? DEFAULT_NGROK_API_URL);
  if (existsSync(req.output) && !req.force) {
    throw usageError('policy_file_exists', `${req.output} already exists; not overwriting it.`, ['Pass --output with another file name, or --force to replace it.']);
  }

  // Build and check the starter policy before anything is stored.
  const doc = parseDocument(readTemplate('policy.minimal.yaml'));
  doc.setIn(['team', 'id'], req.team);
  doc.setIn(['team', 'name'], req.name);
  doc.setIn(['ingress', 'server_addr'], req.ingress);
  doc.setIn(['ingress', 'root_cas'], rootCas);
  doc.setIn(['domain'], domain);
  const profiles = doc.get('profiles');
  if (req.allowDomains.length > 0 && isMap(profiles)) {
    for (const pair of profiles.items) {
      const name = String((pair.key as { value?: unknown }).value);
      if (doc.hasIn(['profiles', name, 'oauth'])) doc.setIn(['profiles', name, 'oauth', 'allow_domains'], doc.createNode(req.allowDomains, { flow: true }));
      if (doc.hasIn(['profiles', name, 'description'])) doc.setIn(['profiles', name, 'description'], `Google sign-in, ${req.allowDomains.join(', ')} accounts only`);
    }
  }
  doc.commentBefore = ` Team policy for ${req.name}. Edit it, raise \`version\` on every change, then run\n \`devtunnel admin policy validate ${req.output}\` and \`devtunnel admin policy sign ${req.output}\`.`;
  const text = doc.toString({ lineWidth: 0 });
  const check = checkPolicyTextOrThrow(text, req.output);

  config.assertUsable(); // the key must not reach the keychain if its settings cannot be saved
  const secrets = await ctx.secretStore();
  const existing = await secrets.getPassword(adminKeyAccount(req.team));
  if (existing && !req.force) {
    throw new UserError(`Team "${req.team}" already has a team key in the ${secrets.backend} store.`, {
      exitCode: ExitCode.usage,
      code: 'team_key_exists',
      suggestions: [
        'Keep using it: the other admin commands pick it up.',
        'To rotate it, pass --force: every developer then needs a new invite (their pinned key no longer matches).',
      ],
    });
  }
  const key = generateTeamKey();
  ctx.redactor.add(key.privateKeyPem);
  await secrets.setPassword(adminKeyAccount(req.team), key.privateKeyPem);
  writeFileSync(req.output, text, { mode: 0o644 });
  const previous = config.findTeam(req.team);
  config.saveTeam({
    id: req.team,
    name: check.team.name,
    domain,
    ingress: { server_addr: req.ingress, root_cas: rootCas },
    api_url: previous && req.apiUrl === undefined ? previous.api_url : apiUrl,
    key_fingerprint: key.fingerprint,
    policy_file: req.output,
  });
  return {
    team: { id: req.team, name: req.name },
    key_fingerprint: key.fingerprint,
    policy_file: req.output,
    keychain: secrets.backend,
    api_url: previous && req.apiUrl === undefined ? previous.api_url : apiUrl,
    config_file: config.path,
  };
}

function resolveRootCas(value: string): string {
  if (value === 'trusted' || value === 'host') return value;
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch (error) {
    throw usageError('root_cas_unreadable', `--root-cas: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, [
      'Pass trusted (ngrok’s CA), host (the OS trust store) or the path of a PEM file.',
    ]);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw usageError('root_cas_invalid', `--root-cas: ${value} holds no PEM certificate.`);
  return text.trim();
}

function checkPolicyTextOrThrow(text: string, file: string): TeamPolicy {
  const result = checkPolicyText(text);
  if (!result.ok) throw policyFileInvalid(file, result.problems);
  return result.policy;
}

// ---------------------------------------------------------------------------------------------
// login

export interface AdminLoginResult {
  team: string;
  api_url: string;
  keychain: string;
  credentials_visible: number;
}

export async function adminLogin(deps: AdminDeps, req: { team?: string; apiUrl?: string; apiKey: string }): Promise<AdminLoginResult> {
  const { ctx, config } = deps;
  const team = config.team(req.team);
  const apiKey = req.apiKey.trim();
  if (apiKey === '') throw usageError('api_key_empty', 'The API key is empty.', ['Create one at https://dashboard.ngrok.com/api-keys and paste it.']);
  ctx.redactor.add(apiKey);
  const apiUrl = normalizeBaseUrl(req.apiUrl ?? deps.apiUrl ?? team.api_url);
  // Prove the key works before keeping it.
  const client = makeClient(deps, apiKey, apiUrl);
  const page = await client.request<{ credentials?: unknown[] }>('GET', '/credentials?limit=1');
  const secrets = await ctx.secretStore();
  await secrets.setPassword(adminApiAccount(team.id), apiKey);
  config.saveTeam({ ...team, api_url: apiUrl });
  return { team: team.id, api_url: apiUrl, keychain: secrets.backend, credentials_visible: Array.isArray(page?.credentials) ? page.credentials.length : 0 };
}

// ---------------------------------------------------------------------------------------------
// team secrets

export async function setTeamSecret(deps: AdminDeps, req: { team?: string; name: string; value: string }): Promise<{ team: string; name: string; keychain: string }> {
  const team = deps.config.team(req.team);
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(req.name)) throw usageError('secret_name_invalid', `"${req.name}" is not a secret name (lower-case letters, digits, - and _).`);
  const value = req.value.replace(/\r?\n$/, '');
  if (value === '') throw usageError('secret_empty', 'The secret value is empty.');
  deps.ctx.redactor.add(value);
  const secrets = await deps.ctx.secretStore();
  await secrets.setPassword(teamSecretAccount(team.id, req.name), value);
  deps.config.saveTeam({ ...team, team_secrets: [...(team.team_secrets ?? []), req.name] });
  return { team: team.id, name: req.name, keychain: secrets.backend };
}

// ---------------------------------------------------------------------------------------------
// logout

export interface AdminLogoutResult {
  team: string;
  keychain: string;
  /** Keychain accounts deleted. */
  removed: string[];
  /** Accounts left in place, and why. */
  kept: Array<{ account: string; reason: string }>;
  /** Whether the team's settings (admin.json) were forgotten too (only with the team key). */
  settings_removed: boolean;
}

/**
 * Remove what the admin commands stored for a team: the ngrok API key and the team secrets. The
 * team's private signing key stays unless `forgetTeamKey` (then confirmed by a prompt, or `yes`):
 * without it no policy or invite can be signed for the team again, and a new key means every
 * developer needs a new invite. Team secrets stay when this machine's developer login is for the
 * same team (it uses the same keychain entries; `devtunnel logout` removes them).
 */
export async function adminLogout(deps: AdminDeps, req: { team?: string; forgetTeamKey: boolean; yes: boolean }): Promise<AdminLogoutResult> {
  const { ctx, config } = deps;
  const team = config.team(req.team);
  if (req.forgetTeamKey && !req.yes) {
    if (!ctx.prompter.interactive) {
      throw cannotPrompt(
        `confirmation to delete team ${team.id}'s signing key`,
        `Pass --yes with --forget-team-key to confirm (the key cannot be recovered), or leave out --forget-team-key to keep it.`,
      );
    }
    const sure = await ctx.prompter.confirm(
      `Delete team ${team.id}'s private signing key (${team.key_fingerprint})? It cannot be recovered: no policy or invite can be signed for ${team.id} again, and a new key needs new invites for every developer.`,
      false,
    );
    if (!sure) throw new UserError('Cancelled: nothing was removed.', { exitCode: ExitCode.interrupted, code: 'cancelled' });
  }
  const secrets = await ctx.secretStore();
  const removed: string[] = [];
  const kept: AdminLogoutResult['kept'] = [];
  const remove = async (account: string) => {
    if (await secrets.deletePassword(account)) removed.push(account);
  };
  await remove(adminApiAccount(team.id));

  const names = new Set(team.team_secrets ?? []);
  if (team.signed_policy) for (const name of teamSecretNames(team.signed_policy.policy)) names.add(name);
  const developer = await developerTeamId(ctx);
  for (const name of [...names].sort()) {
    const account = teamSecretAccount(team.id, name);
    if (developer === team.id) {
      if ((await secrets.getPassword(account)) !== undefined) kept.push({ account, reason: `your developer login for team ${team.id} uses it (\`devtunnel logout\` removes it)` });
    } else {
      await remove(account);
    }
  }

  let settingsRemoved = false;
  if (req.forgetTeamKey) {
    await remove(adminKeyAccount(team.id));
    settingsRemoved = config.removeTeam(team.id);
  } else {
    if ((await secrets.getPassword(adminKeyAccount(team.id))) !== undefined) {
      kept.push({ account: adminKeyAccount(team.id), reason: 'the team’s signing key: pass --forget-team-key to delete it too' });
    }
  }
  return { team: team.id, keychain: secrets.backend, removed, kept, settings_removed: settingsRemoved };
}

/** The team of this machine's developer login, if any (a damaged login counts as none). */
async function developerTeamId(ctx: CliContext): Promise<string | undefined> {
  try {
    return (await ctx.teamStore()).load()?.teamId;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// policy validate / sign

export interface ValidateResult {
  file: string;
  valid: boolean;
  version?: number;
  profiles?: string[];
  problems: Array<PolicyProblem & { text: string }>;
}

/** Validate a policy file against the schema and the admin rules (team, version increase). Never throws for problems. */
export function validatePolicyFile(deps: AdminDeps, req: { file: string; team?: string }): ValidateResult {
  const team = req.team !== undefined || hasCurrentTeam(deps.config) ? safeTeam(deps.config, req.team) : undefined;
  const previous = team?.signed_policy?.policy;
  const result = checkPolicyFile(req.file, { teamId: team?.id, previous });
  if (!result.ok) {
    const texts = formatProblems(req.file, result.problems);
    return { file: req.file, valid: false, problems: result.problems.map((p, i) => ({ ...p, text: texts[i] ?? p.message })) };
  }
  return { file: req.file, valid: true, version: result.policy.version, profiles: Object.keys(result.policy.profiles).sort(), problems: [] };
}

export interface SignResult {
  file: string;
  output: string;
  version: number;
  key_fingerprint: string;
  profiles: string[];
  secrets_needed: string[];
}

export async function signPolicyFile(deps: AdminDeps, req: { file: string; output?: string; team?: string }): Promise<SignResult> {
  const { ctx, config } = deps;
  const team = config.team(req.team);
  const result = checkPolicyFile(req.file, { teamId: team.id, previous: team.signed_policy?.policy });
  if (!result.ok) throw policyFileInvalid(req.file, result.problems);
  const secrets = await ctx.secretStore();
  const privateKey = await readPrivateKey(ctx, secrets, team);
  const signed = signPolicy(result.policy, privateKey);
  const output = req.output ?? req.file.replace(/\.ya?ml$/i, '') + '.signed.json';
  writeFileSync(output, `${JSON.stringify(signed, null, 2)}\n`, { mode: 0o644 });
  config.saveTeam({ ...team, name: result.policy.team.name, domain: result.policy.domain, ingress: result.policy.ingress, signed_policy: signed });
  return {
    file: req.file,
    output,
    version: result.policy.version,
    key_fingerprint: signed.key_fingerprint,
    profiles: Object.keys(result.policy.profiles).sort(),
    secrets_needed: teamSecretNames(result.policy),
  };
}

// ---------------------------------------------------------------------------------------------
// invite

export interface InviteResult {
  invite: string;
  email: string;
  label: string;
  credential_id: string;
  acl: string[];
  expires_at: string;
  policy_version: number;
  /** Credentials the same member already had (a re-invite); they stay valid until revoked. */
  earlier_credentials: string[];
}

export async function createInvite(deps: AdminDeps, req: { team?: string; email: string; expires: string }): Promise<InviteResult> {
  const { ctx, config } = deps;
  const team = config.team(req.team);
  const email = req.email.trim();
  if (!isEmailAddress(email)) throw usageError('email_invalid', `"${req.email}" is not an email address.`);
  const label = userLabelFromEmail(email);
  const ttlMs = parseDuration(req.expires, '--expires');
  if (ttlMs > 90 * 24 * 3_600_000) throw usageError('invite_ttl_too_long', '--expires may be at most 90d: an invite is a bearer secret.');
  const signed = team.signed_policy;
  if (!signed) {
    throw new UserError(`Team "${team.id}" has no signed policy yet.`, {
      exitCode: ExitCode.usage,
      code: 'policy_not_signed',
      suggestions: [`Run \`devtunnel admin policy sign ${team.policy_file ?? 'policy.yaml'}\` first.`],
    });
  }
  const secrets = await ctx.secretStore();
  const privateKey = await readPrivateKey(ctx, secrets, team);
  const publicKey = publicKeyFromPrivate(privateKey);
  const policy = verifySignedPolicy(signed, publicKey);
  const teamSecrets: Record<string, string> = {};
  for (const name of teamSecretNames(policy)) {
    const value = await secrets.getPassword(teamSecretAccount(team.id, name));
    if (!value) {
      throw new UserError(`The policy needs the team secret "${name}", which is not in your keychain.`, {
        exitCode: ExitCode.usage,
        code: 'team_secret_missing',
        suggestions: [`Store it once: \`devtunnel admin secret set ${name} --stdin < ${name}.txt\`.`],
      });
    }
    ctx.redactor.add(value);
    teamSecrets[name] = value;
  }
  const client = await clientFor(deps, secrets, team);
  // One URL label, one person: a second email with the same label would get the same ACL and
  // could bind the first one's hosts. The same email in another case is the same person.
  const holders = labelHolders(await client.listCredentials(), team.id, label, policy.domain);
  const others = holders.filter((h) => h.email?.toLowerCase() !== email.toLowerCase());
  if (others.length > 0) throw labelTaken(email, label, policy.domain, others);
  const earlier = holders.map((h) => h.credential_id);
  // Re-inviting keeps the spelling the member already has, so `members` and `revoke` see one person.
  const memberEmail = holders.find((h) => h.email !== undefined)?.email ?? email;
  const acl = [aclRuleForUser(label, policy.domain)];
  const metadata: MemberMetadata = { devtunnel: 'member', team: team.id, email: memberEmail, label };
  const credential = await client.createCredential({
    description: `devtunnel ${team.id}: ${memberEmail}`.slice(0, 255),
    metadata: JSON.stringify(metadata),
    acl,
  });
  if (!credential?.token || !credential.id) throw new UserError('The ngrok API created a credential but returned no authtoken.', { exitCode: ExitCode.unexpected, code: 'credential_without_token' });
  ctx.redactor.add(credential.token);
  const iat = Math.floor(ctx.now().getTime() / 1000);
  const exp = iat + Math.ceil(ttlMs / 1000);
  let invite: string;
  try {
    invite = encodeInvite(
      {
        v: 1,
        team: { id: policy.team.id, name: policy.team.name },
        team_key: publicKey,
        signed_policy: signed,
        authtoken: credential.token,
        credential_id: credential.id,
        email: memberEmail,
        secrets: teamSecrets,
        iat,
        exp,
      },
      privateKey,
    );
  } catch (error) {
    // Do not leave a live credential nobody can receive.
    await client.deleteCredential(credential.id).catch(() => undefined);
    throw error;
  }
  return {
    invite,
    email: memberEmail,
    label,
    credential_id: credential.id,
    acl: credential.acl,
    expires_at: new Date(exp * 1000).toISOString(),
    policy_version: policy.version,
    earlier_credentials: earlier,
  };
}

/** A credential that already holds a URL label: its id and, when known, whose it is. */
export interface LabelHolder {
  credential_id: string;
  email: string | undefined;
}

/**
 * The credentials that already hold `label` on this team: devtunnel members whose label (from
 * their metadata, else from their email) is `label`, and any other credential whose ACL grants
 * `*.<label>.<domain>` (made by hand, or by the sandbox). Their email comes from devtunnel's
 * metadata, an `email` field in other metadata, or a `devtunnel <team>: <email>` description.
 */
export function labelHolders(credentials: ApiCredential[], teamId: string, label: string, domain: string): LabelHolder[] {
  const rule = aclRuleForUser(label, domain);
  const holders: LabelHolder[] = [];
  for (const c of credentials) {
    const member = toMember(c, teamId);
    const memberLabel = member ? member.label || labelOf(member.email) : undefined;
    if (memberLabel !== label && !(c.acl ?? []).includes(rule)) continue;
    holders.push({ credential_id: c.id, email: member?.email ?? emailOfForeignCredential(c) });
  }
  return holders;
}

function labelOf(email: string): string | undefined {
  try {
    return userLabelFromEmail(email);
  } catch {
    return undefined;
  }
}

function emailOfForeignCredential(c: ApiCredential): string | undefined {
  try {
    const meta: unknown = JSON.parse(c.metadata || 'null');
    const email = meta && typeof meta === 'object' ? (meta as Record<string, unknown>)['email'] : undefined;
    if (typeof email === 'string' && isEmailAddress(email)) return email;
  } catch {
    // not JSON: try the description
  }
  const match = /^devtunnel [^:\s]+: (\S+)$/.exec(c.description ?? '');
  return match?.[1] !== undefined && isEmailAddress(match[1]) ? match[1] : undefined;
}

function labelTaken(email: string, label: string, domain: string, others: LabelHolder[]): UserError {
  const names = others.map((o) => (o.email ? `${o.email} (credential ${o.credential_id})` : `credential ${o.credential_id} (owner unknown)`));
  const first = others[0]!;
  return new UserError(
    `${email} would get the URL name "${label}" (hosts *.${label}.${domain}), which ${names.join(' and ')} already ${others.length === 1 ? 'has' : 'have'}: ` +
      'each could then bind the other’s hosts. No invite was made.',
    {
      exitCode: ExitCode.policyRefused,
      code: 'user_label_taken',
      suggestions: [
        `Invite an email alias of this developer whose part before @ makes another name (the name is that part, lower-cased, with dots, + and _ turned into -).`,
        `If ${first.email ?? first.credential_id} no longer needs access: \`devtunnel admin revoke ${first.email ?? first.credential_id}\`, then invite ${email}.`,
      ],
    },
  );
}

// ---------------------------------------------------------------------------------------------
// members / revoke

export interface Member {
  email: string;
  label: string;
  credential_id: string;
  created_at: string;
  acl: string[];
  description: string;
}

export async function listMembers(deps: AdminDeps, req: { team?: string }): Promise<{ team: string; members: Member[] }> {
  const team = deps.config.team(req.team);
  const secrets = await deps.ctx.secretStore();
  const client = await clientFor(deps, secrets, team);
  const credentials = await client.listCredentials();
  const members = credentials.map((c) => toMember(c, team.id)).filter((m): m is Member => m !== undefined);
  members.sort((a, b) => a.email.localeCompare(b.email) || a.created_at.localeCompare(b.created_at));
  return { team: team.id, members };
}

export interface RevokeResult {
  team: string;
  revoked: Array<{ credential_id: string; email: string | null }>;
  sessions_stopped: string[];
}

export async function revokeMember(deps: AdminDeps, req: { team?: string; who: string }): Promise<RevokeResult> {
  const team = deps.config.team(req.team);
  const secrets = await deps.ctx.secretStore();
  const client = await clientFor(deps, secrets, team);
  const who = req.who.trim();
  let targets: Array<{ credential_id: string; email: string | null }>;
  if (who.includes('@')) {
    const wanted = who.toLowerCase();
    targets = (await client.listCredentials())
      .map((c) => toMember(c, team.id))
      .filter((m): m is Member => m !== undefined && m.email.toLowerCase() === wanted)
      .map((m) => ({ credential_id: m.credential_id, email: m.email }));
    if (targets.length === 0) {
      throw usageError('member_not_found', `No credential of team ${team.id} belongs to ${who}.`, ['Run `devtunnel admin members` to see who has access.']);
    }
  } else {
    const credential = await client.getCredential(who);
    const member = toMember(credential, team.id);
    // An id is easy to mistype, and the API key reaches every credential of the account: only
    // credentials devtunnel minted for this team may be revoked here.
    if (!member) {
      throw policyError('not_a_team_member', `Credential ${credential.id} is not a devtunnel member of team ${team.id}; it was not deleted.`, [
        'Run `devtunnel admin members` for this team\'s credential ids.',
        'To remove another credential of the ngrok account, use the ngrok dashboard or API.',
      ]);
    }
    targets = [{ credential_id: credential.id, email: member.email }];
  }
  const ids = new Set(targets.map((t) => t.credential_id));
  // Sessions first (list), then delete the credentials (no new Auth can succeed), then stop the
  // sessions that were live: an agent told to stop cannot come back with the deleted token.
  const sessions = (await client.listTunnelSessions()).filter((s) => s.credential && ids.has(s.credential.id));
  for (const id of ids) await client.deleteCredential(id);
  const stopped: string[] = [];
  for (const s of sessions) {
    try {
      await client.stopTunnelSession(s.id);
      stopped.push(s.id);
    } catch (error) {
      // Already gone (the edge ends a deleted credential's sessions by itself): that is the goal.
      if (error instanceof NgrokApiError && error.status === 404) stopped.push(s.id);
      else throw error;
    }
  }
  return { team: team.id, revoked: targets, sessions_stopped: stopped };
}

// ---------------------------------------------------------------------------------------------
// helpers

/** Names of the team secrets (`{ secret: NAME }`) the policy's profiles refer to. */
export function teamSecretNames(policy: TeamPolicy): string[] {
  const names = new Set<string>();
  const visit = (value: unknown) => {
    if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record['secret'] === 'string' && Object.keys(record).length === 1) names.add(record['secret']);
      else for (const child of Object.values(record)) visit(child);
    }
  };
  visit(policy.profiles);
  return [...names].sort();
}

function toMember(c: ApiCredential, teamId: string): Member | undefined {
  let meta: unknown;
  try {
    meta = JSON.parse(c.metadata || 'null');
  } catch {
    return undefined;
  }
  if (!meta || typeof meta !== 'object') return undefined;
  const m = meta as Partial<MemberMetadata>;
  if (m.devtunnel !== 'member' || m.team !== teamId || typeof m.email !== 'string') return undefined;
  return { email: m.email, label: typeof m.label === 'string' ? m.label : '', credential_id: c.id, created_at: c.created_at, acl: c.acl ?? [], description: c.description };
}

async function readPrivateKey(ctx: CliContext, secrets: SecretStore, team: AdminTeam): Promise<string> {
  const pem = await secrets.getPassword(adminKeyAccount(team.id));
  if (!pem) {
    throw new UserError(`The private key of team "${team.id}" is not in the ${secrets.backend} store on this machine.`, {
      exitCode: ExitCode.notLoggedIn,
      code: 'team_key_missing',
      suggestions: ['Run the admin commands where `devtunnel admin init` was run, or run it again with --force to make a new key (developers then need new invites).'],
    });
  }
  ctx.redactor.add(pem);
  if (fingerprintOf(publicKeyFromPrivate(pem)) !== team.key_fingerprint) {
    throw new UserError(`The team key in the keychain does not match team "${team.id}"'s fingerprint ${team.key_fingerprint}.`, {
      exitCode: ExitCode.usage,
      code: 'team_key_mismatch',
      suggestions: ['Run `devtunnel admin init --force` to make a fresh key (developers then need new invites).'],
    });
  }
  return pem;
}

async function clientFor(deps: AdminDeps, secrets: SecretStore, team: AdminTeam): Promise<NgrokApiClient> {
  const apiKey = await secrets.getPassword(adminApiAccount(team.id));
  if (!apiKey) {
    throw new UserError(`No ngrok API key for team "${team.id}" in the ${secrets.backend} store.`, {
      exitCode: ExitCode.notLoggedIn,
      code: 'api_key_missing',
      suggestions: ['Run `devtunnel admin login` (the key is read from a masked prompt or --stdin).'],
    });
  }
  deps.ctx.redactor.add(apiKey);
  return makeClient(deps, apiKey, normalizeBaseUrl(deps.apiUrl ?? team.api_url));
}

function makeClient(deps: AdminDeps, apiKey: string, baseUrl: string): NgrokApiClient {
  return deps.apiClient ? deps.apiClient({ apiKey, baseUrl }) : new NgrokApiClient({ apiKey, baseUrl, userAgent: `admin/${deps.ctx.version}` });
}

function hasCurrentTeam(config: AdminConfig): boolean {
  try {
    config.team();
    return true;
  } catch {
    return false;
  }
}

function safeTeam(config: AdminConfig, id?: string): AdminTeam | undefined {
  try {
    return config.team(id);
  } catch {
    return undefined;
  }
}

export type { SignedPolicy };
