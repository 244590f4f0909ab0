// `admin logout`: removes the API key and the team secrets, keeps the signing key unless asked
// (and confirmed), and leaves the team secrets a developer login on this machine uses.
import { afterEach, describe, expect, it } from 'vitest';
import { adminLogout, setTeamSecret } from '../../../src/admin/admin.js';
import { UserError } from '../../../src/errors.js';
import { adminFixture, type AdminFixture } from './fake-admin.js';

const fixtures: AdminFixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});
const setup = (opts: Parameters<typeof adminFixture>[0] = {}) => {
  const f = adminFixture(opts);
  fixtures.push(f);
  return f;
};
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e) as Promise<UserError>;

describe('admin logout', () => {
  it('removes admin-api and the team secrets (named by the policy or stored with `admin secret set`), keeps admin-key and the settings', async () => {
    const f = setup();
    await setTeamSecret(f.deps, { name: 'extra', value: 'extra-secret-value' });
    expect(f.config.team('acme').team_secrets).toEqual(['extra']);
    const result = await adminLogout(f.deps, { forgetTeamKey: false, yes: false });
    expect(result.removed).toEqual(['admin-api:acme', 'team-secret:acme:extra', 'team-secret:acme:okta']);
    expect(result.kept).toEqual([{ account: 'admin-key:acme', reason: expect.stringContaining('--forget-team-key') }]);
    expect(result.settings_removed).toBe(false);
    expect(Object.keys(f.memory.snapshot())).toEqual(['admin-key:acme']);
    expect(f.config.team('acme').key_fingerprint).toMatch(/^SHA256:/);
    // Again: nothing left to remove, not an error.
    expect((await adminLogout(f.deps, { forgetTeamKey: false, yes: false })).removed).toEqual([]);
  });

  it('keeps the team secrets when this machine’s developer login is for the same team', async () => {
    const f = setup({ developerTeam: 'acme' });
    const result = await adminLogout(f.deps, { forgetTeamKey: false, yes: false });
    expect(result.removed).toEqual(['admin-api:acme']);
    expect(result.kept.map((k) => k.account)).toEqual(['team-secret:acme:okta', 'admin-key:acme']);
    expect(result.kept[0]!.reason).toContain('devtunnel logout');
    expect(f.memory.snapshot()['team-secret:acme:okta']).toBe('okta-client-secret-value');
  });

  it('--forget-team-key needs --yes when it cannot ask (exit 2, nothing removed)', async () => {
    const f = setup();
    const error = await refusal(adminLogout(f.deps, { forgetTeamKey: true, yes: false }));
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(2);
    expect(error.suggestions.join(' ')).toContain('--yes');
    expect(Object.keys(f.memory.snapshot())).toContain('admin-api:acme');
  });

  it('--forget-team-key asks first; "no" removes nothing, "yes" deletes the key and forgets the team', async () => {
    const f = setup({ answers: [false, true] });
    const no = await refusal(adminLogout(f.deps, { forgetTeamKey: true, yes: false }));
    expect(no.exitCode).toBe(130);
    expect(f.asked[0]).toMatch(/Delete team acme's private signing key \(SHA256:.*\)\? It cannot be recovered/);
    expect(Object.keys(f.memory.snapshot()).sort()).toEqual(['admin-api:acme', 'admin-key:acme', 'team-secret:acme:okta']);
    const yes = await adminLogout(f.deps, { forgetTeamKey: true, yes: false });
    expect(yes.removed).toEqual(['admin-api:acme', 'team-secret:acme:okta', 'admin-key:acme']);
    expect(yes.settings_removed).toBe(true);
    expect(f.memory.snapshot()).toEqual({});
    expect(() => f.config.team('acme')).toThrow(/not set up/);
  });

  it('--yes confirms without a prompt', async () => {
    const f = setup();
    const result = await adminLogout(f.deps, { forgetTeamKey: true, yes: true });
    expect(result.removed).toContain('admin-key:acme');
    expect(f.asked).toEqual([]);
  });
});
