/**
 * Bound endpoints (listeners), by id and by host. An endpoint outlives its agent
 * session: when the agent reconnects it rebinds with the same id, and requests that
 * arrive meanwhile wait briefly for it instead of failing.
 */
import { EventEmitter } from 'node:events';
import type { TrafficPolicyDocument } from './traffic-policy-document.js';
import type { AgentSession } from './agent/agent-session.js';

export interface Endpoint {
  id: string;
  host: string;
  url: string;
  proto: 'http' | 'https';
  credentialId: string;
  /** Parsed Traffic Policy, or null; enforced through the public ingress's beforeForward hook. */
  policy: TrafficPolicyDocument | null;
  policyText: string | null;
  /** Secret the agent replays on rebind (BindResp.Extra.Token). */
  token: string;
  /** The options the agent sent (echoed back verbatim in BindResp). */
  opts: Record<string, unknown>;
  metadata: string;
  forwardsTo: string;
  createdAt: string;
  /** The agent session serving it; null while the agent is reconnecting. */
  session: AgentSession | null;
}

export class EndpointRegistry {
  private readonly byId = new Map<string, Endpoint>();
  private readonly byHost = new Map<string, Endpoint>();
  private readonly attached = new EventEmitter();

  constructor() {
    this.attached.setMaxListeners(0);
  }

  list(): Endpoint[] {
    return [...this.byId.values()];
  }

  getById(id: string): Endpoint | undefined {
    return this.byId.get(id);
  }

  getByHost(host: string): Endpoint | undefined {
    return this.byHost.get(host.toLowerCase());
  }

  add(endpoint: Endpoint): void {
    const existing = this.byHost.get(endpoint.host);
    if (existing && existing.id !== endpoint.id) this.remove(existing.id);
    this.byId.set(endpoint.id, endpoint);
    this.byHost.set(endpoint.host, endpoint);
    if (endpoint.session) this.attached.emit(endpoint.id);
  }

  remove(id: string): Endpoint | undefined {
    const endpoint = this.byId.get(id);
    if (!endpoint) return undefined;
    this.byId.delete(id);
    if (this.byHost.get(endpoint.host) === endpoint) this.byHost.delete(endpoint.host);
    endpoint.session = null;
    this.attached.emit(id);
    return endpoint;
  }

  attach(endpoint: Endpoint, session: AgentSession): void {
    endpoint.session = session;
    this.attached.emit(endpoint.id);
  }

  /** Mark every endpoint of a closed session as waiting for its agent to come back. */
  detachSession(session: AgentSession): Endpoint[] {
    const detached: Endpoint[] = [];
    for (const e of this.byId.values()) {
      if (e.session === session) {
        e.session = null;
        detached.push(e);
      }
    }
    return detached;
  }

  /** Resolve with the live session of an endpoint, waiting up to `timeoutMs` for a rebind. */
  waitForSession(endpoint: Endpoint, timeoutMs: number): Promise<AgentSession | null> {
    const live = () => (this.byId.get(endpoint.id) === endpoint && endpoint.session && !endpoint.session.isClosed ? endpoint.session : null);
    const now = live();
    if (now || timeoutMs <= 0 || this.byId.get(endpoint.id) !== endpoint) return Promise.resolve(now);
    return new Promise((resolve) => {
      const onChange = () => {
        const s = live();
        if (s || this.byId.get(endpoint.id) !== endpoint) finish(s);
      };
      const finish = (s: AgentSession | null) => {
        clearTimeout(timer);
        this.attached.off(endpoint.id, onChange);
        resolve(s);
      };
      const timer = setTimeout(() => finish(live()), timeoutMs);
      this.attached.on(endpoint.id, onChange);
    });
  }
}
