/**
 * Server-side sign-in state for oauth / openid-connect: sessions (one random id in an
 * HttpOnly cookie, everything else here) and sign-in attempts in flight (state → nonce,
 * where to return). A session is bound to the endpoint (id and host) it was minted for, so
 * a cookie carried to another endpoint is worthless there.
 */
import { randomBytes } from 'node:crypto';

export interface Identity {
  email: string;
  name: string;
  sub: string;
}

export interface Session {
  id: string;
  endpointId: string;
  host: string;
  kind: 'oauth' | 'oidc';
  issuer: string;
  clientId: string;
  provider: string;
  identity: Identity;
  idToken: string;
  accessToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute lifetime and idle timeout, ms. */
  maxMs: number;
  idleMs: number;
}

export interface PendingSignIn {
  state: string;
  /** Also set in the browser as a cookie: the callback must come from the browser that started. */
  binding: string;
  nonce: string;
  endpointId: string;
  host: string;
  kind: 'oauth' | 'oidc';
  issuer: string;
  clientId: string;
  clientSecret: string;
  provider: string;
  redirectUri: string;
  returnTo: string;
  cookieName: string;
  maxMs: number;
  idleMs: number;
  createdAt: number;
}

const PENDING_TTL_MS = 10 * 60_000;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly pending = new Map<string, PendingSignIn>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  create(fields: Omit<Session, 'id' | 'createdAt' | 'lastSeenAt'>): Session {
    const t = this.now();
    const session: Session = { ...fields, id: randomBytes(32).toString('base64url'), createdAt: t, lastSeenAt: t };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The session `id` names, if it is live and was minted for exactly this endpoint and sign-in config. */
  find(id: string, scope: { endpointId: string; host: string; kind: string; issuer: string; clientId: string }): { session?: Session; problem?: string } {
    const s = this.sessions.get(id);
    if (!s) return { problem: 'unknown or signed-out session' };
    if (s.endpointId !== scope.endpointId || s.host !== scope.host) return { problem: `session belongs to another endpoint (${s.host})` };
    if (s.kind !== scope.kind || s.issuer !== scope.issuer || s.clientId !== scope.clientId) return { problem: 'session was minted for another sign-in configuration' };
    const t = this.now();
    if (t - s.createdAt > s.maxMs || t - s.lastSeenAt > s.idleMs) {
      this.sessions.delete(id);
      return { problem: 'session expired' };
    }
    s.lastSeenAt = t;
    return { session: s };
  }

  /** Delete a session if it belongs to this endpoint; true when one was deleted. */
  revoke(id: string, endpointId: string): boolean {
    const s = this.sessions.get(id);
    if (!s || s.endpointId !== endpointId) return false;
    return this.sessions.delete(id);
  }

  startSignIn(fields: Omit<PendingSignIn, 'state' | 'binding' | 'nonce' | 'createdAt'>): PendingSignIn {
    this.sweep();
    const p: PendingSignIn = {
      ...fields,
      state: randomBytes(24).toString('base64url'),
      binding: randomBytes(24).toString('base64url'),
      nonce: randomBytes(24).toString('base64url'),
      createdAt: this.now(),
    };
    this.pending.set(p.state, p);
    return p;
  }

  /** Take (and forget) the sign-in attempt for `state`. */
  takeSignIn(state: string): PendingSignIn | undefined {
    const p = this.pending.get(state);
    this.pending.delete(state);
    if (!p || this.now() - p.createdAt > PENDING_TTL_MS) return undefined;
    return p;
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, p] of this.pending) if (t - p.createdAt > PENDING_TTL_MS) this.pending.delete(k);
    for (const [k, s] of this.sessions) if (t - s.createdAt > s.maxMs || t - s.lastSeenAt > s.idleMs) this.sessions.delete(k);
  }
}
