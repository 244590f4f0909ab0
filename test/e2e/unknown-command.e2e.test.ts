// An unknown command is a usage error like any other: exit 2, a "did you mean", and with --json
// the usual error object on stdout.
import { describe, expect, it } from 'vitest';
import { isolatedEnv, runCli } from '../support/cli.js';

describe('unknown commands', () => {
  it('exit 2 with a suggestion, and JSON with --json', async () => {
    const user = isolatedEnv();
    const typo = await runCli(['shar', '3000'], { env: user.env });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('"shar" is not a devtunnel command.');
    expect(typo.stderr).toContain('Did you mean: devtunnel share?');
    const json = await runCli(['frobnicate', '--json'], { env: user.env });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { code: 'unknown_command', message: '"frobnicate" is not a devtunnel command.', suggestions: ['Run `devtunnel --help` for the list of commands.'], exit_code: 2 },
    });
    user.cleanup();
  });
});
