import { describe, expect, it } from 'vitest';
import { isEdgePath, parseRequestTarget } from '../../../../src/sandbox/policy/request-target.js';

describe('parseRequestTarget', () => {
  it.each([
    ['/', '/', '/'],
    ['/a/b?x=1', '/a/b', '/a/b?x=1'],
    ['/ngrok/../secret', '/secret', '/secret'],
    ['//ngrok/logout', '/ngrok/logout', '/ngrok/logout'],
    ['/%2e%2e/ngrok/x', '/ngrok/x', '/ngrok/x'],
    ['/a/%2E%2E/b?q', '/b', '/b?q'],
    ['/a/./b/', '/a/b/', '/a/b/'],
    ['/a/..', '/', '/'],
    ['/..', '/', '/'],
    ['/%7euser/%41', '/~user/A', '/~user/A'],
    ['/x%20y', '/x%20y', '/x%20y'],
    ['/secret/.%2e/x', '/x', '/x'],
    ['/secret/..%2e/x', '/secret/.../x', '/secret/.../x'],
  ])('%s → path %s, forwarded as %s', (url, path, forward) => {
    const t = parseRequestTarget(url);
    expect(t).toMatchObject({ ok: true, path, forwardTarget: forward });
  });

  it.each(['/ngrok%2flogout', '/a%2F..%2Fsecret', '/a%5csecret', '/a\\b', '/a%00', '/bad%zz', 'http://host/x'])('refuses %s', (url) => {
    expect(parseRequestTarget(url).ok).toBe(false);
  });

  it('recognises edge paths after normalisation only', () => {
    expect(isEdgePath('/ngrok/logout')).toBe(true);
    expect(isEdgePath('/ngrok')).toBe(true);
    expect(isEdgePath('/ngrokx')).toBe(false);
  });
});
