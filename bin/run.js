#!/usr/bin/env node
// Entry point. `--version` is answered here without loading oclif (it is what scripts call
// most, and oclif alone doubles Node's start time); everything else goes through oclif,
// which loads the shipped manifest and only the one command module that runs.
// `share` and `webhook` first start a warm-up (dist/tunnel/warmup.js): the agent session
// connects in the SDK's native threads while this thread loads oclif (docs/decisions.md).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const packageJson = () => JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

if (args.length === 1 && (args[0] === '--version' || args[0] === '-v' || args[0] === 'version')) {
  process.stdout.write(`devtunnel/${packageJson().version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const prewarmed = args[0] === 'share' || args[0] === 'webhook' ? await warmUp() : undefined;
  const { execute } = loadOclif();
  await execute({ dir: import.meta.url });
  // A session the warm-up connected and no tunnel took (e.g. the command failed first).
  await prewarmed?.release();
  // Native handles (the ngrok session, keychain D-Bus connections) may keep the event loop
  // alive after a command is done; its work and output are complete here.
  process.exit(process.exitCode ?? 0);
}

/** Starts the warm-up and hands it to the command; resolves when oclif may load. Silent on any failure. */
async function warmUp() {
  try {
    const { shouldWarmUp, startTunnelWarmup } = await import('../dist/tunnel/warmup.js');
    if (!shouldWarmUp(args)) return undefined;
    const { handOverPrewarmed } = await import('../dist/cli/prewarmed.js');
    const { prewarmed, begun } = startTunnelWarmup({ env: process.env, version: packageJson().version });
    handOverPrewarmed(prewarmed);
    await begun;
    return prewarmed;
  } catch {
    return undefined;
  }
}

/**
 * oclif, through require(): it is CommonJS, and import() would run Node's CJS export lexer first.
 * Its Node version check loads all of semver (~15 ms) to test oclif's own `node >=18`; devtunnel
 * checks its own, stricter engine here instead, without semver.
 */
function loadOclif() {
  const wanted = /^>=\s*(\d+)\.(\d+)/.exec(packageJson().engines?.node ?? '');
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (wanted && (major < Number(wanted[1]) || (major === Number(wanted[1]) && minor < Number(wanted[2])))) {
    process.emitWarning(`devtunnel needs Node.js >= ${wanted[1]}.${wanted[2]}; this is ${process.version}.`);
  }
  const unset = process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined;
  if (unset) process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
  try {
    return createRequire(import.meta.url)('@oclif/core');
  } finally {
    if (unset) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
  }
}
