import { Command, Flags } from '@oclif/core';
import { ExitCode, UserError } from '../errors.js';
import { colorEnabled, createOutput } from '../ui/output.js';
import { canPrompt, createInquirerPrompter } from '../ui/prompter.js';
import { Redactor } from '../ui/redact.js';
import type { CliContext } from './context.js';
import { takePrewarmed, type Prewarmed } from './prewarmed.js';

/**
 * Every command extends this: it owns the `--json`/`--no-color` flags, builds the
 * context once, and is the only place that turns errors into output and exit codes.
 */
export abstract class DevtunnelCommand extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    'no-color': Flags.boolean({ description: 'Turn off colour in human output.', helpGroup: 'GLOBAL' }),
  };

  /**
   * Whether to say which keychain store holds the secrets (e.g. "kernel keyring: until reboot").
   * Commands that store secrets say it; the rest stay quiet, or every command would repeat it.
   */
  static showKeychainNotice = false;

  private builtContext: CliContext | undefined;
  /** What bin/run.js started for this command before oclif loaded (src/tunnel/warmup.ts), if anything. */
  private prewarmed: Prewarmed | undefined;

  override async init(): Promise<void> {
    this.prewarmed = takePrewarmed();
    await super.init();
  }

  /** The context for this run; built on first use with the parsed `--no-color`. */
  protected context(noColor = false): CliContext {
    this.builtContext ??= buildContext(
      {
        json: this.jsonEnabled(),
        noColor,
        version: this.config.version,
        showKeychainNotice: (this.constructor as typeof DevtunnelCommand).showKeychainNotice,
      },
      this.prewarmed,
    );
    return this.builtContext;
  }

  /** After run/catch (also when oclif will exit for an error): close a warm session nothing used. */
  protected override async finally(error: Error | undefined): Promise<void> {
    await this.prewarmed?.release();
    await super.finally(error);
  }

  /**
   * Results print as one compact JSON line, like the errors and the events of long-running
   * commands, so every `--json` output can be read line by line (`jq -c`, `JSON.parse` per line).
   */
  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json)}\n`);
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<void> {
    const ctx = this.context();
    if (error instanceof UserError) {
      process.exitCode = error.exitCode;
      const message = ctx.redactor.redact(error.message);
      const suggestions = error.suggestions.map((s) => ctx.redactor.redact(s));
      if (this.jsonEnabled()) {
        ctx.out.jsonLine({ error: { code: error.code, message, suggestions, exit_code: error.exitCode } });
      } else {
        ctx.stderr.write(`Error: ${message}\n`);
        for (const s of suggestions) ctx.stderr.write(`  → ${s}\n`);
      }
      return;
    }
    // oclif's own errors (unknown flag, missing argument) already carry exit 2 and a clear text.
    if (typeof error.exitCode === 'number' || error.name === 'CLIError' || (error as { oclif?: unknown }).oclif) {
      if (this.jsonEnabled()) {
        process.exitCode = error.exitCode ?? ExitCode.usage;
        ctx.out.jsonLine({
          error: { code: 'usage', message: ctx.redactor.redact(error.message), suggestions: [], exit_code: process.exitCode },
        });
        return;
      }
      throw error;
    }
    // Anything else is a bug: say so, without a stack trace unless asked for.
    process.exitCode = ExitCode.unexpected;
    const message = ctx.redactor.redact(error.message || String(error));
    if (this.jsonEnabled()) {
      ctx.out.jsonLine({ error: { code: 'unexpected', message, suggestions: [], exit_code: ExitCode.unexpected } });
    } else {
      ctx.stderr.write(`Error: unexpected failure: ${message}\n`);
      ctx.stderr.write('  → This is a bug in devtunnel. Run again with DEBUG=devtunnel to see the stack trace, and report it.\n');
      if (ctx.env.DEBUG?.includes('devtunnel') && error.stack) ctx.stderr.write(`${ctx.redactor.redact(error.stack)}\n`);
    }
  }
}

/**
 * Builds the context. `prewarmed` (from the start-up warm-up) supplies an already opened secret store
 * and a tunnel starter holding a connected session; the context uses them instead of opening its own.
 */
export function buildContext(
  opts: { json: boolean; noColor: boolean; version: string; showKeychainNotice: boolean },
  prewarmed?: Prewarmed,
): CliContext {
  const env = process.env;
  const tty = {
    stdin: Boolean(process.stdin.isTTY),
    stdout: Boolean(process.stdout.isTTY),
    stderr: Boolean(process.stderr.isTTY),
  };
  const redactor = new Redactor();
  let teamStore: ReturnType<CliContext['teamStore']> | undefined;
  let secretStore: ReturnType<CliContext['secretStore']> | undefined;
  let tunnelStarter: ReturnType<CliContext['tunnelStarter']> | undefined;
  const ctx: CliContext = {
    env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    tty,
    out: createOutput({
      stdout: process.stdout,
      stderr: process.stderr,
      json: opts.json,
      color: colorEnabled(env, tty.stderr, opts.noColor),
    }),
    prompter: createInquirerPrompter(canPrompt(env, tty.stdin, tty.stdout)),
    redactor,
    now: () => new Date(),
    version: opts.version,
    teamStore: () =>
      (teamStore ??= import('../team/team-store.js').then(({ TeamStore }) => new TeamStore({ cwd: env.DEVTUNNEL_CONFIG_DIR }))),
    secretStore: () =>
      (secretStore ??= prewarmed?.secretStore
        ? // Opened (or failed to open) by the warm-up, which showed nothing: the notice is shown here.
          prewarmed.secretStore.then(({ store, notice }) => {
            if (notice !== undefined && opts.showKeychainNotice) ctx.out.notice(notice);
            return store;
          })
        : import('../secrets/open-secret-store.js').then(({ openSecretStore }) =>
            openSecretStore({ env, notice: opts.showKeychainNotice ? (line) => ctx.out.notice(line) : undefined }),
          )),
    tunnelStarter: () =>
      (tunnelStarter ??= prewarmed?.tunnelStarter
        ? Promise.resolve(prewarmed.tunnelStarter)
        : import('../tunnel/ngrok-tunnel-starter.js').then(({ NgrokTunnelStarter }) => {
            const starter = new NgrokTunnelStarter();
            starter.preload();
            return starter;
          })),
  };
  return ctx;
}
