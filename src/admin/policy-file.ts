/**
 * The admin's policy YAML: parse it keeping source positions (yaml's Document + LineCounter), run
 * the team-policy schema and the admin-side rules, and report every problem with its line number,
 * e.g. `policy.yaml:14:9 profiles.sso.ip.allow[1]: "10.0.0.0/33" is not a CIDR`.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { canonicalJson } from '../team/canonical-json.js';
import { tryParseDuration } from '../team/duration.js';
import { formatPath, teamPolicySchema, type TeamPolicy } from '../team/policy-schema.js';
import { ExitCode, UserError, usageError } from '../errors.js';

/** One problem, with where it is. `line`/`column` are 1-based; absent when the file gives no position. */
export interface PolicyProblem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface PolicyCheckContext {
  /** The admin's team id: the policy must be for it. */
  teamId?: string;
  /** The policy signed last; the new one must have a higher version (or be identical). */
  previous?: TeamPolicy;
}

export type PolicyFileResult = { ok: true; policy: TeamPolicy; problems: [] } | { ok: false; problems: PolicyProblem[] };

/** Longest tunnel lifetime an admin may allow: a dev tunnel that outlives a working day is a forgotten one. */
export const MAX_TTL_CEILING_MS = 24 * 3_600_000;

/** Read and check a policy YAML file. Throws a usage error only when the file cannot be read. */
export function checkPolicyFile(file: string, context: PolicyCheckContext = {}): PolicyFileResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw usageError('policy_file_unreadable', `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
  return checkPolicyText(text, context);
}

/** {@link checkPolicyFile} for YAML text. */
export function checkPolicyText(text: string, context: PolicyCheckContext = {}): PolicyFileResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({ path: '(yaml)', message: e.message.split('\n')[0] ?? e.message, ...at(e.pos[0]) })),
    };
  }
  const input: unknown = doc.toJS();
  const problems: PolicyProblem[] = [];
  const result = teamPolicySchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = [...issue.path];
      let message: string;
      let offset: number | undefined;
      if (issue.code === 'unrecognized_keys') {
        message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
        offset = keyOffset(doc, path, issue.keys[0] ?? '') ?? nodeOffset(doc, path);
      } else {
        if (issue.code !== 'custom' && valueAt(input, path) === undefined) message = 'is required';
        else if (issue.code === 'invalid_type') message = `must be ${issue.expected === 'object' || issue.expected === 'array' ? 'an' : 'a'} ${issue.expected}`;
        else message = issue.message;
        offset = nodeOffset(doc, path);
      }
      problems.push({ path: formatPath(path), message, ...at(offset) });
    }
  }
  // Admin-side rules, on whatever parsed.
  const record = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  const limits = record['limits'] as Record<string, unknown> | undefined;
  const maxTtl = typeof limits?.['max_ttl'] === 'string' ? tryParseDuration(limits['max_ttl']) : undefined;
  if (maxTtl !== undefined && maxTtl > MAX_TTL_CEILING_MS) {
    problems.push({ path: 'limits.max_ttl', message: `${String(limits?.['max_ttl'])} is longer than 24h; dev tunnels should not outlive a day`, ...at(nodeOffset(doc, ['limits', 'max_ttl'])) });
  }
  const team = record['team'] as Record<string, unknown> | undefined;
  if (context.teamId !== undefined && typeof team?.['id'] === 'string' && team['id'] !== context.teamId) {
    problems.push({ path: 'team.id', message: `is "${team['id']}", but you administer team "${context.teamId}"`, ...at(nodeOffset(doc, ['team', 'id'])) });
  }
  if (context.previous !== undefined && typeof record['version'] === 'number') {
    const version = record['version'];
    const prev = context.previous.version;
    const same = result.success && canonicalJson(result.data) === canonicalJson(context.previous);
    if (version < prev || (version === prev && !same)) {
      problems.push({
        path: 'version',
        message: `must be higher than ${prev}, the version signed last (developers refuse a lower or reused version)`,
        ...at(nodeOffset(doc, ['version'])),
      });
    }
  }
  const unique = dedupe(problems).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (unique.length > 0 || !result.success) return { ok: false, problems: unique };
  return { ok: true, policy: result.data, problems: [] };
}

/** `file:line:col path: message`, one per problem. */
export function formatProblems(file: string, problems: readonly PolicyProblem[]): string[] {
  return problems.map((p) => `${file}${p.line === undefined ? '' : `:${p.line}${p.column === undefined ? '' : `:${p.column}`}`} ${p.path}: ${p.message}`);
}

/** The usage error (exit 2) `admin policy validate/sign` fail with. */
export function policyFileInvalid(file: string, problems: readonly PolicyProblem[]): UserError {
  const lines = formatProblems(file, problems);
  return new UserError(`${file} is not a valid team policy (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`, {
    exitCode: ExitCode.usage,
    code: 'policy_invalid',
    suggestions: ['Fix the lines named above, then run `devtunnel admin policy validate` again.'],
  });
}

function nodeOffset(doc: Document, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined = rangeStart(node);
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) return best;
      const keyStart = rangeStart(pair.key);
      node = pair.value;
      best = rangeStart(node) ?? keyStart ?? best;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key];
      if (item === undefined) return best;
      node = item;
      best = rangeStart(node) ?? best;
    } else {
      return best;
    }
  }
  return best;
}

function keyOffset(doc: Document, path: readonly PropertyKey[], key: string): number | undefined {
  const parent = doc.getIn(path as unknown[], true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return pair ? rangeStart(pair.key) : undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function dedupe(problems: PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}:${p.path}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
