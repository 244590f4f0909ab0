#!/usr/bin/env node
// `npm run bench`: devtunnel against its baselines, measured side by side in one run and
// printed as ratios (machines here are shared and noisy, so absolute times mean little).
//   1. start-up: `devtunnel --version` and `devtunnel whoami` vs `node -e 0`
//   2. time to URL: `devtunnel share` vs a bare @ngrok/ngrok forward() script, same sandbox, same options
//   3. requests/s and p50/p99 latency: through the share tunnel vs the bare tunnel vs the app directly
//   4. peak memory (VmHWM) of `devtunnel share` vs the bare script, after the load
// Targets (from the brief): --version ≤ 2x node; time to URL ≤ 1.1x; req/s ≥ 0.95x; memory ≤ 1.3x.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'run.js');
const bare = path.join(root, 'scripts', 'bench', 'bare-forward.js');
const runs = Number(process.env.BENCH_RUNS ?? 11);
const loadSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? 5);
const work = mkdtempSync(path.join(tmpdir(), 'devtunnel-bench-'));
const env = {
  ...process.env,
  DEVTUNNEL_CONFIG_DIR: path.join(work, 'config'),
  DEVTUNNEL_KEYCHAIN_SERVICE: `devtunnel-bench-${process.pid}`,
  NO_COLOR: '1',
};
const children = new Set();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(1)} ms`;

function timeCommand(args, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve(ms);
    });
  });
}

/** Spawns a long-running process; resolves when its stdout prints a JSON line matching `want`. */
function startUntil(args, extraEnv, want) {
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let partial = '';
  let err = '';
  let found = false;
  child.stderr.on('data', (d) => {
    if (err.length < 10_000) err += d;
  });
  const exited = new Promise((resolve) => child.on('close', resolve));
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      // After the awaited line, output (e.g. the sandbox's per-request events) is drained unread,
      // so the bench process spends no CPU on it while it measures.
      if (found) return;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const event = JSON.parse(line);
          if (want(event)) {
            found = true;
            return resolve({ event, ms: Number(process.hrtime.bigint() - start) / 1e6 });
          }
        } catch {
          // not JSON
        }
      }
    });
    child.on('close', (code) => reject(new Error(`${args.slice(1).join(' ')} exited ${code}: ${err}`)));
  });
  return { child, ready, exited };
}

async function stop(proc) {
  proc.child.kill('SIGINT');
  await proc.exited;
  children.delete(proc.child);
}

function peakMemoryKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

function load(url, headers, seconds = loadSeconds) {
  return new Promise((resolve, reject) => {
    const args = [path.join(root, 'node_modules', 'autocannon', 'autocannon.js'), '-j', '-c', '16', '-d', String(seconds)];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
    args.push(url);
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}`));
      const r = JSON.parse(out);
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
    });
  });
}

