#!/usr/bin/env node
// `npm run demo`: the main job end to end on this machine, offline.
// Starts the sandbox edge and a small local app, logs in with the sandbox's invite,
// shares the app with `--profile sso`, requests it through the tunnel (signing in at the
// sandbox's identity provider like a colleague would), then stops everything.
// It uses its own config dir and keychain service name and logs out at the end, so
// nothing is left in your real keychain or config.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'run.js');
const work = mkdtempSync(path.join(tmpdir(), 'devtunnel-demo-'));
const env = {
  ...process.env,
  DEVTUNNEL_CONFIG_DIR: path.join(work, 'config'),
  DEVTUNNEL_KEYCHAIN_SERVICE: `devtunnel-demo-${process.pid}`,
  NO_COLOR: '1',
};
const children = new Set();
const step = (text) => console.log(`\n▶ ${text}`);
const show = (text) => console.log(text.replace(/^/gm, '    '));

function devtunnel(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Starts a long-running devtunnel command and resolves with its first JSON line matching `want`. */
function devtunnelLong(args, want) {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let buffer = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const first = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      buffer += d;
      for (const line of buffer.split('\n').slice(0, -1)) {
        try {
          const event = JSON.parse(line);
          if (want(event)) return resolve(event);
        } catch {
          // not JSON: ignore
        }
      }
    });
    child.on('close', (code) => reject(new Error(`devtunnel ${args[0]} exited with ${code}:\n${stderr}`)));
  });
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  return { child, first, exited, stderr: () => stderr };
}

/** A GET to the public ingress; `*.localhost` is loopback, and HTTPS is checked against the sandbox CA. */
function request(url, opts = {}) {
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: opts.path ?? '/',
        method: 'GET',
        headers: { host: target.host, ...opts.headers },
        servername: target.hostname,
        ca: opts.caPath ? readFileSync(opts.caPath) : undefined,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function main() {
  step('Starting a local app on a random port');
  let appRequests = 0;
  const app = http.createServer((req, res) => {
    appRequests++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`Hello from localhost! You are ${req.headers['x-devtunnel-user'] ?? 'anonymous'} (${req.method} ${req.url})\n`);
  });
  await new Promise((r) => app.listen(0, '127.0.0.1', r));
  const port = app.address().port;
  show(`http://127.0.0.1:${port}`);

  step('devtunnel sandbox --json   (the local edge: agent ingress, public ingress, demo team)');
  const sandbox = devtunnelLong(['sandbox', '--json', '--state', path.join(work, 'sandbox')], (e) => e.event === 'sandbox_ready');
  const info = await sandbox.first;
  show(`agent ingress ${info.agent_addr}\npublic ingress ${info.http_url}  ${info.https_url}\nteam ${info.team.name}, key ${info.team_fingerprint}`);

  step('devtunnel login --stdin   (invite code piped in, never on a command line)');
  const login = await devtunnel(['login', '--stdin'], info.invite);
  show((login.stdout + login.stderr).trim());
  if (login.code !== 0) throw new Error(`login failed with exit code ${login.code}`);

  step('devtunnel whoami');
  show((await devtunnel(['whoami'])).stdout.trim());

  step(`devtunnel share ${port} --profile sso`);
  const share = devtunnelLong(['share', String(port), '--profile', 'sso', '--json'], (e) => e.event === 'ready');
  const ready = await share.first;
  show(`${ready.url}  →  ${ready.local}`);

  const publicUrl = ready.url; // the https URL share printed; the sandbox CA makes it trusted here
  step(`Requesting ${publicUrl}/ through the tunnel without signing in`);
  const anonymous = await request(publicUrl, { caPath: info.ca_path });
  show(`HTTP ${anonymous.status}${anonymous.headers.location ? ` → ${anonymous.headers.location}` : ''}`);

  let cookie;
  const idp = await import(path.join(root, 'dist', 'sandbox', 'idp', 'index.js')).catch(() => undefined);
  if (idp?.signInWithStubIdp) {
    step('Signing in at the sandbox identity provider as dev@example.com');
    ({ cookie } = await idp.signInWithStubIdp({ url: publicUrl, email: 'dev@example.com', caPath: info.ca_path }));
    show('session cookie received');
  }
  step('Requesting it again as the signed-in visitor');
  const signedIn = await request(publicUrl, { path: '/hello', headers: cookie ? { cookie } : {}, caPath: info.ca_path });
  show(`HTTP ${signedIn.status}\n${signedIn.body.trim()}`);
  if (signedIn.status !== 200 || !signedIn.body.includes('Hello from localhost')) throw new Error('the request did not reach the local app');

  if (idp?.signInWithStubIdp) {
    step('Signing in as eve@evil.test, who is outside the profile (example.com accounts only)');
    const eve = await idp.signInWithStubIdp({ url: publicUrl, email: 'eve@evil.test', caPath: info.ca_path });
    const seenBefore = appRequests;
    const denied = await request(publicUrl, { path: '/hello', headers: { cookie: eve.cookie }, caPath: info.ca_path });
    if (denied.status !== 403 || appRequests !== seenBefore) throw new Error('a visitor outside the profile was not refused at the edge');
    show(`HTTP ${denied.status} — refused at the edge; the local app never saw the request`);
  }

  step('Ctrl-C on the share (SIGINT): the endpoint is closed at the edge');
  share.child.kill('SIGINT');
  show(`share exited with code ${await share.exited} (130 = interrupted, closed cleanly)`);

  step('devtunnel logout   (removes the demo keychain entries and config)');
  show((await devtunnel(['logout'])).stdout.trim());

  sandbox.child.kill('SIGINT');
  await sandbox.exited;
  app.close();
  console.log('\n✔ Demo complete: a local app was shared through the sandbox edge behind the sso profile.');
}

function cleanup() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}

main()
  .then(() => {
    cleanup();
    process.exit(0);
  })
  .catch(async (error) => {
    console.error(`\n✘ Demo failed: ${error.message}`);
    await devtunnel(['logout']).catch(() => undefined);
    cleanup();
    process.exit(1);
  });
