/**
 * Agent ingress: the TLS listener the ngrok agent dials (`server_addr`), and the
 * decisions behind Auth, Bind and Unbind (credential check, ACL, domain, host in use,
 * Traffic Policy shape). See docs/agent-protocol.md.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { aclAllows } from '../acl.js';
import type { CredentialRegistry } from '../credentials.js';
import type { Endpoint, EndpointRegistry } from '../endpoints.js';
import type { EventLog } from '../event-log.js';
import { parseTrafficPolicy, TrafficPolicyError, type TrafficPolicyDocument } from '../traffic-policy-document.js';
import { AgentSession } from './agent-session.js';
import { EdgeErrorCode, errorReply, type AuthRequest, type BindRequest, type UnbindRequest } from './messages.js';

export interface AgentIngressOptions {
  host: string;
  port: number;
  /** Sandbox domain; endpoints must be strictly under it. */
  domain: string;
  /** Leaf certificate (chain) and key for the agent TLS listener. */
  cert: string;
  key: string;
  credentials: CredentialRegistry;
  endpoints: EndpointRegistry;
  events: EventLog;
  /** Public URL for a bound host, e.g. https://app.dev.example.localhost:8443 */
  publicUrl(proto: 'http' | 'https', host: string): string;
}

const randomId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;
const ENDPOINT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class AgentIngress {
  private readonly server: tls.Server;
  private readonly sessions = new Set<AgentSession>();
  /** ClientId → Cookie, kept across connections so a reconnecting agent keeps its identity. */
  private readonly identities = new Map<string, string>();
  /** Agent identities ended with Stop: their reconnects are refused, so "stop" sticks. */
  private readonly stoppedClients = new Set<string>();

  private constructor(private readonly opts: AgentIngressOptions) {
    this.server = tls.createServer({ cert: opts.cert, key: opts.key, minVersion: 'TLSv1.2' }, (socket) => this.onConnection(socket));
    // A client that fails the handshake (e.g. not trusting the CA) is not our problem.
    this.server.on('tlsClientError', () => {});
  }

  static async listen(opts: AgentIngressOptions): Promise<AgentIngress> {
    const ingress = new AgentIngress(opts);
    await new Promise<void>((resolve, reject) => {
      ingress.server.once('error', reject);
      ingress.server.listen(opts.port, opts.host, () => {
        ingress.server.off('error', reject);
        resolve();
      });
    });
    return ingress;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** "127.0.0.1:PORT", the value for the SDK's server_addr. */
  get address(): string {
    return `${this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host}:${this.port}`;
  }

  liveSessions(): AgentSession[] {
    return [...this.sessions];
  }

  /** Send Stop to every session of the credential, then close them and drop their endpoints. */
  async stopSessionsOf(credentialId: string): Promise<number> {
    const targets = [...this.sessions].filter((s) => s.credentialId === credentialId);
    await Promise.all(
      targets.map(async (s) => {
        if (s.clientId) this.stoppedClients.add(s.clientId);
        await s.sendStop();
        for (const e of this.opts.endpoints.list()) if (e.session === s) this.opts.endpoints.remove(e.id);
        s.close('stopped by the sandbox edge');
      }),
    );
    // Endpoints of that credential whose agent is reconnecting go too.
    for (const e of this.opts.endpoints.list()) if (e.credentialId === credentialId) this.opts.endpoints.remove(e.id);
    return targets.length;
  }

  /** Send Stop to one live session (REST `tunnel_sessions/{id}/stop`), then end it like stopSessionsOf. */
  async stopSession(sessionId: string): Promise<boolean> {
    const s = [...this.sessions].find((x) => x.id === sessionId);
    if (!s) return false;
    if (s.clientId) this.stoppedClients.add(s.clientId);
    await s.sendStop();
    for (const e of this.opts.endpoints.list()) if (e.session === s) this.opts.endpoints.remove(e.id);
    s.close('stopped through the API');
    return true;
  }

  goAwayAll(): void {
    for (const s of this.sessions) s.goAway();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) s.close('sandbox edge shutting down');
    await closed;
  }

  private onConnection(socket: tls.TLSSocket): void {
    socket.setNoDelay(true);
    const remote = socket.remoteAddress ?? 'unknown';
    const session = new AgentSession(socket, `${remote.includes(':') ? `[${remote}]` : remote}:${socket.remotePort ?? 0}`, {
      auth: (s, req) => this.auth(s, req),
      bind: (s, req) => this.bind(s, req),
      unbind: (s, req) => this.unbind(s, req),
    });
    this.sessions.add(session);
    session.once('close', (reason) => {
      this.sessions.delete(session);
      this.opts.endpoints.detachSession(session);
      this.opts.events.append({ type: 'session_closed', sessionId: session.id, credentialId: session.credentialId, reason });
    });
  }

  private auth(session: AgentSession, req: AuthRequest) {
    const token = req.Extra?.AuthToken ?? '';
    const credential = this.opts.credentials.findByToken(token);
    if (!credential) {
      const reason = token ? 'authtoken not recognised (unknown or revoked credential)' : 'no authtoken given';
      this.opts.events.append({ type: 'auth_refused', reason, code: EdgeErrorCode.invalidAuthtoken });
      // Let the reply flush, then hang up: an unauthenticated session has nothing to do.
      setTimeout(() => session.close('authentication refused'), 500).unref();
      return errorReply(
        'The authtoken you specified is invalid. It is not the token of any credential of this devtunnel sandbox edge (it may have been revoked).',
        EdgeErrorCode.invalidAuthtoken,
      );
    }
    const claimedId = req.ClientId ?? '';
    if (claimedId && this.stoppedClients.has(claimedId)) {
      this.opts.events.append({ type: 'auth_refused', reason: 'agent session was stopped by the edge', code: EdgeErrorCode.sessionStopped });
      setTimeout(() => session.close('authentication refused'), 500).unref();
      return errorReply('This agent session was stopped by the devtunnel sandbox edge. Start a new session.', EdgeErrorCode.sessionStopped);
    }
    const claimedCookie = req.Extra?.Cookie ?? '';
    const reconnect = claimedId !== '' && this.identities.get(claimedId) === claimedCookie && claimedCookie !== '';
    const clientId = reconnect ? claimedId : randomId('cl');
    const cookie = reconnect ? claimedCookie : randomBytes(24).toString('base64url');
    this.identities.set(clientId, cookie);
    session.clientId = clientId;
    session.credentialId = credential.id;
    session.metadata = req.Extra?.Metadata ?? '';
    this.opts.events.append({ type: 'session_auth', sessionId: session.id, credentialId: credential.id, metadata: session.metadata, reconnect });
    return {
      Version: '3',
      ClientId: clientId,
      Extra: { Version: 'devtunnel-sandbox', Region: 'local', Cookie: cookie, AccountName: 'devtunnel sandbox', PlanName: 'sandbox', Banner: '' },
    };
  }

  private bind(session: AgentSession, req: BindRequest) {
    const host = String(req.Opts?.Domain ?? '').toLowerCase().replace(/\.$/, '');
    const refuse = (reason: string, code: string) => {
      this.opts.events.append({ type: 'bind_refused', sessionId: session.id, host, reason, code });
      return errorReply(reason, code);
    };
    const proto = req.Proto ?? '';
    if (proto !== 'http' && proto !== 'https') {
      return refuse(`The devtunnel sandbox edge serves only HTTP(S) endpoints; "${proto || 'labeled'}" endpoints are not supported.`, EdgeErrorCode.unsupportedProto);
    }
    const credential = session.credentialId ? this.opts.credentials.get(session.credentialId) : undefined;
    if (!credential) return refuse('The credential of this session no longer exists.', EdgeErrorCode.invalidAuthtoken);
    const domain = this.opts.domain.toLowerCase();
    if (!host) return refuse(`No domain given. Endpoints of the sandbox edge need a domain under ${domain}.`, EdgeErrorCode.domainNotAllowed);
    if (!host.endsWith(`.${domain}`)) {
      return refuse(`The domain "${host}" is not served by this sandbox edge: use a domain under *.${domain}.`, EdgeErrorCode.domainNotAllowed);
    }
    if (!aclAllows(credential.acl, host)) {
      return refuse(
        `Your credential's ACL does not allow binding "${host}". The credential ${credential.id} allows: ${credential.acl.join(', ') || '(nothing)'}.`,
        EdgeErrorCode.aclDenied,
      );
    }
    let policy: TrafficPolicyDocument | null = null;
    const policyText = typeof req.Opts?.TrafficPolicy === 'string' && req.Opts.TrafficPolicy.trim() !== '' ? req.Opts.TrafficPolicy : null;
    if (policyText !== null) {
      try {
        policy = parseTrafficPolicy(policyText);
      } catch (err) {
        const msg = err instanceof TrafficPolicyError ? err.message : String(err);
        return refuse(`Invalid traffic policy for "${host}": ${msg}`, EdgeErrorCode.invalidTrafficPolicy);
      }
    }

    // Rebind after a reconnect: same id (the agent keeps routing by it, P5), same URL.
    const requestedId = req.Id ?? '';
    const known = requestedId ? this.opts.endpoints.getById(requestedId) : undefined;
    const rebind = known !== undefined && known.token === (req.Extra?.Token ?? '') && known.host === host;
    const holder = this.opts.endpoints.getByHost(host);
    if (holder && holder.session && !holder.session.isClosed && !(rebind && holder === known)) {
      return refuse(`The domain "${host}" is already bound by another live endpoint (${holder.id}).`, EdgeErrorCode.hostInUse);
    }

    const publicProto = proto;
    const opts = req.Opts ?? {};
    let endpoint: Endpoint;
    if (rebind && known) {
      endpoint = known;
      endpoint.policy = policy;
      endpoint.policyText = policyText;
      endpoint.opts = opts;
      endpoint.credentialId = credential.id;
      this.opts.endpoints.attach(endpoint, session);
    } else {
      // After an edge restart the agent rebinds with an id we never issued; adopting it
      // keeps its routing working (the agent ignores the id in our reply).
      const id = requestedId && !known && ENDPOINT_ID.test(requestedId) ? requestedId : randomId('tun');
      endpoint = {
        id,
        host,
        url: this.opts.publicUrl(publicProto, host),
        proto: publicProto,
        credentialId: credential.id,
        policy,
        policyText,
        token: randomBytes(24).toString('base64url'),
        opts,
        metadata: req.Extra?.Metadata ?? '',
        forwardsTo: req.ForwardsTo ?? '',
        createdAt: new Date().toISOString(),
        session,
      };
      this.opts.endpoints.add(endpoint);
    }
    this.opts.events.append({
      type: 'bind',
      sessionId: session.id,
      endpointId: endpoint.id,
      host,
      url: endpoint.url,
      proto: publicProto,
      acl_check: 'passed',
      traffic_policy: policy as Record<string, unknown> | null,
      rebind,
    });
    return { Id: endpoint.id, URL: endpoint.url, Proto: proto, Opts: opts, Extra: { Token: endpoint.token } };
  }

  private unbind(session: AgentSession, req: UnbindRequest) {
    const endpoint = req.Id ? this.opts.endpoints.getById(req.Id) : undefined;
    // Duplicate Unbinds are normal (the SDK sends two): answer {} every time (P16).
    if (endpoint && (endpoint.session === session || endpoint.credentialId === session.credentialId)) {
      this.opts.endpoints.remove(endpoint.id);
      this.opts.events.append({ type: 'unbind', sessionId: session.id, endpointId: endpoint.id, host: endpoint.host });
    }
    return {};
  }
}