async function main() {
  const results = [];
  console.log(`devtunnel bench — ${runs} runs per start-up measure, ${loadSeconds}s of load per tunnel\n`);

  // The sandbox edge, a local app, and a logged-in developer.
  const sandbox = startUntil([bin, 'sandbox', '--json', '--state', path.join(work, 'sandbox')], {}, (e) => e.event === 'sandbox_ready');
  const info = (await sandbox.ready).event;
  const app = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello from the app\n');
    });
  });
  await new Promise((r) => app.listen(0, '127.0.0.1', r));
  const appPort = app.address().port;
  const loginExit = await new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'login', '--stdin'], { env, stdio: ['pipe', 'ignore', 'inherit'] });
    child.on('close', resolve);
    child.stdin.end(info.invite);
  });
  if (loginExit !== 0) throw new Error('login failed');

  // 1. Start-up.
  const node0 = [];
  const version = [];
  const whoami = [];
  for (let i = 0; i < runs; i++) {
    node0.push(await timeCommand(['-e', '0']));
    version.push(await timeCommand([bin, '--version']));
    whoami.push(await timeCommand([bin, 'whoami']));
  }
  const base = median(node0);
  results.push(['devtunnel --version', median(version) / base, 2.0, `${fmt(median(version))} vs node -e 0 ${fmt(base)}`]);
  results.push(['devtunnel whoami', median(whoami) / base, undefined, `${fmt(median(whoami))} vs node -e 0 ${fmt(base)}`]);

  // 2. Time to URL, alternating share and the bare script against the same sandbox.
  const { decodeInvite } = await import(path.join(root, 'dist', 'team', 'invite.js'));
  const { compileProfile, serializePolicy } = await import(path.join(root, 'dist', 'profiles', 'compile.js'));
  const invite = decodeInvite(info.invite, { now: new Date() });
  const policy = serializePolicy(
    compileProfile(invite.policy.profiles.sso, {
      user: { email: invite.email, label: invite.userLabel },
      team: invite.policy.team,
      secrets: invite.secrets,
    }),
  );
  const bareEnv = (name) => ({
    BENCH_ADDR: `localhost:${appPort}`,
    BENCH_AUTHTOKEN: invite.authtoken,
    BENCH_SERVER_ADDR: invite.policy.ingress.server_addr,
    BENCH_CA_PEM: invite.policy.ingress.root_cas,
    BENCH_DOMAIN: `${name}.${invite.userLabel}.${invite.policy.domain}`,
    BENCH_TRAFFIC_POLICY: policy,
    BENCH_SESSION_METADATA: JSON.stringify({ user: invite.email, team: invite.policy.team.id, profile: 'sso' }),
  });
  const shareTimes = [];
  const bareTimes = [];
  for (let i = 0; i < Math.max(5, Math.ceil(runs / 2)); i++) {
    const s = startUntil([bin, 'share', String(appPort), '--profile', 'sso', '--name', 'share', '--json'], {}, (e) => e.event === 'ready');
    shareTimes.push((await s.ready).ms);
    await stop(s);
    const b = startUntil([bare], bareEnv('bare'), (e) => e.event === 'ready');
    bareTimes.push((await b.ready).ms);
    await stop(b);
  }
  results.push(['share time to URL', median(shareTimes) / median(bareTimes), 1.1, `${fmt(median(shareTimes))} vs bare forward() ${fmt(median(bareTimes))}`]);

  // 3 + 4. Throughput and memory, one tunnel of each kind up at a time.
  const ingress = `http://127.0.0.1:${new URL(info.http_url).port}/`;
  const idp = await import(path.join(root, 'dist', 'sandbox', 'idp', 'index.js')).catch(() => undefined);
  const headersFor = async (name) => {
    const host = `${name}.${invite.userLabel}.${invite.policy.domain}`;
    const headers = { host };
    if (idp?.signInWithStubIdp) {
      const { cookie } = await idp.signInWithStubIdp({ url: `http://${host}:${new URL(info.http_url).port}`, email: invite.email, caPath: info.ca_path });
      headers.cookie = cookie;
    }
    return headers;
  };
  // Both tunnels stay up; loads alternate bare, share, share, bare (after a short warm-up of
  // each), so neither side always runs first on a colder sandbox.
  const shareProc = startUntil([bin, 'share', String(appPort), '--profile', 'sso', '--name', 'share', '--json'], {}, (e) => e.event === 'ready');
  const bareProc = startUntil([bare], bareEnv('bare'), (e) => e.event === 'ready');
  await Promise.all([shareProc.ready, bareProc.ready]);
  const targets = { share: await headersFor('share'), bare: await headersFor('bare') };
  const warm = Math.max(1, Math.floor(loadSeconds / 3));
  await load(ingress, targets.bare, warm);
  await load(ingress, targets.share, warm);
  const runsOf = { share: [], bare: [] };
  for (const kind of ['bare', 'share', 'share', 'bare']) runsOf[kind].push(await load(ingress, targets[kind]));
  const direct = await load(`http://127.0.0.1:${appPort}/`, {});
  const mean = (rs) => ({
    rps: rs.reduce((a, r) => a + r.rps, 0) / rs.length,
    p50: rs.reduce((a, r) => a + r.p50, 0) / rs.length,
    p99: rs.reduce((a, r) => a + r.p99, 0) / rs.length,
    non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
    errors: rs.reduce((a, r) => a + r.errors, 0),
  });
  const viaShare = mean(runsOf.share);
  const viaBare = mean(runsOf.bare);
  const shareMem = peakMemoryKb(shareProc.child.pid);
  const bareMem = peakMemoryKb(bareProc.child.pid);
  await stop(shareProc);
  await stop(bareProc);
  for (const [name, r] of [['direct', direct], ['share', viaShare], ['bare', viaBare]]) {
    if (r.non2xx > 0 || r.errors > 0) console.log(`  note: ${name} run had ${r.non2xx} non-2xx responses and ${r.errors} errors`);
  }
  const each = (rs) => rs.map((r) => r.rps.toFixed(0)).join('/');
  results.push([
    'share requests/s',
    viaShare.rps / viaBare.rps,
    0.95,
    `${viaShare.rps.toFixed(0)} (${each(runsOf.share)}) vs bare ${viaBare.rps.toFixed(0)} (${each(runsOf.bare)}) vs direct ${direct.rps.toFixed(0)} req/s`,
  ]);
  results.push(['share p50 latency', viaShare.p50 / viaBare.p50, undefined, `${viaShare.p50.toFixed(1)} ms vs bare ${viaBare.p50.toFixed(1)} ms vs direct ${direct.p50} ms`]);
  results.push(['share p99 latency', viaShare.p99 / viaBare.p99, undefined, `${viaShare.p99.toFixed(1)} ms vs bare ${viaBare.p99.toFixed(1)} ms vs direct ${direct.p99} ms`]);
  results.push(['share peak memory', shareMem / bareMem, 1.3, `${(shareMem / 1024).toFixed(1)} MiB vs bare ${(bareMem / 1024).toFixed(1)} MiB`]);

  console.log('measure               ratio   target  detail');
  for (const [name, ratio, target, detail] of results) {
    const verdict = target === undefined ? '       ' : (name.includes('requests/s') ? ratio >= target : ratio <= target) ? `${name.includes('requests/s') ? '≥' : '≤'}${target}  ✓` : `${name.includes('requests/s') ? '≥' : '≤'}${target}  ✗`;
    console.log(`${name.padEnd(21)} ${ratio.toFixed(2).padStart(5)}x  ${verdict.padEnd(7)} ${detail}`);
  }

  await new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, 'logout'], { env, stdio: 'ignore' });
    child.on('close', resolve);
  });
  await stop(sandbox);
  app.close();
}

main()
  .catch((error) => {
    console.error(`bench failed: ${error.message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
    process.exit(process.exitCode ?? 0);
  });
