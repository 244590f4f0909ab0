// A private Secret Service for tests: its own D-Bus session bus and its own gnome-keyring-daemon,
// with a throwaway HOME so the login keyring is created fresh and never touches a real one.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PrivateKeyring {
  /** Environment for anything that should use this keyring (DBUS_SESSION_BUS_ADDRESS, HOME, XDG_*). */
  env: Record<string, string>;
  /** Stops the keyring daemon and the bus and removes the temp dirs. Safe to call twice. */
  stop(): Promise<void>;
}

const REQUIRED_TOOLS: ReadonlyArray<{ binary: string; pkg: string }> = [
  { binary: 'dbus-daemon', pkg: 'dbus-daemon (or dbus)' },
  { binary: 'dbus-send', pkg: 'dbus-bin (or dbus)' },
  { binary: 'gnome-keyring-daemon', pkg: 'gnome-keyring' },
];

/** Absolute path of `binary` on PATH, or undefined. */
export function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binary);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Names the Debian packages to install when a tool this helper needs is missing; `[]` when all are there. */
export function missingKeyringPackages(): string[] {
  return REQUIRED_TOOLS.filter(({ binary }) => findOnPath(binary) === undefined).map(({ binary, pkg }) => `${binary} (Debian: ${pkg})`);
}

// No <servicedir>: nothing is D-Bus-activated on this bus, so a request can never start a second,
// locked gnome-keyring-daemon (or anything else) behind our back.
const busConfig = (socketPath: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socketPath}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// Last resort if a test run dies without calling stop(): kill whatever is still ours.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the whole process group: catches anything the daemon forked
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  }
  live.delete(child);
}

function collect(child: ChildProcess): () => string {
  let text = '';
  const add = (chunk: Buffer) => {
    if (text.length < 8_000) text += chunk.toString('utf8');
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => text.trim();
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout) => {
      resolve({ ok: !error, stdout: String(stdout) });
    });
  });
}

async function waitFor(what: string, deadline: number, check: () => Promise<boolean>, diagnostics: () => string): Promise<void> {
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not come up in time.\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a private D-Bus session bus and an unlocked gnome-keyring-daemon (Secret Service only)
 * on it, with a fresh temp HOME/XDG tree, and waits until the default collection answers.
 */
export async function startPrivateKeyring(opts: { timeoutMs?: number } = {}): Promise<PrivateKeyring> {
  const missing = missingKeyringPackages();
  if (missing.length > 0) {
    throw new Error(
      `startPrivateKeyring needs tools that are not installed: ${missing.join(', ')}. ` +
        'Install them with `apt-get install dbus dbus-user-session gnome-keyring` (see .ci/run).',
    );
  }
  installExitHook();
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  const root = await mkdtemp(path.join(tmpdir(), 'devtunnel-keyring-'));
  const dirs = {
    HOME: path.join(root, 'home'),
    XDG_RUNTIME_DIR: path.join(root, 'run'),
    XDG_DATA_HOME: path.join(root, 'data'),
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_CACHE_HOME: path.join(root, 'cache'),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
  await chmod(dirs.XDG_RUNTIME_DIR, 0o700);
  const socketPath = path.join(root, 'bus');
  const configPath = path.join(root, 'bus.conf');
  await writeFile(configPath, busConfig(socketPath));

  const children: ChildProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Keyring daemon first, so it does not log a lost bus; then the bus.
    for (const child of [...children].reverse()) await stopChild(child);
    await rm(root, { recursive: true, force: true });
  };

  try {
    const bus = spawn('dbus-daemon', ['--nofork', '--nopidfile', `--config-file=${configPath}`, '--print-address=1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group, so stop() can kill the group
    });
    children.push(bus);
    live.add(bus);
    const busOutput = collect(bus);
    let addressTimer: NodeJS.Timeout | undefined;
    const address = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const line = buffered.split('\n')[0];
        if (buffered.includes('\n') && line) {
          bus.stdout?.off('data', onData);
          resolve(line.trim());
        }
      };
      bus.stdout?.on('data', onData);
      bus.once('exit', (code) => reject(new Error(`dbus-daemon exited with code ${String(code)}: ${busOutput()}`)));
      bus.once('error', reject);
      addressTimer = setTimeout(
        () => reject(new Error(`dbus-daemon printed no address in time: ${busOutput()}`)),
        Math.max(0, deadline - Date.now()),
      );
    }).finally(() => clearTimeout(addressTimer));

    const env: Record<string, string> = { ...dirs, DBUS_SESSION_BUS_ADDRESS: address };
    const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env };

    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      env: childEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(keyring);
    live.add(keyring);
    const keyringOutput = collect(keyring);
    keyring.once('error', () => undefined);
    // The new login keyring's password goes through stdin, never argv.
    keyring.stdin?.end(randomBytes(18).toString('base64'));

    const answersDefaultCollection = async () => {
      if (keyring.exitCode !== null) throw new Error(`gnome-keyring-daemon exited early: ${keyringOutput()}`);
      const reply = await run(
        'dbus-send',
        [
          '--session',
          '--print-reply',
          '--reply-timeout=2000',
          '--dest=org.freedesktop.secrets',
          '/org/freedesktop/secrets',
          'org.freedesktop.Secret.Service.ReadAlias',
          'string:default',
        ],
        childEnv,
        3_000,
      );
      return reply.ok && /object path "\/org\/freedesktop\/secrets\/collection\/[^"]+"/.test(reply.stdout);
    };
    await waitFor('The private Secret Service (gnome-keyring-daemon)', deadline, answersDefaultCollection, () =>
      [`dbus-daemon: ${busOutput()}`, `gnome-keyring-daemon: ${keyringOutput()}`].join('\n'),
    );
    return { env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
