import { describe, expect, it } from 'vitest';
import { parseUpstream } from '../../../src/tunnel/upstream.js';
import { UserError } from '../../../src/errors.js';

const refusal = (input: string) => {
  try {
    parseUpstream(input);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    return (error as UserError).message;
  }
  throw new Error(`${input} was accepted`);
};

describe('parseUpstream', () => {
  it.each([
    ['3000', 'localhost:3000', 'http://localhost:3000'],
    [' 8080 ', 'localhost:8080', 'http://localhost:8080'],
    ['127.0.0.1:8080', '127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['[::1]:3000', '[::1]:3000', 'http://[::1]:3000'],
    ['http://localhost:3000', 'http://localhost:3000', 'http://localhost:3000'],
    ['http://localhost:3000/', 'http://localhost:3000', 'http://localhost:3000'],
    ['https://localhost:8443', 'https://localhost:8443', 'https://localhost:8443'],
  ])('accepts %j', (input, addr, display) => {
    expect(parseUpstream(input)).toEqual({ addr, display });
  });

  it('says why a number is not a port', () => {
    expect(refusal('0')).toContain('ports go from 1 to 65535');
    expect(refusal('70000')).toContain('ports go from 1 to 65535');
  });

  it.each(['abc', 'localhost:', ':3000', 'localhost:99999', 'ftp://localhost:21', 'http://', ''])('refuses %j with the accepted forms', (input) => {
    expect(refusal(input)).toMatch(/not a local address|not a port/);
  });

  it('refuses credentials in the URL without echoing them', () => {
    const message = refusal('http://user:hunter2secret@localhost:3000');
    expect(message).not.toContain('hunter2secret');
  });

  it('refuses a path or query instead of silently dropping it', () => {
    expect(refusal('http://localhost:3000/sub/path?x=1')).toContain('must not carry a path');
  });
});

describe('parseUpstream error text', () => {
  it('never repeats a password given in a malformed URL', () => {
    expect(refusal('http://user:hunter2secret@localhost:99999')).not.toContain('hunter2secret');
  });
});

describe('parseUpstream port messages', () => {
  it('names the port problem for HOST:PORT too', () => {
    expect(refusal('localhost:70000')).toContain('70000 is not a port: ports go from 1 to 65535');
    expect(refusal('http://localhost:0')).toContain('0 is not a port');
    expect(refusal('http://localhost:3000#frag')).toContain('fragment');
  });
});
