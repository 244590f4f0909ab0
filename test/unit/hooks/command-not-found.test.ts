import { describe, expect, it } from 'vitest';
import { closestCommands, editDistance, unknownPart } from '../../../src/hooks/command-not-found.js';

const commands = ['share', 'sandbox', 'login', 'logout', 'admin init', 'admin invite', 'admin revoke', 'profiles', 'profiles show', 'webhook'];

describe('unknown commands', () => {
  it('measures edits', () => {
    expect(editDistance('shar', 'share')).toBe(1);
    expect(editDistance('loign', 'login')).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('finds what was mistyped: the first word that is neither a command nor a topic', () => {
    expect(unknownPart(['shar', '3000'], commands)).toBe('shar');
    expect(unknownPart(['admin', 'invit', 'x'], commands)).toBe('admin invit');
  });

  it('suggests the closest commands, prefixes first', () => {
    expect(closestCommands('shar', commands)).toEqual(['share']);
    expect(closestCommands('admin invit', commands)).toEqual(['admin invite', 'admin init']);
    expect(closestCommands('frobnicate', commands)).toEqual([]);
  });
});
