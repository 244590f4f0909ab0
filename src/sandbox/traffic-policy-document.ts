/**
 * Check of a Traffic Policy document sent with a Bind (`Opts.TrafficPolicy`, JSON or YAML
 * text): its shape here, then each action against what the sandbox enforces
 * (policy/validate.ts: known actions per phase, configs, CIDRs, CEL). Enforcement happens
 * in the public ingress through the `beforeForward` hook (policy/enforcer.ts).
 */
import { parse } from 'yaml';
import { PolicyValidationError, validatePolicyActions } from './policy/validate.js';

export const POLICY_PHASES = ['on_tcp_connect', 'on_http_request', 'on_http_response'] as const;
export type PolicyPhase = (typeof POLICY_PHASES)[number];

export interface PolicyAction {
  type: string;
  config?: Record<string, unknown>;
}
export interface PolicyRule {
  name?: string;
  expressions?: string[];
  actions: PolicyAction[];
}
export type TrafficPolicyDocument = Partial<Record<PolicyPhase, PolicyRule[]>>;

export class TrafficPolicyError extends Error {
  override name = 'TrafficPolicyError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse and check a policy; throws TrafficPolicyError saying what is wrong. */
export function parseTrafficPolicy(text: string): TrafficPolicyDocument {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new TrafficPolicyError(`traffic policy is not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isObject(doc)) throw new TrafficPolicyError('traffic policy must be a map of phases (on_tcp_connect, on_http_request, on_http_response)');
  for (const [phase, rules] of Object.entries(doc)) {
    if (!(POLICY_PHASES as readonly string[]).includes(phase)) {
      throw new TrafficPolicyError(`traffic policy has unknown phase "${phase}"; allowed: ${POLICY_PHASES.join(', ')}`);
    }
    if (rules === null) continue;
    if (!Array.isArray(rules)) throw new TrafficPolicyError(`traffic policy phase "${phase}" must be a list of rules`);
    rules.forEach((rule, i) => checkRule(rule, `${phase}[${i}]`));
  }
  try {
    validatePolicyActions(doc as TrafficPolicyDocument);
  } catch (err) {
    if (err instanceof PolicyValidationError) throw new TrafficPolicyError(err.message);
    throw err;
  }
  return doc as TrafficPolicyDocument;
}

function checkRule(rule: unknown, where: string): void {
  if (!isObject(rule)) throw new TrafficPolicyError(`traffic policy rule ${where} must be a map`);
  for (const key of Object.keys(rule)) {
    if (!['name', 'expressions', 'actions'].includes(key)) {
      throw new TrafficPolicyError(`traffic policy rule ${where} has unknown field "${key}"`);
    }
  }
  if (rule.name !== undefined && typeof rule.name !== 'string') throw new TrafficPolicyError(`traffic policy rule ${where}: "name" must be a string`);
  if (rule.expressions !== undefined && (!Array.isArray(rule.expressions) || !rule.expressions.every((e) => typeof e === 'string'))) {
    throw new TrafficPolicyError(`traffic policy rule ${where}: "expressions" must be a list of strings`);
  }
  if (!Array.isArray(rule.actions) || rule.actions.length === 0) {
    throw new TrafficPolicyError(`traffic policy rule ${where}: "actions" must be a non-empty list`);
  }
  rule.actions.forEach((action, j) => {
    if (!isObject(action) || typeof action.type !== 'string' || action.type.length === 0) {
      throw new TrafficPolicyError(`traffic policy rule ${where}.actions[${j}] must have a string "type"`);
    }
    if (action.config !== undefined && action.config !== null && !isObject(action.config)) {
      throw new TrafficPolicyError(`traffic policy rule ${where}.actions[${j}]: "config" must be a map`);
    }
  });
}
