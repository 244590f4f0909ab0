/**
 * Typed errors. Services throw these; only the base command turns them into
 * output and an exit code. Exit codes are the contract in docs/exit-codes.md.
 */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notLoggedIn: 3,
  policyRefused: 4,
  edgeRefused: 5,
  noKeychain: 6,
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the user can fix: it carries what went wrong, what to try, and its exit code. */
export class UserError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly suggestions: string[];
  /** Stable machine-readable code for --json consumers, e.g. "invite_expired". */
  readonly code: string;

  constructor(message: string, opts: { exitCode: ExitCodeValue; code: string; suggestions?: string[]; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UserError';
    this.exitCode = opts.exitCode;
    this.code = opts.code;
    this.suggestions = opts.suggestions ?? [];
  }
}

export const usageError = (code: string, message: string, suggestions?: string[]) =>
  new UserError(message, { exitCode: ExitCode.usage, code, suggestions });
export const policyError = (code: string, message: string, suggestions?: string[]) =>
  new UserError(message, { exitCode: ExitCode.policyRefused, code, suggestions });
export const edgeError = (code: string, message: string, suggestions?: string[]) =>
  new UserError(message, { exitCode: ExitCode.edgeRefused, code, suggestions });
export const notLoggedInError = (message = 'You are not logged in to a devtunnel team.') =>
  new UserError(message, {
    exitCode: ExitCode.notLoggedIn,
    code: 'not_logged_in',
    suggestions: ['Run `devtunnel login` with the invite code your team admin gave you.'],
  });
