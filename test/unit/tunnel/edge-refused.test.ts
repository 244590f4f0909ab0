import { describe, expect, it } from 'vitest';
import { edgeRefused } from '../../../src/tunnel/tunnel-session.js';
import { EdgeRefusal } from '../../../src/tunnel/tunnel-starter.js';

describe('edgeRefused gives the advice that fits the refusal (all exit 5)', () => {
  it('an unreachable ingress is not blamed on the token', () => {
    const e = edgeRefused(new EdgeRefusal('failed to connect session: failed to establish tcp connection', undefined), { serverAddr: '127.0.0.1:9' });
    expect(e.exitCode).toBe(5);
    expect(e.code).toBe('ingress_unreachable');
    expect(e.message).toContain('127.0.0.1:9');
    expect(e.suggestions.join(' ')).not.toMatch(/revoked/);
  });

  it('a refused token from DEVTUNNEL_AUTHTOKEN names the variable', () => {
    const e = edgeRefused(new EdgeRefusal('The authtoken you specified is invalid.', 'ERR_NGROK_107'), { authtokenFromEnv: 'DEVTUNNEL_AUTHTOKEN' });
    expect(e.code).toBe('access_revoked');
    expect(e.message).toContain('DEVTUNNEL_AUTHTOKEN');
    expect(e.suggestions.join(' ')).toContain('unset it');
  });

  it('a refused keychain token says access was revoked', () => {
    const e = edgeRefused(new EdgeRefusal('The authtoken you specified is invalid.', 'ERR_NGROK_107'));
    expect(e.message).toMatch(/revoked your access/);
  });

  it('a host that is already bound suggests --name', () => {
    const e = edgeRefused(new EdgeRefusal('already bound', 'ERR_NGROK_334'), { host: 'app.dev.devtunnel.localhost' });
    expect(e.code).toBe('host_in_use');
    expect(e.message).toContain('app.dev.devtunnel.localhost');
    expect(e.suggestions.join(' ')).toContain('--name');
  });

  it('an ACL refusal keeps the edge message and code', () => {
    const e = edgeRefused(new EdgeRefusal('not allowed to bind app.bob.x', 'ERR_NGROK_319'));
    expect(e.code).toBe('edge_refused');
    expect(e.message).toContain('ERR_NGROK_319');
    expect(e.message).toContain('not allowed to bind app.bob.x');
  });
});
