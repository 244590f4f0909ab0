import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.js';
import { signPolicy } from '../../../src/team/signed-policy.js';
import { TeamStore, type TeamLogin } from '../../../src/team/team-store.js';
import { generateTeamKey } from '../../../src/team/team-key.js';
import { samplePolicy } from './fixtures.js';

const key = generateTeamKey();
const NOW = new Date('2026-03-01T12:00:00Z');

function login(overrides: Partial<TeamLogin> = {}): TeamLogin {
  return {
    signedPolicy: signPolicy(samplePolicy(), key.privateKeyPem),
    teamPublicKey: key.publicKey,
    email: 'Alice@acme.com',
    credentialId: 'cr_1',
    secretNames: ['okta'],
    keychainBackend: 'keyutils',
    ...overrides,
  };
}

describe('TeamStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devtunnel-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty at first, saves, loads (verified) and clears', async () => {
    const store = new TeamStore({ cwd: dir });
    expect(store.load()).toBeUndefined();
    const saved = await store.save(login(), NOW);
    expect(saved).toMatchObject({ email: 'Alice@acme.com', userLabel: 'alice', teamId: 'acme', secretNames: ['okta'], webhookProviders: ['github', 'stripe'], keychainBackend: 'keyutils', credentialId: 'cr_1' });
    const loaded = new TeamStore({ cwd: dir }).load();
    expect(loaded).toEqual(saved);
    expect(loaded?.policy).toEqual(samplePolicy());
    expect(loaded).toMatchObject({ teamPublicKey: key.publicKey, keyFingerprint: key.fingerprint });
    expect(loaded?.savedAt).toBe(NOW.toISOString());
    await store.clear();
    expect(new TeamStore({ cwd: dir }).load()).toBeUndefined();
  });

  it('uses DEVTUNNEL_CONFIG_DIR and writes a private file', async () => {
    const store = new TeamStore({ env: { DEVTUNNEL_CONFIG_DIR: dir } });
    await store.save(login());
    expect(store.path.startsWith(dir)).toBe(true);
    if (process.platform !== 'win32') expect(statSync(store.path).mode & 0o077).toBe(0);
  });

  it('never writes tokens or secrets, even when handed extra fields', async () => {
    const store = new TeamStore({ cwd: dir });
    const sneaky = { ...login(), authtoken: 'TOKEN-canary', secrets: { okta: 'SECRET-canary' } };
    await store.save(sneaky);
    const text = readFileSync(store.path, 'utf8');
    expect(text).not.toContain('TOKEN-canary');
    expect(text).not.toContain('SECRET-canary');
    expect(text).not.toMatch(/authtoken|"secrets"/);
  });

  it('refuses to save a policy that does not verify with the key', async () => {
    const other = generateTeamKey();
    await expect(new TeamStore({ cwd: dir }).save(login({ signedPolicy: signPolicy(samplePolicy(), other.privateKeyPem) }))).rejects.toThrow(UserError);
  });

  it.each([
    ['a policy field', (t: string) => t.replace('"acme.com"', '"evil.com"')],
    ['the pinned key', (t: string) => t.replace(key.publicKey, generateTeamKey().publicKey)],
    ['the label', (t: string) => t.replace('"label": "alice"', '"label": "bob"')],
    ['the JSON itself', (t: string) => t.slice(0, -5)],
    ['the shape', () => '{"login": {"format": "devtunnel-login/1"}}'],
  ])('refuses a file with tampered %s on every load', async (_label, edit) => {
    const store = new TeamStore({ cwd: dir });
    await store.save(login());
    const before = readFileSync(store.path, 'utf8');
    const after = edit(before);
    expect(after).not.toBe(before);
    writeFileSync(store.path, after);
    try {
      new TeamStore({ cwd: dir }).load();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).code).toBe('team_store_invalid');
      expect((err as UserError).exitCode).toBe(3);
      expect((err as UserError).suggestions.join(' ')).toContain('devtunnel login');
    }
  });

  it('updates the policy forward only', async () => {
    const store = new TeamStore({ cwd: dir });
    await store.save(login());
    const v8 = signPolicy({ ...samplePolicy(), version: 8 }, key.privateKeyPem);
    expect((await store.updatePolicy(v8)).policy.version).toBe(8);
    const v7 = signPolicy(samplePolicy(), key.privateKeyPem);
    await expect(store.updatePolicy(v7)).rejects.toThrow(/no rollback/);
    const foreign = signPolicy({ ...samplePolicy(), version: 9 }, generateTeamKey().privateKeyPem);
    await expect(store.updatePolicy(foreign)).rejects.toThrow(UserError);
    expect(store.load()?.policy.version).toBe(8);
  });
});

describe('TeamStore cleanup paths', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'devtunnel-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('load({ verify: false }) reads what logout needs even from a tampered file', async () => {
    const store = new TeamStore({ cwd: dir });
    expect(store.load({ verify: false })).toBeUndefined();
    await store.save(login());
    writeFileSync(store.path, readFileSync(store.path, 'utf8').replace('"acme.com"', '"evil.com"'));
    const fresh = new TeamStore({ cwd: dir });
    expect(() => fresh.load()).toThrow(UserError);
    expect(fresh.load({ verify: false })).toEqual({ teamId: 'acme', secretNames: ['okta'], webhookProviders: ['github', 'stripe'] });
    await fresh.clear();
    expect(new TeamStore({ cwd: dir }).load()).toBeUndefined();
  });

  it('clear() works on a file that is not JSON', async () => {
    const store = new TeamStore({ cwd: dir });
    await store.save(login());
    const path = store.path;
    writeFileSync(path, '{not json');
    const fresh = new TeamStore({ cwd: dir });
    expect(fresh.load({ verify: false })).toBeUndefined();
    expect(() => fresh.load()).toThrow(expect.objectContaining({ code: 'team_store_invalid' }));
    await fresh.clear();
    expect(new TeamStore({ cwd: dir }).load()).toBeUndefined();
  });

  it('cross-checks optional fingerprint and label', async () => {
    const store = new TeamStore({ cwd: dir });
    await expect(store.save(login({ keyFingerprint: generateTeamKey().fingerprint }))).rejects.toThrow(TypeError);
    await expect(store.save(login({ userLabel: 'bob' }))).rejects.toThrow(TypeError);
    expect((await store.save(login({ keyFingerprint: key.fingerprint, userLabel: 'alice' }))).userLabel).toBe('alice');
  });
});
