import { describe, expect, it } from 'vitest';
import { aclAllows, aclRuleAllows, validateAclRule } from '../../../src/sandbox/acl.js';
import { CredentialRegistry } from '../../../src/sandbox/credentials.js';

describe('ACL matching', () => {
  it('matches exact hosts case-insensitively', () => {
    expect(aclRuleAllows('bind:app.alice.x', 'app.alice.x')).toBe(true);
    expect(aclRuleAllows('bind:app.alice.x', 'APP.Alice.X')).toBe(true);
    expect(aclRuleAllows('bind:App.Alice.x', 'app.alice.x')).toBe(true);
    expect(aclRuleAllows('bind:app.alice.x', 'other.alice.x')).toBe(false);
    expect(aclRuleAllows('bind:app.alice.x', 'x.app.alice.x')).toBe(false);
  });

  it('matches wildcards one or more labels deep, never the suffix itself or look-alikes', () => {
    expect(aclRuleAllows('bind:*.alice.x', 'a.alice.x')).toBe(true);
    expect(aclRuleAllows('bind:*.alice.x', 'b.a.alice.x')).toBe(true);
    expect(aclRuleAllows('bind:*.alice.x', 'A.ALICE.X')).toBe(true);
    expect(aclRuleAllows('bind:*.alice.x', 'alice.x')).toBe(false);
    expect(aclRuleAllows('bind:*.alice.x', 'evilalice.x')).toBe(false);
    expect(aclRuleAllows('bind:*.alice.x', 'a.evilalice.x')).toBe(false);
    expect(aclRuleAllows('bind:*.alice.x', 'alice.x.evil.com')).toBe(false);
    expect(aclRuleAllows('bind:*.alice.x', '.alice.x')).toBe(false);
    expect(aclRuleAllows('bind:*.alice.x', 'a..alice.x')).toBe(false);
  });

  it('needs one matching rule', () => {
    expect(aclAllows(['bind:a.x', 'bind:*.b.x'], 'c.b.x')).toBe(true);
    expect(aclAllows(['bind:a.x', 'bind:*.b.x'], 'b.x')).toBe(false);
    expect(aclAllows([], 'a.x')).toBe(false);
  });

  it('refuses rules that are not bind:<host> or bind:*.<suffix>', () => {
    for (const bad of ['a.x', 'bind:', 'bind:*', 'bind:*.', 'bind:a.*.x', 'bind:*a.x', 'tcp:a.x', 'bind:a b.x', 'bind:-a.x']) {
      expect(() => validateAclRule(bad), bad).toThrow(/invalid ACL rule/);
    }
    for (const good of ['bind:a.x', 'bind:*.a.x', 'bind:localhost', 'bind:*.dev.devtunnel.localhost']) expect(() => validateAclRule(good)).not.toThrow();
  });
});

describe('CredentialRegistry', () => {
  it('creates, finds by token, lists, deletes and notifies', () => {
    const reg = new CredentialRegistry(() => new Date('2026-01-02T03:04:05Z'));
    const c = reg.create({ description: 'alice', metadata: '{"u":"alice"}', acl: ['bind:*.Alice.x'] });
    expect(c.id).toMatch(/^cr_/);
    expect(c.token.length).toBeGreaterThanOrEqual(40);
    expect(c).toMatchObject({ acl: ['bind:*.alice.x'], description: 'alice', metadata: '{"u":"alice"}', createdAt: '2026-01-02T03:04:05.000Z' });
    expect(reg.findByToken(c.token)?.id).toBe(c.id);
    expect(reg.findByToken('')).toBeUndefined();
    expect(reg.findByToken('nope')).toBeUndefined();
    expect(reg.list()).toHaveLength(1);
    expect(reg.get(c.id)?.token).toBe(c.token);
    const deleted: string[] = [];
    const off = reg.onDelete((d) => deleted.push(d.id));
    expect(reg.delete(c.id)).toBe(true);
    expect(reg.delete(c.id)).toBe(false);
    off();
    expect(deleted).toEqual([c.id]);
    expect(reg.findByToken(c.token)).toBeUndefined();
  });

  it('rejects bad ACL rules on create', () => {
    const reg = new CredentialRegistry();
    expect(() => reg.create({ acl: ['bind:a.x', 'admin'] })).toThrow(/invalid ACL rule "admin"/);
    expect(reg.list()).toHaveLength(0);
  });
});
