#!/usr/bin/env node
// Entry point. `--version` is answered here without loading oclif (it is what scripts call
// most, and oclif alone doubles Node's start time); everything else goes through oclif,
// which loads the shipped manifest and only the one command module that runs.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v' || args[0] === 'version')) {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`devtunnel/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
  // Native handles (the ngrok session, keychain D-Bus connections) may keep the event loop
  // alive after a command is done; its work and output are complete here.
  process.exit(process.exitCode ?? 0);
}
