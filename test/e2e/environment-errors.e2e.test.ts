// Ordinary environment problems are user errors with a clear message, a suggested fix and exit 2
// (bad input), not exit 1 ("a bug"): the built CLI as a child process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdminConfig } from '../../src/admin/admin-config.js';
import { signPolicy } from '../../src/team/signed-policy.js';
import { generateTeamKey } from '../../src/team/team-key.js';
import { TeamStore } from '../../src/team/team-store.js';
import { startPrivateKeyring, type PrivateKeyring } from '../support/keyring-session.js';
import { isolatedEnv, runCli } from '../support/cli.js';
import { samplePolicy } from '../unit/team/fixtures.js';

let keyring: PrivateKeyring;
let work: string;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  keyring = await startPrivateKeyring();
  work = mkdtempSync(path.join(tmpdir(), 'devtunnel-env-errors-'));
}, 30_000);

afterAll(async () => {
  for (const c of cleanups) c();
  rmSync(work, { recursive: true, force: true });
  await keyring?.stop();
});

function env() {
  const iso = isolatedEnv(keyring.env);
  cleanups.push(iso.cleanup);
  return iso;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('sync: a source that cannot be read or reached', () => {
  let devEnv: Record<string, string>;

  beforeAll(async () => {
    // A developer login written straight to the config dir (sync needs no keychain).
    const iso = env();
    devEnv = iso.env;
    const key = generateTeamKey();
    await new TeamStore({ cwd: iso.configDir }).save({
      signedPolicy: signPolicy(samplePolicy(), key.privateKeyPem),
      teamPublicKey: key.publicKey,
      email: 'alice@acme.com',
      credentialId: 'cr_test',
      secretNames: [],
      keychainBackend: 'secret-service',
    });
  });

  it('a "bad port" URL: exit 2, says fetch refuses the port, suggests another', async () => {
    const r = await runCli(['sync', '--from', 'http://127.0.0.1:1/p.json'], { env: devEnv });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('Cannot fetch the team policy from http://127.0.0.1:1/p.json: bad port.');
    expect(r.stderr).toMatch(/→ fetch refuses well-known service ports .* serve the policy on another port/);
    expect(r.stderr).not.toContain('bug');
  });

  it('an unreachable URL: exit 2 with the reason and what to check (--json too)', async () => {
    const port = await closedPort();
    const r = await runCli(['sync', '--from', `http://127.0.0.1:${port}/p.json`, '--json'], { env: devEnv });
    expect(r.code, r.stderr).toBe(2);
    const error = JSON.parse(r.stdout).error;
    expect(error).toMatchObject({ code: 'policy_fetch_failed', exit_code: 2 });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.suggestions.join(' ')).toContain('Check the URL');
  });

  it('a missing file: exit 2, "no such file", with a suggestion', async () => {
    const r = await runCli(['sync', '--from', '/nonexistent.json'], { env: devEnv });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('Cannot read the signed policy /nonexistent.json: no such file.');
    expect(r.stderr).toMatch(/→ Check the path/);
  });

  it('an unsupported scheme is refused, not read as a file name', async () => {
    const r = await runCli(['sync', '--from', 'ftp://files.acme.com/policy.signed.json'], { env: devEnv });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--from: ftp: URLs are not supported');
    expect(r.stderr).toMatch(/→ Pass a file path .* or an https:\/\/ URL/);
  });
});

