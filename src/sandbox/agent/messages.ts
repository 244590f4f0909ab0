/**
 * Agent protocol stream types, message shapes (only the keys the edge reads) and the
 * ERR_NGROK_ codes the sandbox answers with. See docs/agent-protocol.md §3, §6.
 */

export const StreamType = {
  Auth: 0,
  Bind: 1,
  Unbind: 2,
  Proxy: 3,
  Restart: 4,
  Stop: 5,
  Update: 6,
  BindLabeled: 7,
  StopTunnel: 9,
  Heartbeat: 0xffffffff,
} as const;

/** Error codes the sandbox edge uses; the SDK exposes them as `err.errorCode`. */
export const EdgeErrorCode = {
  /** Auth: unknown/revoked authtoken (ngrok's own code for an invalid token). */
  invalidAuthtoken: 'ERR_NGROK_107',
  /** Auth: this agent identity (ClientId) was stopped by the edge and may not resume. */
  sessionStopped: 'ERR_NGROK_9041',
  /** Bind: the credential's ACL does not allow this host. */
  aclDenied: 'ERR_NGROK_319',
  /** Bind: host outside the sandbox domain, or missing. */
  domainNotAllowed: 'ERR_NGROK_320',
  /** Bind: another live listener already serves this host. */
  hostInUse: 'ERR_NGROK_334',
  /** Bind: proto the sandbox does not serve (tcp, tls, labeled). */
  unsupportedProto: 'ERR_NGROK_9034',
  /** Bind: malformed Traffic Policy. */
  invalidTrafficPolicy: 'ERR_NGROK_9026',
  /** Any RPC: the request JSON could not be read. */
  badRequest: 'ERR_NGROK_9000',
} as const;
export type EdgeErrorCodeValue = (typeof EdgeErrorCode)[keyof typeof EdgeErrorCode];

export interface AuthRequest {
  Version?: string[];
  ClientId?: string;
  Extra?: {
    AuthToken?: string;
    Metadata?: string;
    Cookie?: string;
    HeartbeatInterval?: number;
    HeartbeatTolerance?: number;
    ClientType?: string;
    Version?: string;
  };
}

export interface BindRequest {
  Id?: string;
  Proto?: string;
  ForwardsTo?: string;
  ForwardsProto?: string;
  Opts?: Record<string, unknown> & { Domain?: string; TrafficPolicy?: string | null };
  Extra?: { Token?: string; Metadata?: string };
}

export interface UnbindRequest {
  Id?: string;
}

export interface ProxyHeader {
  Id: string;
  ClientAddr: string;
  Proto: string;
  /** A string: a JSON number makes the agent drop the stream (P11). "3" = HTTPS edge. */
  EdgeType: string;
  PassthroughTLS: boolean;
}

/** `{"Error": "<text>\r\n\r\nERR_NGROK_<digits>"}`: the SDK splits the code off into err.errorCode. */
export function errorReply(message: string, code: string): { Error: string } {
  return { Error: `${message}\r\n\r\n${code}` };
}

/** Proxy stream header: i64 little-endian length + JSON (§7.1). */
export function encodeProxyHeader(header: ProxyHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigInt64LE(BigInt(json.length), 0);
  return Buffer.concat([len, json]);
}
