/**
 * The request target as the policy sees it and the upstream receives it. Dot segments are
 * resolved and `//` collapsed, and percent-encoded unreserved characters (including `%2e`)
 * are decoded first, so `/ngrok/../secret`, `//ngrok/…` and `/%2e%2e/` mean what an app
 * would take them to mean; the normalised path is what gets forwarded, so a policy decision
 * and the app always see the same path. Encoded slashes/backslashes and NULs are refused:
 * an app that decodes them after the edge decided would see a different path.
 */

export type RequestTarget =
  | { ok: true; path: string; rawPath: string; query: string; queryParams: Record<string, string[]>; forwardTarget: string }
  | { ok: false; reason: string };

const UNRESERVED = /%(2[dDeE]|5[fF]|7[eE]|[46][1-9a-fA-F]|[57][0-9aA]|3[0-9])/g;

export function parseRequestTarget(url: string | undefined): RequestTarget {
  const target = url ?? '/';
  if (!target.startsWith('/')) return { ok: false, reason: 'the request target must be a path (origin form)' };
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const query = q >= 0 ? target.slice(q + 1) : '';
  if (/%(2f|5c|00)/i.test(rawPath) || rawPath.includes('\\')) {
    return { ok: false, reason: 'encoded slashes, backslashes and NUL bytes are not allowed in the path' };
  }
  if (/%(?![0-9a-fA-F]{2})/.test(rawPath)) return { ok: false, reason: 'the path has a malformed percent-encoding' };
  const decoded = rawPath.replace(UNRESERVED, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
  const segments: string[] = [];
  const parts = decoded.split('/');
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i]!;
    const last = i === parts.length - 1;
    if (seg === '.' || seg === '') {
      if (last) segments.push('');
      continue;
    }
    if (seg === '..') {
      segments.pop();
      if (last) segments.push('');
      continue;
    }
    segments.push(seg);
  }
  const path = `/${segments.join('/')}`;
  return { ok: true, path, rawPath, query, queryParams: parseQuery(query), forwardTarget: query || q >= 0 ? `${path}?${query}` : path };
}

/** True for paths the edge itself serves (`/ngrok` and everything under it). */
export function isEdgePath(path: string): boolean {
  return path === '/ngrok' || path.startsWith('/ngrok/');
}

function parseQuery(query: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!query) return out;
  for (const [k, v] of new URLSearchParams(query)) (out[k] ??= []).push(v);
  return out;
}
