import { invalidArgument } from '../errors/codes.js';

// Server-side validation of modelled request members. The SDKs validate nothing beyond `required`, so every
// length, pattern, range and enum constraint of the model is checked here (kvs-api.md §1.2).

export type StrRule = { required?: boolean; min?: number; max?: number; pattern?: RegExp };
export type IntRule = { required?: boolean; min?: number; max?: number };

// Names: KVS's [a-zA-Z0-9_.-]+ except "." and "..", which KVS accepts but which would be path segments where a
// name becomes part of a path (image files under <dir>/<StreamName>/…, S3 keys): refused everywhere instead.
export const PATTERNS = {
  name: /^(?!\.\.?$)[a-zA-Z0-9_.-]+$/,
  arn: /^arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+\/(?!\.\.?\/)[a-zA-Z0-9_.-]+\/[0-9]+$/,
  mediaType: /^[\w\-.+]+\/[\w\-.+]+(,[\w\-.+]+\/[\w\-.+]+)*$/,
  version: /^[a-zA-Z0-9]+$/,
  nextToken: /^[a-zA-Z0-9+/=]*$/,
  kmsKeyId: /^.+$/s,
  tagKey: /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u,
  tagValue: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
} as const;

/** A view over one JSON object of the request, with its path for error messages. */
export class Input {
  readonly #obj: Record<string, unknown>;
  readonly #path: string;

