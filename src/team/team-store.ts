/**
 * The local team store: what `devtunnel login` leaves on disk (via `conf`, which writes
 * atomically). It holds only public or non-secret facts — the signed policy, the pinned team
 * key, the user's email/label, the credential id, the *names* of the team secrets (so logout can
 * remove them from the keychain) and which keychain backend holds them. Tokens and secret values
 * live in the keychain (src/secrets); {@link TeamLogin} has no field for them and
 * {@link TeamStore.save} copies known fields only, so nothing else can slip in.
 *
 * Every {@link TeamStore.load} re-verifies the policy signature with the pinned key: an edited
 * file is refused, never used.
 *
 * Start-up cost: `conf` (with its JSON-schema validator) and the policy schema library are
 * loaded only to WRITE (login, sync, logout). Reading — which every share and whoami does — is a
 * plain read of the same JSON file plus the Ed25519 check (the schema ran when the policy entered
 * the machine, and the signature proves it has not changed since). See docs/decisions.md.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Conf from 'conf';
import { ExitCode, notLoggedInError, UserError } from '../errors.js';
import { userLabelFromEmail } from './identity.js';
import type { TeamPolicy } from './policy-schema.js';
import { verifyPolicySignature } from './policy-signature.js';
import type { SignedPolicy } from './signed-policy.js';
import { fingerprintOf, fingerprintsEqual, normalizePublicKey } from './team-key.js';

export { formatDuration, parseDuration, tryParseDuration } from './duration.js';

/** Everything `login` saves. Deliberately has no place for an authtoken or a secret value. */
export interface TeamLogin {
  signedPolicy: SignedPolicy;
  /** Team public key (raw base64url, or SPKI); pinned here. */
  teamPublicKey: string;
  /** If given, must equal the key's fingerprint (a cross-check; it is recomputed anyway). */
  keyFingerprint?: string;
  email: string;
  /** If given, must equal the label derived from `email`. */
  userLabel?: string;
  credentialId: string;
  /** Names (never values) of the team secrets written to the keychain at login. */
  secretNames: string[];
  /** Name of the keychain backend holding the secrets, e.g. `keyutils` (reported by src/secrets). */
  keychainBackend: string;
}

/** A loaded login whose policy signature was verified with the pinned key. */
export interface LoginState {
  policy: TeamPolicy;
  signedPolicy: SignedPolicy;
  teamId: string;
  teamPublicKey: string;
  keyFingerprint: string;
  email: string;
  userLabel: string;
  credentialId: string;
  secretNames: string[];
  /** Providers of the policy's webhooks (per-developer webhook secrets may exist for them). */
  webhookProviders: string[];
  keychainBackend: string;
  /** ISO time of the last save. */
  savedAt: string;
}

/**
 * What `load({ verify: false })` returns: just enough, read without verification, to clean up
 * the keychain at logout even when the file was damaged. Never use it to make a tunnel.
 */
export interface UnverifiedLogin {
  teamId: string;
  secretNames: string[];
  webhookProviders: string[];
}

/** Options for {@link TeamStore}. */
export interface TeamStoreOptions {
  /** Directory for the config file; default `$DEVTUNNEL_CONFIG_DIR`, else the OS config dir for `devtunnel`. */
  cwd?: string | undefined;
  /** Environment to read `DEVTUNNEL_CONFIG_DIR` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

interface StoredFile {
  format: 'devtunnel-login/1';
  signed_policy: SignedPolicy;
  team_key: { public_key: string; fingerprint: string };
  user: { email: string; label: string };
  credential_id: string;
  secret_names: string[];
  keychain_backend: string;
  saved_at: string;
}

const KEY = 'login';
const CONFIG_NAME = 'team';

/**
 * Where devtunnel keeps its config when DEVTUNNEL_CONFIG_DIR is not set: the platform's
 * usual place (XDG on Linux). Computed here, not by conf, so reading needs no conf.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Preferences', 'devtunnel');
  if (process.platform === 'win32') return path.join(env['APPDATA'] || path.join(home, 'AppData', 'Roaming'), 'devtunnel', 'Config');
  return path.join(env['XDG_CONFIG_HOME'] || path.join(home, '.config'), 'devtunnel');
}
const SECRET_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The conf-backed store of the current team login. */
export class TeamStore {
  readonly #options: TeamStoreOptions;
  #conf: Conf<Record<string, unknown>> | undefined;

  constructor(options: TeamStoreOptions = {}) {
    this.#options = options;
  }

