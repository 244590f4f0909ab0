/**
 * The sandbox state directory (its CA, its API key file), created one level at a time.
 *
 * Node's `mkdir(…, { recursive: true })` loops forever, synchronously, where a directory cannot be
 * made although its parent exists (`/proc/nope`: mkdir says ENOENT, the parent exists, so it tries
 * again), and it reports a file in the path only as a bare ENOTDIR. Walking the path ourselves
 * fails at once and names the level that is wrong.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';

/** Make `dir` (and missing parents, mode 0700) and check it is a writable directory. Returns its absolute path. */
export function prepareStateDir(dir: string): string {
  const target = path.resolve(dir);
  const { root } = path.parse(target);
  const levels = target.slice(root.length).split(path.sep).filter(Boolean);
  let current = root;
  for (const level of levels) {
    const parent = current;
    current = path.join(current, level);
    let isDirectory: boolean | undefined;
    try {
      isDirectory = statSync(current).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      if (code !== 'ENOENT') throw unusable(dir, `${current}: ${reason(code)}`);
    }
    if (isDirectory === false) throw unusable(dir, `${current} is a file, not a directory`);
    if (isDirectory === true) continue;
    try {
      mkdirSync(current, { mode: 0o700 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      if (code === 'EEXIST' && statSync(current).isDirectory()) continue;
      // ENOENT although the parent exists: a file system that takes no new directories (/proc, /sys).
      const why = code === 'ENOENT' ? `${parent} does not take new directories` : reason(code);
      throw unusable(dir, `cannot create ${current}: ${why}`);
    }
  }
  try {
    accessSync(target, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw unusable(dir, `${target}: ${reason((error as NodeJS.ErrnoException).code ?? 'error')}`);
  }
  return target;
}

function reason(code: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return code;
  }
}

function unusable(dir: string, why: string) {
  return usageError('sandbox_state_unusable', `Cannot use ${dir} as the sandbox state directory: ${why}.`, [
    'Pass --state (or DEVTUNNEL_SANDBOX_STATE) with a directory you can write, e.g. --state ./sandbox-state.',
  ]);
}