describe('admin: an API URL that cannot be reached', () => {
  let adminEnv: Record<string, string>;

  beforeAll(async () => {
    const iso = env();
    adminEnv = iso.env;
    const policy = samplePolicy();
    new AdminConfig({ cwd: iso.configDir, env: {} }).saveTeam({
      id: 'acme',
      name: policy.team.name,
      domain: policy.domain,
      ingress: policy.ingress,
      api_url: 'https://api.ngrok.test',
      key_fingerprint: generateTeamKey().fingerprint,
    });
    // A stand-in API that accepts the key, so `admin login` stores it for `admin members`.
    const api = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ credentials: [], next_page_uri: null }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const login = await runCli(['admin', 'login', '--stdin', '--api-url', url], { env: adminEnv, input: 'api-key-for-the-test-0123456789\n' });
    await new Promise<void>((r) => api.close(() => r()));
    expect(login.code, login.stderr).toBe(0);
  }, 30_000);

  it('admin login --api-url with a "bad port": exit 2 at once (no retries), naming the port', async () => {
    const started = Date.now();
    const r = await runCli(['admin', 'login', '--stdin', '--api-url', 'http://127.0.0.1:9'], { env: adminEnv, input: 'another-api-key-0123456789\n' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('Cannot reach the ngrok API at http://127.0.0.1:9: port 9 is one that fetch refuses to connect to ("bad port").');
    expect(r.stderr).toMatch(/→ Serve the API on another port/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('admin members --api-url with a "bad port" or a closed port: exit 2', async () => {
    const bad = await runCli(['admin', 'members', '--api-url', 'http://127.0.0.1:9'], { env: adminEnv });
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('bad port');
    const port = await closedPort();
    const closed = await runCli(['admin', 'members', '--api-url', `http://127.0.0.1:${port}`, '--json'], { env: adminEnv, timeoutMs: 30_000 });
    expect(closed.code, closed.stderr).toBe(2);
    const error = JSON.parse(closed.stdout).error;
    expect(error.message).toMatch(/ECONNREFUSED \(after 4 attempts\)/);
    expect(error.suggestions.join(' ')).toContain('--api-url');
  }, 30_000);
});

describe('sandbox: a port or state directory it cannot use', () => {
  it('--agent-port already in use: exit 2 naming the flag, suggesting another port or 0', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const { port } = holder.address() as AddressInfo;
    try {
      const r = await runCli(['sandbox', '--agent-port', String(port), '--state', path.join(work, 'sbx')], { env: env().env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--agent-port ${port}: port ${port} on 127.0.0.1 is already in use.`);
      expect(r.stderr).toContain(`--agent-port 0 for any free port`);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  });

  it('--state below a file: exit 2 naming the file', async () => {
    const file = path.join(work, 'a-file');
    writeFileSync(file, 'x');
    const r = await runCli(['sandbox', '--state', path.join(file, 'x')], { env: env().env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${file} is a file, not a directory`);
    expect(r.stderr).toMatch(/→ Pass --state/);
  });

  it.runIf(existsSync('/proc/self'))('--state under /proc: fails at once (it used to spin forever)', async () => {
    const r = await runCli(['sandbox', '--state', '/proc/nope'], { env: env().env, timeoutMs: 10_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('Cannot use /proc/nope as the sandbox state directory: cannot create /proc/nope: /proc does not take new directories.');
  });
});

describe('admin init: a config directory it cannot use', () => {
  it('is exit 2 before the signing key or the policy file is created', async () => {
    const iso = env();
    const notADir = path.join(iso.configDir, 'a-file');
    writeFileSync(notADir, 'x');
    const output = path.join(iso.configDir, 'policy.yaml');
    const envWithFile = { ...iso.env, DEVTUNNEL_CONFIG_DIR: notADir };
    const r = await runCli(['admin', 'init', '--team', 'acme', '--name', 'Acme', '--domain', 'x.example.com', '--ingress', '127.0.0.1:1', '--output', output], { env: envWithFile });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('cannot hold the admin settings');
    expect(existsSync(output)).toBe(false);
    // No signing key was stored: init in a usable directory finds none to keep.
    const again = await runCli(['admin', 'init', '--team', 'acme', '--name', 'Acme', '--domain', 'x.example.com', '--ingress', '127.0.0.1:1', '--output', output], { env: iso.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr + again.stdout).not.toMatch(/already (has|exists).*key|keeping the existing key/i);
  });
});
