import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { aclRuleForUser, endpointHost, isEmailAddress, userLabelFromEmail } from '../../../src/team/identity.js';

describe('identity', () => {
  it.each([
    ['alice@acme.com', 'alice'],
    ['Alice.Smith@acme.com', 'alice-smith'],
    ['bob+test@acme.com', 'bob-test'],
    ['first_last@acme.com', 'first-last'],
    ['a..b__c++d@acme.com', 'a-b-c-d'],
    ['.leading.trailing.@acme.com', 'leading-trailing'],
    ["o'brien@acme.com", 'o-brien'],
    ['josé@acme.com', 'jos'],
    [`${'x'.repeat(62)}.yz@acme.com`, `${'x'.repeat(62)}`],
    [`${'a'.repeat(70)}@acme.com`, 'a'.repeat(63)],
  ])('label of %s is %s', (email, label) => {
    expect(userLabelFromEmail(email)).toBe(label);
  });

  it('refuses emails with nothing usable', () => {
    for (const email of ['@acme.com', '...@acme.com', '+++@acme.com', 'ü@acme.com']) {
      expect(() => userLabelFromEmail(email)).toThrow(UserError);
    }
  });

  it('builds hosts and ACLs', () => {
    expect(endpointHost('app', 'alice', 'tunnels-dev.acme.com')).toBe('app.alice.tunnels-dev.acme.com');
    expect(aclRuleForUser('alice', 'tunnels-dev.acme.com')).toBe('bind:*.alice.tunnels-dev.acme.com');
    expect(() => endpointHost('My App', 'alice', 'acme.com')).toThrow(UserError);
    expect(() => endpointHost('a.b', 'alice', 'acme.com')).toThrow(UserError);
    expect(() => endpointHost('a'.repeat(63), 'b'.repeat(63), `${'c'.repeat(63)}.${'d'.repeat(63)}.com`)).toThrow(UserError);
  });

  it('recognises email addresses', () => {
    expect(isEmailAddress("o'brien+x@Acme.COM")).toBe(true);
    for (const bad of ['x', '@acme.com', 'a@b', 'a b@acme.com', 'a@b@acme.com', 'a@acme..com', 'a@-acme.com']) {
      expect(isEmailAddress(bad)).toBe(false);
    }
  });
});
