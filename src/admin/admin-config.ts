/**
 * The admin's local settings (conf, file `admin.json` beside the developer's `team.json`, in
 * `$DEVTUNNEL_CONFIG_DIR` when set): per team its id, name, domain, ingress, the API URL, the team
 * key's fingerprint and the policy it last signed (public: the signed policy carries no secrets).
 * It never holds a key: the team's private key and the ngrok API key live in the keychain
 * (`admin-key:<team>`, `admin-api:<team>`); {@link AdminConfig.saveTeam} copies known fields only.
 */
import Conf from 'conf';
import { ExitCode, UserError } from '../errors.js';
import type { SignedPolicy } from '../team/signed-policy.js';

export interface AdminTeam {
  id: string;
  name: string;
  domain: string;
  ingress: { server_addr: string; root_cas: string };
  /** ngrok REST API base URL (the public API, or a sandbox's). */
  api_url: string;
  /** Fingerprint of the team key (public). */
  key_fingerprint: string;
  /** Where `admin init` wrote the starter policy. */
  policy_file?: string;
  /** The policy last signed with `admin policy sign` (public). */
  signed_policy?: SignedPolicy;
  /** Names (never values) of the team secrets `admin secret set` stored, so `admin logout` can remove them. */
  team_secrets?: string[];
}

interface StoredAdminFile {
  format: 'devtunnel-admin/1';
  current?: string;
  teams: Record<string, AdminTeam>;
}

export interface AdminConfigOptions {
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The conf-backed admin settings. */
export class AdminConfig {
  readonly #options: AdminConfigOptions;
  #conf: Conf<Record<string, unknown>> | undefined;

  constructor(options: AdminConfigOptions = {}) {
    this.#options = options;
  }

  get path(): string {
    return this.conf().path;
  }

  /** The team named by `id`, else the current one; throws `admin_not_initialised` (exit 3). */
  team(id?: string): AdminTeam {
    const file = this.read();
    const wanted = id ?? file.current;
    const team = wanted === undefined ? undefined : file.teams[wanted];
    if (!team) {
      throw new UserError(
        wanted === undefined ? 'No team is set up for administration on this machine.' : `Team "${wanted}" is not set up for administration on this machine.`,
        {
          exitCode: ExitCode.notLoggedIn,
          code: 'admin_not_initialised',
          suggestions: ['Run `devtunnel admin init --team ID --name NAME --domain DOMAIN --ingress HOST:PORT` first (see docs/administrators.md).'],
        },
      );
    }
    return team;
  }

  /** The team if set up, else undefined (never throws for a missing team). */
  /** Throws (exit 2) now if the settings cannot be read or written here, before other state is created. */
  assertUsable(): void {
    this.read();
  }

  findTeam(id: string): AdminTeam | undefined {
    return this.read().teams[id];
  }

  /** Save (replace) a team and make it current. Only the known, public fields are written. */
  saveTeam(team: AdminTeam): AdminTeam {
    const file = this.read();
    const clean: AdminTeam = {
      id: String(team.id),
      name: String(team.name),
      domain: String(team.domain),
      ingress: { server_addr: String(team.ingress.server_addr), root_cas: String(team.ingress.root_cas) },
      api_url: String(team.api_url),
      key_fingerprint: String(team.key_fingerprint),
      ...(team.policy_file === undefined ? {} : { policy_file: String(team.policy_file) }),
      ...(team.signed_policy === undefined
        ? {}
        : {
            signed_policy: {
              format: team.signed_policy.format,
              policy: team.signed_policy.policy,
              signature: team.signed_policy.signature,
              key_fingerprint: team.signed_policy.key_fingerprint,
            },
          }),
      ...(team.team_secrets === undefined ? {} : { team_secrets: [...new Set(team.team_secrets.map(String))].sort() }),
    };
    file.teams[clean.id] = clean;
    file.current = clean.id;
    this.conf().set('admin', file);
    return clean;
  }

  /** Forget a team's settings; the current team is unset if it was this one. Returns false when there was none. */
  removeTeam(id: string): boolean {
    const file = this.read();
    if (!file.teams[id]) return false;
    delete file.teams[id];
    if (file.current === id) delete file.current;
    this.conf().set('admin', file);
    return true;
  }

  private read(): StoredAdminFile {
    const raw = this.conf().get('admin');
    if (raw && typeof raw === 'object' && (raw as StoredAdminFile).format === 'devtunnel-admin/1' && typeof (raw as StoredAdminFile).teams === 'object') {
      return raw as StoredAdminFile;
    }
    return { format: 'devtunnel-admin/1', teams: {} };
  }

  private conf(): Conf<Record<string, unknown>> {
    if (this.#conf) return this.#conf;
    const env = this.#options.env ?? process.env;
    const cwd = this.#options.cwd ?? (env['DEVTUNNEL_CONFIG_DIR'] || undefined);
    try {
      this.#conf = new Conf<Record<string, unknown>>({
        projectName: 'devtunnel',
        projectSuffix: '',
        configName: 'admin',
        ...(cwd === undefined ? {} : { cwd }),
        configFileMode: 0o600,
        accessPropertiesByDotNotation: false,
      });
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES' || code === 'EPERM' || code === 'EEXIST') {
        throw new UserError(`The devtunnel config directory ${cwd ?? '(default)'} cannot hold the admin settings (${code}).`, {
          exitCode: ExitCode.usage,
          code: 'config_dir_unusable',
          suggestions: ['Point DEVTUNNEL_CONFIG_DIR at a directory you own, or fix the path and its permissions.'],
          cause,
        });
      }
      throw new UserError('The devtunnel admin settings file is damaged (not JSON).', {
        exitCode: ExitCode.usage,
        code: 'admin_config_invalid',
        suggestions: ['Move the admin.json file aside and run `devtunnel admin init` again.'],
        cause,
      });
    }
    return this.#conf;
  }
}
