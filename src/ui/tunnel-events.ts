import type { TunnelLifecycleEvent } from '../tunnel/tunnel-session.js';
import type { Output } from './output.js';

/** Human lines for the lifecycle events every long-running tunnel command shares. */
export function printLifecycleEvent(out: Output, event: TunnelLifecycleEvent, stoppedText: (url: string) => string): void {
  switch (event.event) {
    case 'reconnecting':
      out.notice('Connection to the edge lost; reconnecting…');
      break;
    case 'reconnected':
      out.notice('Reconnected.');
      break;
    case 'closed':
      out.notice(stoppedText(event.url));
      break;
  }
}
