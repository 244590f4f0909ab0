// Runs the BUILT CLI (bin/run.js → dist/) as a real child process, the way a user does.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binPath = path.join(repoRoot, 'bin/run.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A throwaway config dir and keychain service name, so tests never touch a user's real state. */
export function isolatedEnv(extra: Record<string, string> = {}): { env: Record<string, string>; configDir: string; cleanup(): void } {
  const configDir = mkdtempSync(path.join(tmpdir(), 'devtunnel-test-config-'));
  const service = `devtunnel-test-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    NO_COLOR: '1',
    COLUMNS: '100',
    CI: '1',
    DEVTUNNEL_CONFIG_DIR: configDir,
    DEVTUNNEL_KEYCHAIN_SERVICE: service,
    ...extra,
  };
  return { env, configDir, cleanup: () => rmSync(configDir, { recursive: true, force: true }) };
}

/** Runs the CLI to completion. `input` is written to stdin (secrets go here, never in argv). */
export function runCli(args: string[], opts: { env: Record<string, string>; input?: string; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`devtunnel ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A long-running CLI process (share, sandbox) whose JSON event lines can be awaited. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], opts: { env: Record<string, string>; input?: string }) {
    this.child = spawn(process.execPath, [binPath, ...args], { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.stdout += d));
    this.child.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
    if (opts.input !== undefined) this.child.stdin!.end(opts.input);
  }

  /** JSON objects printed so far, one per stdout line. */
  events(): Record<string, unknown>[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Waits for the first JSON line matching `predicate`; fails early if the process exits. */
  async waitForEvent(predicate: (e: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void this.exited.then(() => (done = true));
    while (Date.now() < deadline) {
      const found = this.events().find(predicate);
      if (found) return found;
      if (done) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no matching event; exited=${done}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
  }

  wait(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return Promise.race([
      this.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`process did not exit\nstdout: ${this.stdout}\nstderr: ${this.stderr}`)), timeoutMs),
      ),
    ]);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
