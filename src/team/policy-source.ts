/**
 * Where `devtunnel sync` reads a signed policy from (`--from`, or the policy's `policy_url`): a file
 * path, a `file:` URL or an http(s) URL. Checks the source before the sync starts, and turns a
 * source that cannot be read or reached into a usage error (exit 2) that says why and what to try:
 * a wrong path or an unreachable URL is bad input, not a bug.
 */
import { fileURLToPath } from 'node:url';
import { usageError } from '../errors.js';

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/**
 * The source to read, as given by `--from`: a file path or an http(s) URL (a `file:` URL becomes
 * its path). Any other scheme (`ftp://…`) is refused rather than taken for a file name.
 */
export function policySourceFromFlag(from: string): string {
  const scheme = SCHEME.exec(from)?.[1]?.toLowerCase();
  // `C:\policy.json` is a Windows path, not a URL with scheme "c".
  if (scheme === undefined || (scheme.length === 1 && !from.startsWith(`${scheme}://`))) return from;
  if (scheme === 'http' || scheme === 'https') {
    try {
      new URL(from);
    } catch {
      throw usageError('policy_source_invalid', `--from: "${from}" is not a valid URL.`, ['Example: --from https://intranet.acme.com/devtunnel/policy.signed.json']);
    }
    return from;
  }
  if (scheme === 'file') {
    try {
      return fileURLToPath(from);
    } catch {
      throw usageError('policy_source_invalid', `--from: "${from}" is not a valid file: URL.`, ['Pass the path itself: --from ./policy.signed.json']);
    }
  }
  throw usageError('policy_source_unsupported', `--from: ${scheme}: URLs are not supported (${from}).`, [
    'Pass a file path (--from ./policy.signed.json) or an https:// URL (plain http:// only on loopback).',
  ]);
}
