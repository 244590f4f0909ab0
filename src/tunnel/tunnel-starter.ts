/** What `share` and `webhook` need from an agent: start one endpoint, learn its URL, close it. */
export interface TunnelRequest {
  /** The team's custom agent ingress, host:port. */
  serverAddr: string;
  /** 'trusted' (ngrok's CA), 'host' (the OS store) or PEM text (a TLS-inspecting proxy, the sandbox CA). */
  rootCas: string;
  authtoken: string;
  /** Endpoint host, `<name>.<user>.<domain>`. */
  domain: string;
  /** Local target as the SDK takes it: `3000`, `host:port` or a URL. */
  upstream: string;
  /** Traffic Policy document, JSON text. */
  trafficPolicy: string;
  /** JSON: who runs the session (user, team, devtunnel and policy versions), visible to the team in ngrok. */
  sessionMetadata: string;
  /** JSON: what this endpoint is for (the profile, the webhook provider), visible to the team in ngrok. */
  endpointMetadata?: string;
  /** Called when the agent loses its session ('closed') and gets it back ('connected'). */
  onStatusChange?: (status: 'connected' | 'closed') => void;
  /**
   * Called once when the edge ends the session for good: it sent the Stop command (the team
   * admin stopped the session or revoked the credential), or it keeps refusing to resume it.
   * The SDK would otherwise reconnect forever; the caller should close the tunnel and exit.
   */
  onEnded?: (end: TunnelEnd) => void;
}

/** Why the edge ended a tunnel session (see docs/revocation.md). */
export interface TunnelEnd {
  /**
   * `revoked`: the authtoken is no longer accepted (credential deleted);
   * `stopped`: the edge sent Stop (or refuses to resume this session) but the token still works.
   */
  reason: 'revoked' | 'stopped';
  /** The edge's error code when one was seen, e.g. ERR_NGROK_107. */
  errorCode?: string;
  /** The edge's words, when there are any. */
  detail?: string;
}

export interface Tunnel {
  readonly url: string;
  /** Unbinds the endpoint at the edge. Safe to call twice. */
  close(): Promise<void>;
}

export interface TunnelStarter {
  start(request: TunnelRequest): Promise<Tunnel>;
}

/** An edge refusal as the SDK reports it: `ERR_NGROK_<digits>` plus the edge's words. */
export class EdgeRefusal extends Error {
  constructor(
    message: string,
    readonly errorCode: string | undefined,
  ) {
    super(message);
    this.name = 'EdgeRefusal';
  }
}
