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
  /** JSON: who runs what, visible to the team in ngrok. */
  sessionMetadata: string;
  /** Called when the agent loses its session ('closed') and gets it back ('connected'). */
  onStatusChange?: (status: 'connected' | 'closed') => void;
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