  /**
   * Verify and save a login (replacing any previous one). The policy signature is checked with
   * `teamPublicKey` first, so a store never holds a policy that does not verify.
   */
  async save(login: TeamLogin, now: Date = new Date()): Promise<LoginState> {
    const { verifySignedPolicy } = await import('./signed-policy.js');
    const publicKey = normalizePublicKey(login.teamPublicKey);
    if (publicKey === undefined) throw new TypeError('teamPublicKey is not an Ed25519 public key');
    const fingerprint = fingerprintOf(publicKey);
    if (login.keyFingerprint !== undefined && !fingerprintsEqual(login.keyFingerprint, fingerprint)) {
      throw new TypeError('keyFingerprint does not match teamPublicKey');
    }
    const policy = verifySignedPolicy(login.signedPolicy, publicKey);
    const label = userLabelFromEmail(login.email);
    if (login.userLabel !== undefined && login.userLabel !== label) throw new TypeError('userLabel does not match email');
    const secretNames = [...new Set(login.secretNames)].sort();
    if (!secretNames.every((n) => SECRET_NAME.test(n))) throw new TypeError('secretNames must be secret names');
    const file: StoredFile = {
      format: 'devtunnel-login/1',
      // Copy field by field: whatever else the caller's object carries is not written.
      signed_policy: {
        format: login.signedPolicy.format,
        policy: login.signedPolicy.policy,
        signature: login.signedPolicy.signature,
        key_fingerprint: login.signedPolicy.key_fingerprint,
      },
      team_key: { public_key: publicKey, fingerprint },
      user: { email: login.email, label },
      credential_id: String(login.credentialId),
      secret_names: secretNames,
      keychain_backend: String(login.keychainBackend),
      saved_at: now.toISOString(),
    };
    // A damaged file is being replaced anyway: a lenient instance resets it instead of refusing.
    (await this.makeConf(true)).set(KEY, file);
    return toState(file, policy);
  }

  /**
   * Replace the stored policy with a newer signed one (e.g. from `devtunnel sync`): verified with
   * the pinned key and refused if it would roll the version back. Throws when not logged in.
   */
  async updatePolicy(next: SignedPolicy, now: Date = new Date()): Promise<LoginState> {
    const current = this.load();
    if (!current) throw notLoggedInError();
    const { assertNotRollback, verifySignedPolicy } = await import('./signed-policy.js');
    const policy = verifySignedPolicy(next, current.teamPublicKey);
    assertNotRollback(current.policy, policy);
    return this.save({ ...current, signedPolicy: next }, now);
  }

  /**
   * The verified login, or undefined when nobody is logged in. Throws `team_store_invalid`
   * (exit 3) if the file was altered. With `{ verify: false }`: the few fields logout needs,
   * read leniently and never throwing (undefined when nothing usable is there).
   */
  load(): LoginState | undefined;
  load(options: { verify: false }): UnverifiedLogin | undefined;
  load(options: { verify?: boolean } = {}): LoginState | UnverifiedLogin | undefined {
    if (options.verify === false) return this.loadUnverified();
    const raw = this.readRaw();
    if (raw === undefined) return undefined;
    const file = asStoredFile(raw);
    if (!file) throw storeInvalid();
    const publicKey = normalizePublicKey(file.team_key.public_key);
    if (publicKey === undefined || !fingerprintsEqual(file.team_key.fingerprint, fingerprintOf(publicKey))) throw storeInvalid();
    let policy: TeamPolicy;
    let label: string;
    try {
      // Integrity only: the schema was checked when this policy was saved (see the header).
      policy = verifyPolicySignature(file.signed_policy, publicKey) as unknown as TeamPolicy;
      label = userLabelFromEmail(file.user.email);
    } catch (err) {
      throw storeInvalid(err);
    }
    if (label !== file.user.label) throw storeInvalid();
    return toState(file, policy);
  }

  /** Forget the login, even when the file is unreadable (the keychain entries are src/secrets' business). */
  async clear(): Promise<void> {
    try {
      (await this.conf()).delete(KEY);
    } catch {
      // An unreadable file: a lenient instance resets it, then the key is gone with it.
      (await this.makeConf(true)).clear();
    }
  }

  /**
   * Throws `config_dir_unusable` (exit 2) when the config directory cannot hold the store (a file
   * in the way, no permission), so callers can refuse before they store anything elsewhere.
   * Whether the file itself is damaged does not matter here: saving replaces it.
   */
  assertUsable(): void {
    try {
      this.readRaw();
    } catch (error) {
      if (error instanceof UserError && error.code === 'config_dir_unusable') throw error;
    }
  }

  /** Absolute path of the store file; computed without loading conf. */
  get path(): string {
    return path.join(this.dir(), `${CONFIG_NAME}.json`);
  }

