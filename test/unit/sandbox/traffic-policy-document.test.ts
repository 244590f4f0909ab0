import { describe, expect, it } from 'vitest';
import { EventLog } from '../../../src/sandbox/event-log.js';
import { parseTrafficPolicy } from '../../../src/sandbox/traffic-policy-document.js';

describe('parseTrafficPolicy', () => {
  it('accepts JSON and YAML with the three phases', () => {
    expect(parseTrafficPolicy('{"on_http_request":[{"actions":[{"type":"deny","config":{"status_code":403}}]}]}')).toEqual({
      on_http_request: [{ actions: [{ type: 'deny', config: { status_code: 403 } }] }],
    });
    expect(parseTrafficPolicy('on_tcp_connect: []\non_http_response:\n  - name: h\n    expressions: ["true"]\n    actions: [{type: add-headers, config: {headers: {x-a: b}}}]\n')).toMatchObject({
      on_tcp_connect: [],
      on_http_response: [{ name: 'h' }],
    });
    expect(parseTrafficPolicy('')).toEqual({});
  });

  it.each([
    ['{"on_http_request": [', /not valid JSON or YAML/],
    ['[1,2]', /map of phases/],
    ['on_request: []', /unknown phase "on_request"/],
    ['on_http_request: {actions: []}', /must be a list of rules/],
    ['on_http_request: [{actions: []}]', /non-empty list/],
    ['on_http_request: [{}]', /non-empty list/],
    ['on_http_request: [{actions: [{config: {}}]}]', /string "type"/],
    ['on_http_request: [{actions: [{type: deny, config: [1]}]}]', /"config" must be a map/],
    ['on_http_request: [{expressions: "x", actions: [{type: deny}]}]', /list of strings/],
    ['on_http_request: [{action: [{type: deny}]}]', /unknown field "action"/],
  ])('refuses %s', (text, message) => {
    expect(() => parseTrafficPolicy(text)).toThrow(message);
  });
});

describe('EventLog', () => {
  it('appends typed entries in order and notifies subscribers', () => {
    const log = new EventLog(() => new Date('2026-01-01T00:00:00Z'));
    const seen: string[] = [];
    const off = log.subscribe((e) => seen.push(e.type));
    log.append({ type: 'auth_refused', reason: 'bad', code: 'ERR_NGROK_107' });
    log.append({ type: 'unbind', sessionId: 's', endpointId: 'e', host: 'h' });
    off();
    log.append({ type: 'session_closed', sessionId: 's', credentialId: null, reason: 'x' });
    expect(seen).toEqual(['auth_refused', 'unbind']);
    expect(log.list().map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(log.list('unbind')).toEqual([{ type: 'unbind', sessionId: 's', endpointId: 'e', host: 'h', seq: 2, at: '2026-01-01T00:00:00.000Z' }]);
  });
});
