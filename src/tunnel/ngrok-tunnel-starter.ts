import { EdgeRefusal, type Tunnel, type TunnelRequest, type TunnelStarter } from './tunnel-starter.js';

type NgrokModule = typeof import('@ngrok/ngrok');

/**
 * Maps a TunnelRequest onto `@ngrok/ngrok`'s `forward()`. Only `traffic_policy` carries
 * edge rules (never the legacy module options), so the edge sees exactly the compiled
 * profile. The SDK is loaded once, on first use: it is a native module and slow to load.
 */
export class NgrokTunnelStarter implements TunnelStarter {
  private sdk: Promise<NgrokModule> | undefined;

  /** Starts loading the native SDK now, so it overlaps with keychain and policy work. */
  preload(): void {
    this.sdk ??= import('@ngrok/ngrok').then((m) => ((m as { default?: NgrokModule }).default ?? m) as NgrokModule);
  }

  async start(request: TunnelRequest): Promise<Tunnel> {
    this.preload();
    const ngrok = await this.sdk!;
    const trust = trustOptions(request.rootCas);
    let listener: Awaited<ReturnType<NgrokModule['forward']>>;
    try {
      listener = await ngrok.forward({
        addr: request.upstream,
        authtoken: request.authtoken,
        server_addr: request.serverAddr,
        ...trust,
        domain: request.domain,
        traffic_policy: request.trafficPolicy,
        session_metadata: request.sessionMetadata,
        onStatusChange: (status: string) => {
          if (status === 'connected' || status === 'closed') request.onStatusChange?.(status);
        },
      });
    } catch (error) {
      throw toEdgeRefusal(error, request.authtoken);
    }
    const url = listener.url() ?? `https://${request.domain}`;
    let closing: Promise<void> | undefined;
    return {
      url,
      close: () => {
        closing ??= listener.close().catch(() => undefined);
        return closing;
      },
    };
  }
}

/**
 * The SDK takes a CA bundle as a file path (`root_cas`) or as PEM text (`session_ca_cert`).
 * PEM text goes in memory, so no CA file has to be written for a custom ingress.
 */
export function trustOptions(rootCas: string): { root_cas?: string; session_ca_cert?: string } {
  if (rootCas === 'trusted' || rootCas === 'host') return { root_cas: rootCas };
  if (rootCas.includes('-----BEGIN CERTIFICATE-----')) return { session_ca_cert: rootCas };
  return { root_cas: rootCas };
}

function toEdgeRefusal(error: unknown, authtoken: string): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const code = (error as { errorCode?: string }).errorCode;
  // The SDK prefixes its own context; keep the edge's words, drop the duplicated code suffix.
  const message = error.message
    .split(authtoken)
    .join('[redacted]')
    .replace(/\s*error_code: ERR_NGROK_\d+\s*$/, '')
    .trim();
  return new EdgeRefusal(message, code);
}
