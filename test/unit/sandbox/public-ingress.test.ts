import { describe, expect, it } from 'vitest';
import { formatClientAddr, hostFromHeader } from '../../../src/sandbox/public-ingress.js';

describe('public ingress helpers', () => {
  it('strips the port and lower-cases the Host header', () => {
    expect(hostFromHeader('App.Dev.X.localhost:8080')).toBe('app.dev.x.localhost');
    expect(hostFromHeader('app.x.localhost')).toBe('app.x.localhost');
    expect(hostFromHeader('app.x.localhost.')).toBe('app.x.localhost');
    expect(hostFromHeader('[::1]:443')).toBe('[::1]');
    expect(hostFromHeader(undefined)).toBe('');
  });

  it('formats ClientAddr as ip:port with IPv6 in brackets', () => {
    expect(formatClientAddr('127.0.0.1', 5000)).toBe('127.0.0.1:5000');
    expect(formatClientAddr('::1', 1234)).toBe('[::1]:1234');
  });
});
