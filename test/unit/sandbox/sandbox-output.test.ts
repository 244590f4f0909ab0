// What `devtunnel sandbox` prints: JSON lines that all carry "event", OAuth codes and states
// redacted from paths, a shell-safe admin quick start, and a state dir that fails fast.
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import type { EdgeEvent } from '../../../src/sandbox/event-log.js';
import { adminQuickStart, redactEvent, redactQuery, sandboxEventLine, type SandboxInfo } from '../../../src/sandbox/sandbox.js';
import { prepareStateDir } from '../../../src/sandbox/state-dir.js';

const proxy = (p: string): EdgeEvent => ({ type: 'proxy', endpointId: 'ep_1', host: 'app.dev.devtunnel.localhost', method: 'GET', path: p, status: 302, clientIp: '127.0.0.1', seq: 3, at: '2024-01-01T00:00:00Z' });

describe('sandbox event lines', () => {
  it('carry "event" (and still "type")', () => {
    const line = sandboxEventLine(proxy('/'));
    expect(line).toMatchObject({ event: 'proxy', type: 'proxy', seq: 3 });
  });

  it('redact code and state query values, in any case, and keep the rest', () => {
    expect(redactQuery('/oauth/callback?code=4%2Fabc&state=xyz&scope=email')).toBe('/oauth/callback?code=[redacted]&state=[redacted]&scope=email');
    expect(redactQuery('/cb?Code=abc&STATE=1#frag')).toBe('/cb?Code=[redacted]&STATE=[redacted]#frag');
    expect(redactQuery('/cb?id_token=eyJ&x')).toBe('/cb?id_token=[redacted]&x');
    expect(redactQuery('/plain/path')).toBe('/plain/path');
    expect(redactQuery('/search?q=code')).toBe('/search?q=code');
    const event = redactEvent({ ...proxy('/cb?code=SECRETCODE&state=SECRETSTATE'), traffic: { url: 'https://x/?code=OTHER', client_secret: 'cs' } });
    expect(JSON.stringify(event)).not.toMatch(/SECRETCODE|SECRETSTATE|OTHER|"cs"/);
    expect(JSON.stringify(sandboxEventLine(proxy('/cb?code=SECRETCODE')))).not.toContain('SECRETCODE');
  });
});

describe('adminQuickStart', () => {
  const info = {
    domain: 'devtunnel.localhost',
    agent_addr: '127.0.0.1:4443',
    ca_path: "/tmp/it's here/ca.pem",
    api_url: 'http://127.0.0.1:4040',
    api_key_file: '/tmp/state/api-key.txt',
  } as SandboxInfo;

  it('sets up a sandbox-only team from scratch (init --force, login from the key file, sign, invite), shell-quoting paths', () => {
    const lines = adminQuickStart(info);
    expect(lines[0]).toContain('admin init --team sandbox');
    expect(lines[0]).toContain(`--root-cas '/tmp/it'\\''s here/ca.pem'`);
    expect(lines[0]).toContain('--api-url http://127.0.0.1:4040');
    expect(lines[0]).toContain('--force');
    expect(lines[1]).toBe('devtunnel admin login --team sandbox --stdin < /tmp/state/api-key.txt');
    expect(lines[2]).toContain('admin policy sign sandbox-policy.yaml');
    expect(lines[3]).toContain('admin invite alice@example.com');
  });
});

describe('prepareStateDir', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) {
      chmodSync(d, 0o700);
      rmSync(d, { recursive: true, force: true });
    }
  });
  const temp = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'devtunnel-state-'));
    dirs.push(d);
    return d;
  };
  const failure = (dir: string) => {
    try {
      prepareStateDir(dir);
    } catch (error) {
      return error as UserError;
    }
    throw new Error(`prepareStateDir(${dir}) did not fail`);
  };

  it('makes missing levels (0700) and accepts an existing directory', () => {
    const base = temp();
    const dir = path.join(base, 'a', 'b');
    expect(prepareStateDir(dir)).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(prepareStateDir(dir)).toBe(dir);
  });

  it('names a file in the path (exit 2)', () => {
    const base = temp();
    writeFileSync(path.join(base, 'file'), 'x');
    const error = failure(path.join(base, 'file', 'state'));
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(`${path.join(base, 'file')} is a file, not a directory`);
    expect(error.suggestions.join(' ')).toContain('--state');
  });

  it.runIf(existsSync('/proc/self'))('fails at once where no directory can be made (/proc), instead of looping', () => {
    const started = Date.now();
    const error = failure('/proc/devtunnel-nope/state');
    expect(error.message).toContain('cannot create /proc/devtunnel-nope: /proc does not take new directories');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it.runIf(process.getuid?.() !== 0)('says permission denied for a directory it cannot write', () => {
    const base = temp();
    chmodSync(base, 0o500);
    expect(failure(path.join(base, 'state')).message).toContain('permission denied');
  });
});
