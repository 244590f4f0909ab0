/**
 * Append-only record of what the sandbox edge did, for tests, the CLI and the
 * control API. Entries never carry authtokens or other secrets.
 */

interface EntryBase {
  seq: number;
  at: string;
}

export type EdgeEventInput =
  | { type: 'session_auth'; sessionId: string; credentialId: string; metadata: string; reconnect: boolean }
  | { type: 'auth_refused'; reason: string; code: string }
  | {
      type: 'bind';
      sessionId: string;
      endpointId: string;
      host: string;
      url: string;
      proto: string;
      acl_check: 'passed';
      traffic_policy: TrafficPolicyDocumentLike | null;
      rebind: boolean;
    }
  | { type: 'bind_refused'; sessionId: string; host: string; reason: string; code: string }
  | { type: 'unbind'; sessionId: string; endpointId: string; host: string }
  | { type: 'proxy'; endpointId: string; host: string; method: string; path: string; status: number; clientIp: string }
  | { type: 'session_closed'; sessionId: string; credentialId: string | null; reason: string }
  /** The endpoint's Traffic Policy answered instead of forwarding (status 0: connection closed). */
  | {
      type: 'policy_denied';
      endpointId: string;
      host: string;
      method: string;
      path: string;
      clientIp: string;
      rule: string;
      action: string;
      status: number;
      reason: string;
    };

/** Loose shape to avoid a cycle with the policy module; the parsed document itself is stored. */
export type TrafficPolicyDocumentLike = Record<string, unknown>;

export type EdgeEvent = EdgeEventInput & EntryBase;
export type EdgeEventType = EdgeEvent['type'];

export class EventLog {
  private readonly entries: EdgeEvent[] = [];
  private readonly subscribers = new Set<(event: EdgeEvent) => void>();
  private seq = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  append(input: EdgeEventInput): EdgeEvent {
    const event = { ...input, seq: ++this.seq, at: this.now().toISOString() } as EdgeEvent;
    this.entries.push(event);
    for (const s of this.subscribers) {
      try {
        s(event);
      } catch {
        // A faulty subscriber must not break the edge.
      }
    }
    return event;
  }

  /** All entries so far, optionally only one type. */
  list(): EdgeEvent[];
  list<T extends EdgeEventType>(type: T): Extract<EdgeEvent, { type: T }>[];
  list(type?: EdgeEventType): EdgeEvent[] {
    return type ? this.entries.filter((e) => e.type === type) : [...this.entries];
  }

  /** Called for every later entry; returns an unsubscribe function. */
  subscribe(fn: (event: EdgeEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }
}