  /** The stored login object, or undefined when there is no file or no login in it. */
  private readRaw(): unknown {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES' || code === 'EPERM') throw configDirUnusable(this.dir(), code, err);
      throw storeInvalid(err);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw storeInvalid(err);
    }
    return isRecord(parsed) ? parsed[KEY] : undefined;
  }

  private dir(): string {
    const env = this.#options.env ?? process.env;
    return this.#options.cwd ?? (env['DEVTUNNEL_CONFIG_DIR'] || defaultConfigDir(env));
  }

  private loadUnverified(): UnverifiedLogin | undefined {
    let raw: unknown;
    try {
      raw = this.readRaw();
    } catch {
      return undefined;
    }
    if (!isRecord(raw)) return undefined;
    const policy = isRecord(raw['signed_policy']) ? raw['signed_policy']['policy'] : undefined;
    const team = isRecord(policy) ? policy['team'] : undefined;
    const teamId = isRecord(team) ? team['id'] : undefined;
    if (typeof teamId !== 'string' || teamId === '') return undefined;
    const names = Array.isArray(raw['secret_names']) ? raw['secret_names'].filter((n): n is string => typeof n === 'string' && SECRET_NAME.test(n)) : [];
    return { teamId, secretNames: names, webhookProviders: isRecord(policy) ? webhookProvidersOf(policy['webhooks']) : [] };
  }

  private async conf(): Promise<Conf<Record<string, unknown>>> {
    if (this.#conf) return this.#conf;
    try {
      this.#conf = await this.makeConf(false);
    } catch (err) {
      // conf throws on a file that is not JSON; treat it like any other altered store.
      throw storeInvalid(err);
    }
    return this.#conf;
  }

  private async makeConf(clearInvalidConfig: boolean): Promise<Conf<Record<string, unknown>>> {
    const { default: ConfClass } = await import('conf');
    return new ConfClass<Record<string, unknown>>({
      projectName: 'devtunnel',
      projectSuffix: '',
      configName: CONFIG_NAME,
      cwd: this.dir(),
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
      clearInvalidConfig,
    });
  }
}

function configDirUnusable(dir: string, code: string, cause: unknown): UserError {
  const why = code === 'ENOTDIR' ? 'is not a directory' : code === 'EISDIR' ? 'holds a directory where devtunnel keeps team.json' : 'is not readable by you';
  return new UserError(`The devtunnel config directory ${dir} ${why}.`, {
    exitCode: ExitCode.usage,
    code: 'config_dir_unusable',
    suggestions: ['Point DEVTUNNEL_CONFIG_DIR at a directory you own, or fix the path and its permissions.'],
    cause,
  });
}

function storeInvalid(cause?: unknown): UserError {
  return new UserError('The saved devtunnel login is damaged or was edited, so it cannot be trusted.', {
    exitCode: ExitCode.notLoggedIn,
    code: 'team_store_invalid',
    suggestions: ['Run `devtunnel logout`, then `devtunnel login` again with your invite code.'],
    cause,
  });
}

function toState(file: StoredFile, policy: TeamPolicy): LoginState {
  return {
    policy,
    signedPolicy: file.signed_policy,
    teamId: policy.team.id,
    teamPublicKey: file.team_key.public_key,
    keyFingerprint: file.team_key.fingerprint,
    email: file.user.email,
    userLabel: file.user.label,
    credentialId: file.credential_id,
    secretNames: [...file.secret_names],
    webhookProviders: webhookProvidersOf(policy.webhooks),
    keychainBackend: file.keychain_backend,
    savedAt: file.saved_at,
  };
}

function webhookProvidersOf(webhooks: unknown): string[] {
  if (!isRecord(webhooks)) return [];
  const ids = Object.values(webhooks).map((w) => (isRecord(w) ? w['provider'] : undefined)).filter((p): p is string => typeof p === 'string');
  return [...new Set(ids)].sort();
}

function asStoredFile(raw: unknown): StoredFile | undefined {
  if (!isRecord(raw) || raw['format'] !== 'devtunnel-login/1') return undefined;
  const key = raw['team_key'];
  const user = raw['user'];
  const names = raw['secret_names'];
  if (!isRecord(key) || typeof key['public_key'] !== 'string' || typeof key['fingerprint'] !== 'string') return undefined;
  if (!isRecord(user) || typeof user['email'] !== 'string' || typeof user['label'] !== 'string') return undefined;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && SECRET_NAME.test(n))) return undefined;
  if (typeof raw['credential_id'] !== 'string' || typeof raw['keychain_backend'] !== 'string' || typeof raw['saved_at'] !== 'string' || !isRecord(raw['signed_policy'])) return undefined;
  return raw as unknown as StoredFile;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
