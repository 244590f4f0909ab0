/**
 * Family G: no signature, a shared token in a header (GitLab `X-Gitlab-Token`, as ngrok's own
 * example checks) or HTTP Basic credentials (VMware Workspace ONE, secret `user::password`).
 * Compared in constant time. Nothing about the request is signed, so there is no replay
 * protection to give: whoever has seen one request can send more, as with the real provider.
 */
import { createHash } from 'node:crypto';
import { bytesEqual, fail, header, missing, pass, type SchemeVerdict, type SchemeVerifier, type WebhookRequest } from './scheme.js';

/** Equal-length digests, so the comparison time says nothing about the token's length either. */
const sameSecret = (a: string, b: string) =>
  bytesEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

function verifyGitlab(secret: string, request: WebhookRequest): SchemeVerdict {
  const token = header(request, 'x-gitlab-token');
  if (token === undefined) return fail(missing('X-Gitlab-Token'));
  if (!sameSecret(token, secret)) return fail('X-Gitlab-Token does not match the configured secret token');
  return pass('', 0);
}

function verifyVmware(secret: string, request: WebhookRequest): SchemeVerdict {
  const auth = header(request, 'authorization');
  if (auth === undefined) return fail(missing('Authorization'));
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth.trim());
  if (!match) return fail('Authorization header is not HTTP Basic credentials');
  const [user, ...rest] = secret.split('::');
  const expected = `${user ?? ''}:${rest.join('::')}`;
  if (!sameSecret(Buffer.from(match[1]!, 'base64').toString('utf8'), expected)) return fail('Basic credentials do not match the configured username::password');
  return pass('', 0);
}

export const gitlabVerifier: SchemeVerifier = {
  describe: 'X-Gitlab-Token equal to the secret token (no signature, so no replay protection)',
  verify: verifyGitlab,
};
export const vmwareVerifier: SchemeVerifier = {
  describe: 'Authorization: Basic credentials equal to the secret "username::password" (no signature)',
  verify: verifyVmware,
};
