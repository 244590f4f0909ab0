import { UserError, ExitCode, usageError } from '../errors.js';

/** Questions the CLI may ask. Tests use a fake that checks the exact question. */
export interface Prompter {
  /** Whether asking is possible at all (TTY on both ends and not CI). */
  readonly interactive: boolean;
  secret(question: string): Promise<string>;
  confirm(question: string, defaultValue: boolean): Promise<boolean>;
}

export function canPrompt(env: NodeJS.ProcessEnv, stdinTTY: boolean, stdoutTTY: boolean): boolean {
  return stdinTTY && stdoutTTY && !env.CI;
}

/** Raised when a prompt is needed but impossible; names the flag to pass instead. */
export function cannotPrompt(what: string, flagHint: string): UserError {
  return usageError('prompt_unavailable', `Cannot ask for ${what}: not an interactive terminal.`, [flagHint]);
}

const cancelled = () =>
  new UserError('Cancelled.', { exitCode: ExitCode.interrupted, code: 'cancelled' });

/** inquirer-backed prompter; inquirer is imported only when a question is really asked. */
export function createInquirerPrompter(interactive: boolean): Prompter {
  const guard = async <T>(ask: () => Promise<T>): Promise<T> => {
    try {
      return await ask();
    } catch (error) {
      if (error instanceof Error && error.name === 'ExitPromptError') throw cancelled();
      throw error;
    }
  };
  return {
    interactive,
    async secret(question) {
      const { password } = await import('@inquirer/prompts');
      // No echo at all (like sudo): an invite code is ~4 KB, and echoing a star per pasted
      // character re-renders the prompt thousands of times (seconds of lag).
      return guard(() => password({ message: question, mask: false }));
    },
    async confirm(question, defaultValue) {
      const { confirm } = await import('@inquirer/prompts');
      return guard(() => confirm({ message: question, default: defaultValue }));
    },
  };
}
