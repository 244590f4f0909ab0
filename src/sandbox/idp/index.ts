/** The sandbox's stub identity provider and the browser-less sign-in helper for scripts. */
export { StubIdp, EDGE_CALLBACK_PATH, DEFAULT_QUICK_PICKS, type StubIdpClient, type StubIdpOptions, type TokenSet } from './stub-idp.js';
export { signInWithStubIdp, type SignInOptions, type SignInResult } from './sign-in.js';
