/**
 * The ngrok Traffic Policy document shape devtunnel emits (docs/traffic-policy.md §1):
 * phases → ordered rules → expressions (all must hold) + actions (run in order).
 */

/** A policy phase. devtunnel emits only `on_http_request`. */
export type TrafficPolicyPhase = 'on_tcp_connect' | 'on_http_request' | 'on_http_response';

/** One action, e.g. `{ type: 'deny', config: { status_code: 403 } }`. */
export interface TrafficPolicyAction {
  type: string;
  config?: Record<string, unknown>;
}

/** A rule: when every expression is true (or there are none), its actions run. */
export interface TrafficPolicyRule {
  name?: string;
  expressions?: string[];
  actions: TrafficPolicyAction[];
}

/** A whole Traffic Policy document. */
export type TrafficPolicy = Partial<Record<TrafficPolicyPhase, TrafficPolicyRule[]>>;
