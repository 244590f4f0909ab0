/**
 * Bind-time checks of the actions in a Traffic Policy, like the cloud's (traffic-policy.md §5.2):
 * a policy the sandbox accepts is one it can enforce completely. Every problem is reported with
 * the ngrok validation code it corresponds to; the agent ingress wraps it in ERR_NGROK_9026.
 */
import { findWebhookProvider } from '../../profiles/webhook-providers.js';
import type { PolicyAction, PolicyPhase, TrafficPolicyDocument } from '../traffic-policy-document.js';
import { AUTH_ACTIONS, MANAGED_OAUTH_PROVIDERS, OAUTH_PROVIDERS, SUPPORTED_ACTIONS, TERMINATING_ACTIONS, UNEMULATED_ACTIONS } from './actions.js';
import { compileExpression } from './cel.js';
import { parseCidr } from './cidr.js';
import { hasTemplate, splitTemplate } from './template.js';

export class PolicyValidationError extends Error {
  override name = 'PolicyValidationError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Throws PolicyValidationError describing the first problem. */
export function validatePolicyActions(doc: TrafficPolicyDocument): void {
  let authActions = 0;
  for (const phase of Object.keys(doc) as PolicyPhase[]) {
    const rules = doc[phase] ?? [];
    rules.forEach((rule, i) => {
      const where = `${phase}[${i}]${rule.name ? ` ("${rule.name}")` : ''}`;
      for (const expr of rule.expressions ?? []) {
        try {
          compileExpression(expr);
        } catch (err) {
          fail(`rule ${where}: ${(err as Error).message} (ERR_NGROK_2200)`);
        }
      }
      let terminated: string | undefined;
      rule.actions.forEach((action, j) => {
        const at = `rule ${where} action ${j} (${action.type})`;
        if (terminated) fail(`${at} is unreachable after the terminating action ${terminated} (ERR_NGROK_2207)`);
        checkActionType(action.type, phase, at);
        if (AUTH_ACTIONS.has(action.type) && ++authActions > 1) fail(`${at}: only one auth action is allowed per endpoint (ERR_NGROK_2239)`);
        checkConfig(action, at);
        if (TERMINATING_ACTIONS.has(action.type)) terminated = action.type;
      });
    });
  }
}

function fail(message: string): never {
  throw new PolicyValidationError(message);
}

function checkActionType(type: string, phase: PolicyPhase, at: string): void {
  if (SUPPORTED_ACTIONS[phase].includes(type)) return;
  if (Object.values(SUPPORTED_ACTIONS).some((list) => list.includes(type))) fail(`${at}: action "${type}" is not allowed in phase ${phase} (ERR_NGROK_2202)`);
  if (UNEMULATED_ACTIONS.includes(type)) fail(`${at}: action "${type}" is not supported by the devtunnel sandbox edge (ERR_NGROK_2201)`);
  fail(`${at}: unknown action type "${type}" (ERR_NGROK_2201)`);
}

function checkConfig(action: PolicyAction, at: string): void {
  const c = action.config ?? {};
  const str = (key: string, required: boolean): string | undefined => {
    const v = c[key];
    if (v === undefined || v === null || v === '') {
      if (required) fail(`${at}: config.${key} is required (ERR_NGROK_2204)`);
      return undefined;
    }
    if (typeof v !== 'string') fail(`${at}: config.${key} must be a string (ERR_NGROK_2203)`);
    template(v, `${at}: config.${key}`);
    return v;
  };
  const bool = (key: string) => {
    if (c[key] !== undefined && typeof c[key] !== 'boolean') fail(`${at}: config.${key} must be true or false (ERR_NGROK_2203)`);
  };
  const status = (key: string) => {
    const v = c[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 100 || v > 599) fail(`${at}: config.${key} must be an HTTP status code (ERR_NGROK_2204)`);
  };
  const stringList = (key: string): string[] | undefined => {
    const v = c[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(`${at}: config.${key} must be a list of strings (ERR_NGROK_2203)`);
    return v as string[];
  };
  const headerMap = (key: string, required: boolean) => {
    const v = c[key];
    if (v === undefined && !required) return;
    if (!isObject(v)) fail(`${at}: config.${key} must be a map of header names to values (ERR_NGROK_2203)`);
    const entries = Object.entries(v);
    if (required && entries.length === 0) fail(`${at}: config.${key} needs at least one header (ERR_NGROK_2204)`);
    if (entries.length > 10) fail(`${at}: config.${key} has more than 10 headers (ERR_NGROK_2204)`);
    for (const [name, value] of entries) {
      if (!HEADER_NAME.test(name)) fail(`${at}: "${name}" is not a valid header name (ERR_NGROK_2204)`);
      if (typeof value !== 'string') fail(`${at}: the value of header "${name}" must be a string (ERR_NGROK_2203)`);
      template(value, `${at}: header "${name}"`);
    }
  };

  switch (action.type) {
    case 'oauth': {
      const provider = str('provider', true)!;
      if (!OAUTH_PROVIDERS.includes(provider)) fail(`${at}: unsupported OAuth provider "${provider}"; one of ${OAUTH_PROVIDERS.join(', ')} (ERR_NGROK_2204)`);
      const id = str('client_id', false);
      const secret = str('client_secret', false);
      if ((id === undefined) !== (secret === undefined)) fail(`${at}: give both client_id and client_secret, or neither (ERR_NGROK_2204)`);
      if (id === undefined && !MANAGED_OAUTH_PROVIDERS.has(provider)) fail(`${at}: provider "${provider}" needs your own client_id and client_secret (ERR_NGROK_5535)`);
      if (stringList('scopes')?.length && id === undefined) fail(`${at}: custom scopes need your own OAuth app (client_id and client_secret) (ERR_NGROK_2204)`);
      bool('allow_cors_preflight');
      break;
    }
    case 'openid-connect': {
      const issuer = str('issuer_url', true)!;
      if (!hasTemplate(issuer) && !/^https?:\/\/[^/]/.test(issuer)) fail(`${at}: config.issuer_url must be an http(s) URL (ERR_NGROK_2227)`);
      str('client_id', true);
      str('client_secret', true);
      stringList('scopes');
      bool('allow_cors_preflight');
      break;
    }
    case 'verify-webhook': {
      const provider = str('provider', true)!;
      const known = findWebhookProvider(provider);
      if (!known) fail(`${at}: unsupported webhook provider "${provider}" (ERR_NGROK_2204)`);
      str('secret', known.needsSecret);
      bool('enforce');
      break;
    }
    case 'restrict-ips': {
      bool('enforce');
      if (c['ip_policies'] !== undefined) fail(`${at}: config.ip_policies refers to account IP policies, which the sandbox edge does not have; list CIDRs in allow/deny (ERR_NGROK_2216)`);
      const allow = stringList('allow') ?? [];
      const deny = stringList('deny') ?? [];
      if (allow.length === 0 && deny.length === 0) fail(`${at}: config.allow or config.deny needs at least one CIDR (ERR_NGROK_2204)`);
      if (allow.length === 0) fail(`${at}: deny CIDRs without any allow CIDR deny everyone; add allow 0.0.0.0/0 and ::/0 (ERR_NGROK_393)`);
      for (const cidr of [...allow, ...deny]) {
        if (hasTemplate(cidr)) template(cidr, `${at}: CIDR`);
        else if (!parseCidr(cidr)) fail(`${at}: "${cidr}" is not a valid CIDR (ERR_NGROK_2217)`);
      }
      break;
    }
    case 'deny':
      status('status_code');
      break;
    case 'custom-response':
      status('status_code');
      str('body', false);
      str('content', false);
      headerMap('headers', false);
      break;
    case 'add-headers':
      headerMap('headers', true);
      for (const name of Object.keys(c['headers'] as Record<string, unknown>)) {
        const lower = name.toLowerCase();
        if (lower === 'user-agent' || lower === 'ngrok-skip-browser-warning') fail(`${at}: header "${name}" cannot be added (ERR_NGROK_2204)`);
      }
      break;
    case 'remove-headers': {
      const names = stringList('headers');
      if (!names || names.length === 0 || names.length > 10) fail(`${at}: config.headers must list 1 to 10 header names (ERR_NGROK_2204)`);
      for (const name of names) {
        if (!HEADER_NAME.test(name)) fail(`${at}: "${name}" is not a valid header name (ERR_NGROK_2204)`);
        if (name.toLowerCase() === 'user-agent') fail(`${at}: header "${name}" cannot be removed (ERR_NGROK_2204)`);
      }
      break;
    }
  }
}

function template(value: string, where: string): void {
  if (!hasTemplate(value)) return;
  try {
    for (const part of splitTemplate(value)) if ('expr' in part) compileExpression(part.expr);
  } catch (err) {
    fail(`${where}: ${(err as Error).message} (ERR_NGROK_2224)`);
  }
}