  constructor(value: unknown, path = '') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalidArgument(`${path || 'The request body'} must be a JSON object.`);
    }
    this.#obj = value as Record<string, unknown>;
    this.#path = path;
  }

  /** Whether a member is present (null counts as absent, as both SDKs drop nulls). */
  has(key: string): boolean {
    return this.#obj[key] !== undefined && this.#obj[key] !== null;
  }

  str(key: string, rule: StrRule & { required: true }): string;
  str(key: string, rule?: StrRule): string | undefined;
  str(key: string, rule: StrRule = {}): string | undefined {
    const v = this.#get(key, rule.required);
    if (v === undefined) {
      return undefined;
    }
    if (typeof v !== 'string') {
      throw invalidArgument(`${this.#name(key)} must be a string.`);
    }
    checkString(v, this.#name(key), rule);
    return v;
  }

  int(key: string, rule: IntRule & { required: true }): number;
  int(key: string, rule?: IntRule): number | undefined;
  int(key: string, rule: IntRule = {}): number | undefined {
    const v = this.#get(key, rule.required);
    if (v === undefined) {
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw invalidArgument(`${this.#name(key)} must be an integer.`);
    }
    if ((rule.min !== undefined && v < rule.min) || (rule.max !== undefined && v > rule.max)) {
      throw violation(this.#name(key), v, `Member must have value ${rangeText(rule.min, rule.max)}`);
    }
    return v;
  }

  /** A finite JSON number (fractions allowed). */
  num(key: string, rule: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = this.#get(key, rule.required);
    if (v === undefined) {
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw invalidArgument(`${this.#name(key)} must be a number.`);
    }
    if ((rule.min !== undefined && v < rule.min) || (rule.max !== undefined && v > rule.max)) {
      throw violation(this.#name(key), v, `Member must have value ${rangeText(rule.min, rule.max)}`);
    }
    return v;
  }

  enumOf<T extends string>(key: string, values: readonly T[], rule: { required: true }): T;
  enumOf<T extends string>(key: string, values: readonly T[], rule?: { required?: boolean }): T | undefined;
  enumOf<T extends string>(key: string, values: readonly T[], rule: { required?: boolean } = {}): T | undefined {
    const v = this.#get(key, rule.required);
    if (v === undefined) {
      return undefined;
    }
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw violation(this.#name(key), v, `Member must satisfy enum value set: [${values.join(', ')}]`);
    }
    return v as T;
  }

  obj(key: string, rule: { required: true }): Input;
  obj(key: string, rule?: { required?: boolean }): Input | undefined;
  obj(key: string, rule: { required?: boolean } = {}): Input | undefined {
    const v = this.#get(key, rule.required);
    return v === undefined ? undefined : new Input(v, this.#name(key));
  }

  /** A timestamp member: epoch seconds as a JSON number (ints from the CLI, fractions from JS); returns epoch ms. */
  timestamp(key: string, rule: { required?: boolean } = {}): number | undefined {
    const v = this.#get(key, rule.required);
    if (v === undefined) {
      return undefined;
    }
    const n = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
      throw invalidArgument(`${this.#name(key)} must be a timestamp in epoch seconds.`);
    }
    return Math.round(n * 1000);
  }

  /** An object member passed through unvalidated (its owner validates it). */
  rawObject(key: string): Record<string, unknown> | undefined {
    const v = this.#get(key, false);
    if (v === undefined) {
      return undefined;
    }
    if (typeof v !== 'object' || Array.isArray(v) || v === null) {
      throw invalidArgument(`${this.#name(key)} must be an object.`);
    }
    return v as Record<string, unknown>;
  }

  /** A JSON array of strings. */
  strList(key: string, rule: { required?: boolean; minItems?: number; maxItems?: number; item?: StrRule } = {}): string[] | undefined {
    const v = this.#get(key, rule.required);
    if (v === undefined) {
      return undefined;
    }
    if (!Array.isArray(v)) {
      throw invalidArgument(`${this.#name(key)} must be a list.`);
    }
    checkCount(this.#name(key), v.length, rule.minItems, rule.maxItems);
    return v.map((item, i) => {
      if (typeof item !== 'string') {
        throw invalidArgument(`${this.#name(key)}[${i}] must be a string.`);
      }
      checkString(item, `${this.#name(key)}[${i}]`, rule.item ?? {});
      return item;
    });
  }

  /** A JSON array of objects. */
  objList(key: string, rule: { required?: boolean; minItems?: number; maxItems?: number } = {}): Input[] | undefined {
    const v = this.#get(key, rule.required);
    if (v === undefined) {
      return undefined;
    }
    if (!Array.isArray(v)) {
      throw invalidArgument(`${this.#name(key)} must be a list.`);
    }
    checkCount(this.#name(key), v.length, rule.minItems, rule.maxItems);
    return v.map((item, i) => new Input(item, `${this.#name(key)}[${i}]`));
  }

  /** A JSON object used as a string→string map. */
  strMap(key: string, rule: { required?: boolean; minItems?: number; key?: StrRule; value?: StrRule } = {}): Record<string, string> | undefined {
    const v = this.#get(key, rule.required);
    if (v === undefined) {
      return undefined;
    }
    if (typeof v !== 'object' || Array.isArray(v) || v === null) {
      throw invalidArgument(`${this.#name(key)} must be a map of strings.`);
    }
    const out: Record<string, string> = {};
    const entries = Object.entries(v as Record<string, unknown>);
    checkCount(this.#name(key), entries.length, rule.minItems, undefined);
    for (const [k, val] of entries) {
      checkString(k, `${this.#name(key)} key`, rule.key ?? {});
      if (typeof val !== 'string') {
        throw invalidArgument(`${this.#name(key)}.${k} must be a string.`);
      }
      checkString(val, `${this.#name(key)}.${k}`, rule.value ?? {});
      out[k] = val;
    }
    return out;
  }

  #get(key: string, required: boolean | undefined): unknown {
    const v = this.#obj[key];
    if (v === undefined || v === null) {
      if (required) {
        throw violation(this.#name(key), null, 'Member must not be null');
      }
      return undefined;
    }
    return v;
  }

  #name(key: string): string {
    return this.#path ? `${this.#path}.${key}` : key;
  }
}

export function checkString(v: string, name: string, rule: StrRule): void {
  const len = [...v].length;
  if ((rule.min !== undefined && len < rule.min) || (rule.max !== undefined && len > rule.max)) {
    throw violation(name, v, `Member must have length ${rangeText(rule.min, rule.max)}`);
  }
  if (rule.pattern !== undefined && !rule.pattern.test(v)) {
    throw violation(name, v, `Member must satisfy regular expression pattern: ${rule.pattern.source}`);
  }
}

function checkCount(name: string, n: number, min: number | undefined, max: number | undefined): void {
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    throw violation(name, `${n} items`, `Member must have length ${rangeText(min, max)}`);
  }
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) {
    return `between ${min} and ${max}, inclusive`;
  }
  return min !== undefined ? `greater than or equal to ${min}` : `less than or equal to ${max}`;
}

function violation(name: string, value: unknown, constraint: string): Error {
  const shown = typeof value === 'string' ? value.slice(0, 100) : JSON.stringify(value);
  return invalidArgument(`1 validation error detected: Value '${shown}' at '${name}' failed to satisfy constraint: ${constraint}`);
}
