import { afterEach, describe, expect, it } from 'vitest';
import { missingKeyringPackages, startPrivateKeyring } from '../../support/keyring-session.js';

describe('startPrivateKeyring', () => {
  const savedPath = process.env.PATH;
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('names the Debian packages to install when its tools are missing', async () => {
    process.env.PATH = '/nonexistent-devtunnel-test-path';
    expect(missingKeyringPackages().join(', ')).toMatch(/gnome-keyring.*/);
    await expect(startPrivateKeyring()).rejects.toThrow(/dbus-daemon \(Debian: dbus-daemon \(or dbus\)\).*gnome-keyring-daemon \(Debian: gnome-keyring\)/);
  });
});
