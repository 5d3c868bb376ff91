import { invalidArgument } from '../errors/codes.js';
import { compileWildcard } from './wildcard.js';

// The IAM-style policy documents access keys carry. The subset IAM users write for a service like this one:
// Version, Statement (one or a list), each with Sid, Effect, Action/NotAction, Resource/NotResource. Conditions
// and principals are refused with a clear message rather than ignored, so a policy never grants more than it says.

export const POLICY_VERSION = '2012-10-17';
/** IAM's own limit on an inline policy (6 144 characters for a user policy); generous to allow templates. */
export const MAX_POLICY_DOCUMENT_CHARS = 10_240;
export const MAX_STATEMENTS = 100;

export type Effect = 'Allow' | 'Deny';

export type Statement = {
  sid: string | null;
  effect: Effect;
  /** Exactly one of actions / notActions is set. */
  actions: readonly string[] | null;
  notActions: readonly string[] | null;
  resources: readonly string[] | null;
  notResources: readonly string[] | null;
};

export type CompiledStatement = {
  effect: Effect;
  matchesAction(action: string): boolean;
  matchesResource(resource: string): boolean;
};

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource']);

/** Parse and check a policy document (JSON text or an already parsed value); throws InvalidArgumentException. */
export function parsePolicyDocument(doc: unknown): Statement[] {
  let value = doc;
  if (typeof doc === 'string') {
    if (doc.length > MAX_POLICY_DOCUMENT_CHARS) {
      throw malformed(`the document is longer than ${MAX_POLICY_DOCUMENT_CHARS} characters`);
    }
    try {
      value = JSON.parse(doc) as unknown;
    } catch {
      throw malformed('the document is not valid JSON');
    }
  }
  if (!isObject(value)) {
    throw malformed('the document must be a JSON object');
  }
  for (const key of Object.keys(value)) {
    if (key !== 'Version' && key !== 'Statement' && key !== 'Id') {
      throw malformed(`unsupported top-level element ${key}`);
    }
  }
  if (value['Version'] !== undefined && value['Version'] !== POLICY_VERSION && value['Version'] !== '2008-10-17') {
    throw malformed(`Version must be ${POLICY_VERSION}`);
  }
  const raw = value['Statement'];
  const list = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  if (list.length === 0) {
    throw malformed('Statement is required');
  }
  if (list.length > MAX_STATEMENTS) {
    throw malformed(`more than ${MAX_STATEMENTS} statements`);
  }
  return list.map((s, i) => parseStatement(s, i));
}

function parseStatement(s: unknown, index: number): Statement {
  const where = `Statement[${index}]`;
  if (!isObject(s)) {
    throw malformed(`${where} must be an object`);
  }
  for (const key of Object.keys(s)) {
    if (!STATEMENT_KEYS.has(key)) {
      throw malformed(`${where}: ${key} is not supported (openkvs policies have no Condition or Principal)`);
    }
  }
  const effect = s['Effect'];
  if (effect !== 'Allow' && effect !== 'Deny') {
    throw malformed(`${where}: Effect must be Allow or Deny`);
  }
  const actions = stringList(s['Action'], `${where}.Action`);
  const notActions = stringList(s['NotAction'], `${where}.NotAction`);
  if ((actions === null) === (notActions === null)) {
    throw malformed(`${where} needs exactly one of Action and NotAction`);
  }
  const resources = stringList(s['Resource'], `${where}.Resource`);
  const notResources = stringList(s['NotResource'], `${where}.NotResource`);
  if ((resources === null) === (notResources === null)) {
    throw malformed(`${where} needs exactly one of Resource and NotResource`);
  }
  for (const a of [...(actions ?? []), ...(notActions ?? [])]) {
    if (a !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(a)) {
      throw malformed(`${where}: action ${JSON.stringify(a)} must look like kinesisvideo:GetMedia (wildcards * and ? allowed)`);
    }
  }
  for (const r of [...(resources ?? []), ...(notResources ?? [])]) {
    if (r !== '*' && !r.startsWith('arn:')) {
      throw malformed(`${where}: resource ${JSON.stringify(r)} must be * or an ARN`);
    }
  }
  const sid = s['Sid'];
  if (sid !== undefined && typeof sid !== 'string') {
    throw malformed(`${where}.Sid must be a string`);
  }
  return { sid: sid ?? null, effect, actions, notActions, resources, notResources };
}

export function compileStatement(s: Statement): CompiledStatement {
  const anyOf = (patterns: readonly string[], ci: boolean): ((v: string) => boolean) => {
    const tests = patterns.map((p) => compileWildcard(p, ci));
    return (v) => tests.some((t) => t(v));
  };
  const action = s.actions !== null ? anyOf(s.actions, true) : negate(anyOf(s.notActions ?? [], true));
  const resource = s.resources !== null ? anyOf(s.resources, false) : negate(anyOf(s.notResources ?? [], false));
  return { effect: s.effect, matchesAction: action, matchesResource: resource };
}

const negate =
  (f: (v: string) => boolean): ((v: string) => boolean) =>
  (v) =>
    !f(v);

function stringList(v: unknown, where: string): string[] | null {
  if (v === undefined) {
    return null;
  }
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 2048)) {
    throw malformed(`${where} must be a non-empty string or list of strings`);
  }
  return list as string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const malformed = (why: string) => invalidArgument(`MalformedPolicyDocument: ${why}.`);
