// Trust on first use: once logged in to a team, an invite for the same team signed by another
// key is refused unless the user names the new key's fingerprint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isolatedEnv, runCli } from '../support/cli.js';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring-session.js';

let first: RunningSandbox;
let second: RunningSandbox;
let keyring: PrivateKeyring;
beforeAll(async () => {
  keyring = await startPrivateKeyring();
  first = await startSandbox({ stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-sbx-')) });
  second = await startSandbox({ stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-sbx-')) });
});
afterAll(async () => {
  await first?.close();
  await second?.close();
  await keyring?.stop();
});

describe('a new team key for a known team', () => {
  it('is refused without --fingerprint (exit 2, nothing changed) and accepted with it', async () => {
    expect(first.info.team.id).toBe(second.info.team.id);
    expect(first.info.team_fingerprint).not.toBe(second.info.team_fingerprint);
    const user = isolatedEnv(keyring.env);
    expect((await runCli(['login', '--stdin'], { env: user.env, input: first.info.invite })).code).toBe(0);

    const refused = await runCli(['login', '--stdin'], { env: user.env, input: second.info.invite });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(first.info.team_fingerprint);
    expect(refused.stderr).toContain(second.info.team_fingerprint);
    expect(refused.stderr).toContain('--fingerprint');
    const still = JSON.parse((await runCli(['whoami', '--json'], { env: user.env })).stdout);
    expect(still.key_fingerprint).toBe(first.info.team_fingerprint);
    expect(still.ingress).toBe(first.edge.agentAddr);

    const accepted = await runCli(['login', '--stdin', '--fingerprint', second.info.team_fingerprint], { env: user.env, input: second.info.invite });
    expect(accepted.code, accepted.stderr).toBe(0);
    const now = JSON.parse((await runCli(['whoami', '--json'], { env: user.env })).stdout);
    expect(now.key_fingerprint).toBe(second.info.team_fingerprint);

    // Logging in again with the same key needs no confirmation.
    expect((await runCli(['login', '--stdin'], { env: user.env, input: second.info.invite })).code).toBe(0);
    await runCli(['logout'], { env: user.env });
    user.cleanup();
  }, 60_000);
});
