// `admin invite` refuses a second person on the same URL label (one label, one ACL, one person):
// the fake ngrok API holds the team's existing credentials.
import { afterEach, describe, expect, it } from 'vitest';
import { createInvite, labelHolders } from '../../../src/admin/admin.js';
import { UserError } from '../../../src/errors.js';
import { adminFixture, type AdminFixture } from './fake-admin.js';

const fixtures: AdminFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});
const setup = () => {
  const f = adminFixture();
  fixtures.push(f);
  return f;
};
const invite = (f: AdminFixture, email: string) => createInvite(f.deps, { email, expires: '7d' });
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e) as Promise<UserError>;

describe('admin invite: one URL label per person', () => {
  it('refuses another email with the same label (exit 4), naming the member and the label, and mints nothing', async () => {
    const f = setup();
    const alice = await invite(f, 'alice@example.com');
    expect(alice.acl).toEqual(['bind:*.alice.tunnels-dev.acme.com']);
    for (const other of ['alice@other.test', 'ALICE@other.test', 'alice@example.org']) {
      const error = await refusal(invite(f, other));
      expect(error, other).toBeInstanceOf(UserError);
      expect(error.exitCode).toBe(4);
      expect(error.code).toBe('user_label_taken');
      expect(error.message).toContain(other);
      expect(error.message).toContain('alice@example.com');
      expect(error.message).toContain(`credential ${alice.credential_id}`);
      expect(error.message).toContain('"alice"');
      expect(error.suggestions.join('\n')).toMatch(/alias/);
      expect(error.suggestions.join('\n')).toContain('devtunnel admin revoke alice@example.com');
    }
    expect(f.api.credentials.map((c) => c.id)).toEqual([alice.credential_id]);
  });

  it('dots, dashes and underscores give the same label: a.lice, a-lice and a_lice are one name', async () => {
    const f = setup();
    const first = await invite(f, 'a.lice@example.com');
    expect(first.label).toBe('a-lice');
    for (const other of ['a-lice@other.test', 'A_Lice@example.com']) {
      const error = await refusal(invite(f, other));
      expect(error.code, other).toBe('user_label_taken');
      expect(error.message).toContain('a.lice@example.com');
      expect(error.message).toContain('"a-lice"');
    }
  });

  it('treats the same email in another case as the same person: a new credential, the member’s spelling kept, the earlier one named', async () => {
    const f = setup();
    const first = await invite(f, 'Alice@Example.com');
    const again = await invite(f, 'alice@example.com');
    expect(again.email).toBe('Alice@Example.com');
    expect(again.label).toBe('alice');
    expect(again.earlier_credentials).toEqual([first.credential_id]);
    expect(first.earlier_credentials).toEqual([]);
    expect(f.api.credentials).toHaveLength(2);
    expect(JSON.parse(f.api.credentials[1]!.metadata)).toMatchObject({ email: 'Alice@Example.com', label: 'alice' });
  });

  it('also counts credentials devtunnel did not make whose ACL grants the label, and members without a stored label', async () => {
    const f = setup();
    f.api.add({ acl: ['bind:*.dev.tunnels-dev.acme.com'], description: 'dev@example.com (sandbox demo developer)', metadata: JSON.stringify({ email: 'dev@example.com' }) });
    f.api.add({ acl: ['bind:*.ops.tunnels-dev.acme.com'], description: 'hand-made', metadata: '' });
    f.api.add({ acl: [], description: 'devtunnel acme: bob@example.com', metadata: JSON.stringify({ devtunnel: 'member', team: 'acme', email: 'bob@example.com' }) });
    const dev = await refusal(invite(f, 'dev@other.test'));
    expect(dev.exitCode).toBe(4);
    expect(dev.message).toContain('dev@example.com (credential cr_1)');
    const ops = await refusal(invite(f, 'ops@example.com'));
    expect(ops.message).toContain('credential cr_2 (owner unknown)');
    expect(ops.suggestions.join('\n')).toContain('devtunnel admin revoke cr_2');
    expect((await refusal(invite(f, 'bob@other.test'))).code).toBe('user_label_taken');
    // The same address as the existing holder is the same person.
    expect((await invite(f, 'DEV@example.com')).earlier_credentials).toEqual(['cr_1']);
    // Other teams' members and other domains do not count.
    expect(labelHolders([{ ...f.api.credentials[2]!, metadata: JSON.stringify({ devtunnel: 'member', team: 'other', email: 'bob@example.com' }) }], 'acme', 'bob', 'tunnels-dev.acme.com')).toEqual([]);
    expect(labelHolders([{ ...f.api.credentials[0]!, acl: ['bind:*.dev.elsewhere.example'] }], 'acme', 'dev', 'tunnels-dev.acme.com')).toEqual([]);
  });
});
