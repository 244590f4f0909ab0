/**
 * CIDR matching for `restrict-ips` and the `inCidrRange(s)` CEL functions, on node:net's
 * BlockList (IPv4, IPv6, and IPv4-mapped IPv6 addresses such as `::ffff:10.0.0.1`).
 */
import { BlockList, isIP, isIPv4 } from 'node:net';

export interface ParsedCidr {
  /** As written (trimmed), for `matched_cidr`. */
  text: string;
  family: 'ipv4' | 'ipv6';
  /** True for IPv6 rules inside ::ffff:0:0/96, which also describe IPv4 clients. */
  mapped: boolean;
  list: BlockList;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (= /32 or /128). Undefined when invalid. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addr = slash >= 0 ? trimmed.slice(0, slash) : trimmed;
  const version = isIP(addr);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  list.addSubnet(addr, prefix, family);
  const mapped = family === 'ipv6' && prefix >= 96 && /^::ffff:/i.test(addr);
  return { text: trimmed, family, mapped, list };
}

/**
 * The client address as policies see it: IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is shown as
 * plain IPv4, and zone ids are dropped.
 */
export function normalizeClientIp(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  return mapped ? mapped[1]! : bare;
}

/** True when `ip` (IPv4, IPv6 or IPv4-mapped) lies in `cidr`. */
export function inCidr(ip: string, cidr: ParsedCidr): boolean {
  const addr = normalizeClientIp(ip);
  const version = isIP(addr);
  if (version === 0) return false;
  // Families are kept apart (`::/0` does not admit IPv4 clients), except that IPv6 rules written
  // in the mapped form (::ffff:a.b.c.d/…) also describe IPv4 clients.
  if (isIPv4(addr)) {
    if (cidr.family === 'ipv4') return cidr.list.check(addr, 'ipv4');
    return cidr.mapped && cidr.list.check(`::ffff:${addr}`, 'ipv6');
  }
  return cidr.family === 'ipv6' && !cidr.mapped && cidr.list.check(addr, 'ipv6');
}

/** The first CIDR of `cidrs` containing `ip`, or undefined. */
export function firstMatch(ip: string, cidrs: readonly ParsedCidr[]): ParsedCidr | undefined {
  return cidrs.find((c) => inCidr(ip, c));
}
