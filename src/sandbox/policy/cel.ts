/**
 * CEL for the sandbox's Traffic Policy engine, on @bufbuild/cel (traffic-policy.md §3.5):
 * expressions are parsed once per endpoint policy and planned per request in an environment
 * whose ngrok-specific functions (getReqHeader, …) see that request.
 */
import { CelScalar, celEnv, celFunc, celMethod, isCelError, isCelList, isCelMap, listType, parse, plan, type CelEnv, type CelInput, type CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { inCidr, parseCidr } from './cidr.js';

export type ParsedExpression = ReturnType<typeof parse>;

/** A parsed expression and its source text. */
export interface CompiledExpression {
  source: string;
  ast: ParsedExpression;
}

/** A CEL expression failed at request time (missing variable, wrong type, …): the edge fails closed. */
export class PolicyRuntimeError extends Error {
  override name = 'PolicyRuntimeError';
}

/** Parse once; throws an Error with the parser's message when the expression is not CEL. */
export function compileExpression(source: string): CompiledExpression {
  try {
    return { source, ast: parse(source) };
  } catch (err) {
    throw new Error(`invalid CEL expression ${JSON.stringify(source)}: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** What the request-scoped functions read. Header and query maps have lower-case / exact keys and list values. */
export interface CelRequestScope {
  headers: Record<string, string[]>;
  queryParams: Record<string, string[]>;
  responseHeaders?: Record<string, string[]>;
}

const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'].map((c) => parseCidr(c)!);
const STRING_LIST = listType(CelScalar.STRING);

const staticFuncs = [
  ...strings,
  celFunc('inCidrRange', [CelScalar.STRING, CelScalar.STRING], CelScalar.BOOL, (ip, cidr) => {
    const parsed = parseCidr(cidr);
    return parsed !== undefined && inCidr(ip, parsed);
  }),
  celFunc('inCidrRanges', [CelScalar.STRING, STRING_LIST], CelScalar.BOOL, (ip, cidrs) => {
    for (const c of cidrs) {
      const parsed = typeof c === 'string' ? parseCidr(c) : undefined;
      if (parsed && inCidr(ip, parsed)) return true;
    }
    return false;
  }),
  celMethod('lower', CelScalar.STRING, [], CelScalar.STRING, function (this: string) {
    return this.toLowerCase();
  }),
  celMethod('upper', CelScalar.STRING, [], CelScalar.STRING, function (this: string) {
    return this.toUpperCase();
  }),
  celMethod('isPrivateIp', CelScalar.STRING, [], CelScalar.BOOL, function (this: string) {
    const ip: string = String(this);
    return PRIVATE_RANGES.some((r) => inCidr(ip, r));
  }),
];

/** The environment for one request (or one response): static functions plus ones bound to it. */
export function requestEnv(scope: CelRequestScope): CelEnv {
  const lookup = (map: Record<string, string[]> | undefined, name: string, fold: boolean) => (map ? (Object.hasOwn(map, fold ? name.toLowerCase() : name) ? map[fold ? name.toLowerCase() : name]! : []) : []);
  return celEnv({
    funcs: [
      ...staticFuncs,
      celFunc('getReqHeader', [CelScalar.STRING], STRING_LIST, (name) => lookup(scope.headers, name, true)),
      celFunc('hasReqHeader', [CelScalar.STRING], CelScalar.BOOL, (name) => lookup(scope.headers, name, true).length > 0),
      celFunc('getQueryParam', [CelScalar.STRING], STRING_LIST, (name) => lookup(scope.queryParams, name, false)),
      celFunc('hasQueryParam', [CelScalar.STRING], CelScalar.BOOL, (name) => lookup(scope.queryParams, name, false).length > 0),
      celFunc('getResHeader', [CelScalar.STRING], STRING_LIST, (name) => lookup(scope.responseHeaders, name, true)),
      celFunc('hasResHeader', [CelScalar.STRING], CelScalar.BOOL, (name) => lookup(scope.responseHeaders, name, true).length > 0),
    ],
  });
}

/** Evaluate; a CEL error becomes a PolicyRuntimeError (never a silent false). */
export function evaluate(env: CelEnv, expr: CompiledExpression, vars: Record<string, CelInput>): CelValue {
  let result: unknown;
  try {
    result = plan(env, expr.ast)(vars);
  } catch (err) {
    throw new PolicyRuntimeError(`${expr.source}: ${(err as Error).message}`);
  }
  if (isCelError(result)) throw new PolicyRuntimeError(`${expr.source}: ${result.message}`);
  return result as CelValue;
}

/** Evaluate a rule expression, which must give a bool. */
export function evaluateCondition(env: CelEnv, expr: CompiledExpression, vars: Record<string, CelInput>): boolean {
  const value = evaluate(env, expr, vars);
  if (typeof value !== 'boolean') throw new PolicyRuntimeError(`${expr.source}: expected a bool, got ${describeValue(value)}`);
  return value;
}

/** A CEL value as text for interpolation: strings as-is, numbers and bools in CEL's spelling, lists/maps as JSON. */
export function celToString(value: CelValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  return JSON.stringify(toPlain(value));
}

function toPlain(value: unknown): unknown {
  if (isCelList(value)) return [...value].map(toPlain);
  if (isCelMap(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = toPlain(v);
    return out;
  }
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value !== null && typeof value === 'object' && 'value' in value) return String((value as { value: unknown }).value);
  return value;
}

function describeValue(value: CelValue): string {
  if (isCelList(value)) return 'a list';
  if (isCelMap(value)) return 'a map';
  return typeof value;
}
