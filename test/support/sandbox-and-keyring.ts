// The usual e2e stage: an in-process sandbox edge and a private Secret Service, started before
// the file's tests and stopped after them. Call at the top level of a test file.
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/sandbox.js';
import { startPrivateKeyring, type PrivateKeyring } from './keyring-session.js';

export function useSandboxAndKeyring(): { readonly sandbox: RunningSandbox; readonly keyring: PrivateKeyring } {
  const stage = {} as { sandbox: RunningSandbox; keyring: PrivateKeyring };
  beforeAll(async () => {
    stage.keyring = await startPrivateKeyring();
    stage.sandbox = await startSandbox({ stateDir: mkdtempSync(path.join(tmpdir(), 'devtunnel-sbx-')) });
  });
  afterAll(async () => {
    await stage.sandbox?.close();
    await stage.keyring?.stop();
  });
  return stage;
}
