// Tests never reach the internet: any TCP connection to a non-loopback address fails loudly.
// (The native ngrok agent dials from Rust and is not covered here; its server_addr always points
// at the loopback sandbox in tests.)
import net from 'node:net';

const isLoopback = (host: string | undefined) =>
  host === undefined || host === 'localhost' || host === '::1' || host.startsWith('127.') || host.endsWith('.localhost');

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function patchedConnect(this: net.Socket, ...args: unknown[]) {
  const first = args[0] as { host?: string; path?: string } | number | string;
  let host: string | undefined;
  if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
    host = first.path ? undefined : first.host;
  } else if (typeof first === 'number') {
    host = typeof args[1] === 'string' ? (args[1] as string) : undefined;
  }
  if (!isLoopback(host)) {
    throw new Error(`test tried to connect to non-loopback host ${String(host)}: tests must stay offline`);
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
