/**
 * SandboxEdge: the local stand-in for ngrok's cloud. It wires together the sandbox CA,
 * the agent ingress (what `@ngrok/ngrok` connects to), the public HTTP/HTTPS ingress,
 * the endpoint table and the event log. Loopback only by default.
 */
import { AgentIngress } from './agent/agent-ingress.js';
import type { AgentSessionInfo } from './agent/agent-session.js';
import type { CredentialRegistry } from './credentials.js';
import { EndpointRegistry } from './endpoints.js';
import { EventLog } from './event-log.js';
import { PublicIngress, type BeforeForwardHook, type HostHandler } from './public-ingress.js';
import { CertificateAuthority } from './tls/certificate-authority.js';
import type { TrafficPolicyDocument } from './traffic-policy-document.js';

export interface SandboxEdgeOptions {
  /** Where the CA (ca.pem, ca-key.pem) lives; created if missing. */
  stateDir: string;
  /** Sandbox domain, e.g. "devtunnel.localhost"; endpoints are bound under *.<domain>. */
  domain: string;
  /** Address for the agent ingress (and default for the public ingress). Default 127.0.0.1. */
  host?: string;
  /** Addresses for the public ingress; default [host]. */
  publicHosts?: string[];
  /** 0 or absent: a free port. */
  agentPort?: number;
  httpPort?: number;
  httpsPort?: number;
  credentials: CredentialRegistry;
  beforeForward?: BeforeForwardHook;
  /** How long a public request waits for a reconnecting agent before a 502 (default 3000 ms). */
  reattachWaitMs?: number;
  /** Stop the live sessions of a credential when it is deleted from the registry. Default true. */
  stopSessionsOnCredentialDelete?: boolean;
}

export interface EndpointInfo {
  id: string;
  host: string;
  url: string;
  proto: 'http' | 'https';
  /** Agent session id, or null while the agent reconnects. */
  sessionId: string | null;
  credentialId: string;
  metadata: string;
  policy: TrafficPolicyDocument | null;
}

export class SandboxEdge {
  private unsubscribeDelete: (() => void) | null = null;
  private closed = false;

  private constructor(
    readonly domain: string,
    readonly ca: CertificateAuthority,
    readonly events: EventLog,
    private readonly endpointRegistry: EndpointRegistry,
    private readonly agent: AgentIngress,
    private readonly publicIngress: PublicIngress,
  ) {}

  static async start(opts: SandboxEdgeOptions): Promise<SandboxEdge> {
    const host = opts.host ?? '127.0.0.1';
    const domain = opts.domain.toLowerCase().replace(/\.$/, '');
    const ca = await CertificateAuthority.loadOrCreate(opts.stateDir);
    const events = new EventLog();
    const endpoints = new EndpointRegistry();
    const agentLeaf = await ca.issueLeaf(['localhost', domain, `*.${domain}`, '127.0.0.1', '::1', ...(host.match(/^[\d.]+$|:/) ? [host] : [])].filter((v, i, a) => a.indexOf(v) === i));
    const publicIngress = await PublicIngress.listen({
      hosts: opts.publicHosts ?? [host],
      httpPort: opts.httpPort ?? 0,
      httpsPort: opts.httpsPort ?? 0,
      domain,
      endpoints,
      events,
      ca,
      beforeForward: opts.beforeForward,
      reattachWaitMs: opts.reattachWaitMs,
    });
    let agent: AgentIngress;
    try {
      agent = await AgentIngress.listen({
        host,
        port: opts.agentPort ?? 0,
        domain,
        cert: agentLeaf.chainPem,
        key: agentLeaf.keyPem,
        credentials: opts.credentials,
        endpoints,
        events,
        publicUrl: (proto, h) => (proto === 'http' ? `http://${h}:${publicIngress.httpPort}` : `https://${h}:${publicIngress.httpsPort}`),
      });
    } catch (err) {
      await publicIngress.close();
      throw err;
    }
    const edge = new SandboxEdge(domain, ca, events, endpoints, agent, publicIngress);
    if (opts.stopSessionsOnCredentialDelete !== false) {
      edge.unsubscribeDelete = opts.credentials.onDelete((c) => void edge.stopSessionsOf(c.id));
    }
    return edge;
  }

  /** The SDK's `server_addr`, e.g. "127.0.0.1:41234". */
  get agentAddr(): string {
    return this.agent.address;
  }
  /** Path of the CA certificate (the SDK's `root_cas`; trust it for the HTTPS ingress). */
  get caPath(): string {
    return this.ca.caPath;
  }
  get httpPort(): number {
    return this.publicIngress.httpPort;
  }
  get httpsPort(): number {
    return this.publicIngress.httpsPort;
  }
  get httpUrl(): string {
    return `http://${this.domain}:${this.httpPort}`;
  }
  get httpsUrl(): string {
    return `https://${this.domain}:${this.httpsPort}`;
  }

  /** Replace the hook consulted before each public request is forwarded (Traffic Policy). */
  setBeforeForward(hook: BeforeForwardHook): void {
    this.publicIngress.beforeForward = hook;
  }

  /** Serve a non-endpoint host on the public ingress (the stub identity provider on idp.<domain>). */
  serveHost(host: string, handler: HostHandler): void {
    this.publicIngress.serveHost(host, handler);
  }

  endpoints(): EndpointInfo[] {
    return this.endpointRegistry.list().map((e) => ({
      id: e.id,
      host: e.host,
      url: e.url,
      proto: e.proto,
      sessionId: e.session && !e.session.isClosed ? e.session.id : null,
      credentialId: e.credentialId,
      metadata: e.metadata,
      policy: e.policy,
    }));
  }

  sessions(): AgentSessionInfo[] {
    return this.agent.liveSessions().map((s) => s.info());
  }

  /** Send Stop to every live session of the credential, then close them; returns how many. */
  stopSessionsOf(credentialId: string): Promise<number> {
    return this.agent.stopSessionsOf(credentialId);
  }

  /** Send Stop to one live session and end it (REST API `tunnel_sessions/{id}/stop`); false if unknown. */
  stopSession(sessionId: string): Promise<boolean> {
    return this.agent.stopSession(sessionId);
  }

  /** GOAWAY to every session: agents reconnect and rebind (useful in tests). */
  goAwayAll(): void {
    this.agent.goAwayAll();
  }

  /** Close every session and listener. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeDelete?.();
    await Promise.all([this.agent.close(), this.publicIngress.close()]);
  }
}
