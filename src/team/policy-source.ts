/**
 * Where `devtunnel sync` reads a signed policy from (`--from`, or the policy's `policy_url`): a file
 * path, a `file:` URL or an http(s) URL. Checks the source before the sync starts, and turns a
 * source that cannot be read or reached into a usage error (exit 2) that says why and what to try:
 * a wrong path or an unreachable URL is bad input, not a bug.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExitCode, UserError, usageError } from '../errors.js';

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/**
 * The Fetch standard's "bad ports": fetch() refuses them before connecting and only says "fetch
 * failed". Used to explain such a failure, never to refuse a URL up front (Node may differ).
 */
const FETCH_BAD_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119,
  123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
  993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

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

/**
 * A clearer error for a sync whose source could not be read or fetched (exit 2, with what to
 * try); any other error is returned as it is. `from` is the `--from` source, if one was given.
 */
export function explainPolicySourceError(error: unknown, from: string | undefined): unknown {
  if (!(error instanceof UserError)) return error;
  if (error.code === 'policy_fetch_failed') {
    const port = portOf(from ?? /^Cannot fetch the team policy from (\S+): /.exec(error.message)?.[1]);
    const blockedPort = /: (fetch failed|bad port)\.$/.test(error.message) && port !== undefined && FETCH_BAD_PORTS.has(port);
    const message = blockedPort
      ? error.message.replace(/: (fetch failed|bad port)\.$/, `: port ${port} is one that fetch refuses to connect to ("bad port").`)
      : error.message;
    return new UserError(message, {
      exitCode: ExitCode.usage,
      code: error.code,
      suggestions: [
        ...(blockedPort ? ['Serve the policy on another port: fetch blocks well-known service ports such as 1, 9, 25 and 6000.'] : []),
        from === undefined
          ? "Check the network (VPN?); if the policy moved, ask your team admin, or pass the signed file with --from."
          : 'Check the URL and the network (VPN?), or pass the signed policy file your admin sent: --from ./policy.signed.json.',
      ],
      cause: error,
    });
  }
  if (error.code === 'policy_file_unreadable' && from !== undefined) {
    return new UserError(`Cannot read the signed policy ${from}: ${whyUnreadable(from)}.`, {
      exitCode: ExitCode.usage,
      code: error.code,
      suggestions: ['Check the path: pass the policy.signed.json file your team admin sent, or an https:// URL to it.'],
      cause: error,
    });
  }
  return error;
}

/** The port of an http(s) URL (the scheme's default when none is given); undefined for anything else. */
function portOf(url: string | undefined): number | undefined {
  if (url === undefined || !/^https?:/i.test(url)) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
  } catch {
    return undefined;
  }
}

function whyUnreadable(file: string): string {
  try {
    if (statSync(file).isDirectory()) return 'it is a directory';
    return 'permission denied';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'ENOTDIR') return 'a part of the path is not a directory';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    return code ?? 'unreadable';
  }
}
