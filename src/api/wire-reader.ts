/**
 * Type-checked reading of JSON request bodies: each accessor returns the field when present and
 * of the right JSON type, undefined when absent or null, and throws InvalidRequestContentException
 * naming the field otherwise.
 */
import { lambdaErrors, type LambdaError } from '../core/errors.js';
import { LIFTED_MARK, type LiftedBlob } from './json-blob-lifter.js';

/**
 * Parses a request body as a JSON object; an empty body is `{}`. `lifted`: the values taken out of
 * the body while it arrived (code uploads), which `blob` returns for their marks.
 */
export function parseJsonObject(body: Buffer, lifted: readonly LiftedBlob[] = []): WireObject {
  if (body.length === 0) return new WireObject({}, '', lifted);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw lambdaErrors.badJson(
      `Could not parse request body into json: ${error instanceof Error ? error.message : ''}`.trim(),
    );
  }
  if (!isPlainObject(parsed)) {
    throw lambdaErrors.badJson('Could not parse request body into json: expected a JSON object');
  }
  return new WireObject(parsed, '', lifted);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function wrongType(path: string, expected: string, value: unknown): LambdaError {
  const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
  return lambdaErrors.badJson(
    `Could not parse request body into json: ${path} must be ${expected}, got ${got}`,
  );
}

/** One JSON object of a request body, with its path for error messages. */
export class WireObject {
  readonly #value: Record<string, unknown>;
  readonly #path: string;
  readonly #lifted: readonly LiftedBlob[];

  constructor(value: Record<string, unknown>, path: string, lifted: readonly LiftedBlob[] = []) {
    this.#value = value;
    this.#path = path;
    this.#lifted = lifted;
  }

  #get(key: string): unknown {
    const value = this.#value[key];
    return value === null ? undefined : value;
  }

  #at(key: string): string {
    return this.#path === '' ? key : `${this.#path}.${key}`;
  }

  /** The object's member names. */
  keys(): string[] {
    return Object.keys(this.#value);
  }

  /** The raw value, for fields validated elsewhere (e.g. names, which have their own errors). */
  raw(key: string): unknown {
    return this.#get(key);
  }

  string(key: string): string | undefined {
    const value = this.#get(key);
    if (value === undefined || typeof value === 'string') return value;
    throw wrongType(this.#at(key), 'a string', value);
  }

  integer(key: string): number | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    throw wrongType(this.#at(key), 'a whole number', value);
  }

  boolean(key: string): boolean | undefined {
    const value = this.#get(key);
    if (value === undefined || typeof value === 'boolean') return value;
    throw wrongType(this.#at(key), 'true or false', value);
  }

  object(key: string): WireObject | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (isPlainObject(value)) return new WireObject(value, this.#at(key), this.#lifted);
    throw wrongType(this.#at(key), 'an object', value);
  }

  stringList(key: string): string[] | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      return value;
    }
    throw wrongType(this.#at(key), 'a list of strings', value);
  }

  objectList(key: string): WireObject[] | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (Array.isArray(value) && value.every(isPlainObject)) {
      return value.map((item, i) => new WireObject(item, `${this.#at(key)}[${i}]`, this.#lifted));
    }
    throw wrongType(this.#at(key), 'a list of objects', value);
  }

  stringMap(key: string): Record<string, string> | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    if (isPlainObject(value) && Object.values(value).every((v) => typeof v === 'string')) {
      return value as Record<string, string>;
    }
    throw wrongType(this.#at(key), 'a map of strings to strings', value);
  }

  /** A base64 blob (`ZipFile`), decoded; rejects text that is not base64. */
  blob(key: string): Buffer | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    if (text.startsWith(LIFTED_MARK)) {
      const lifted = this.#lifted[Number(text.slice(LIFTED_MARK.length))];
      if (lifted !== undefined) return lifted.bytes ?? this.#notBase64(key);
    }
    const compact = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
      return this.#notBase64(key);
    }
    return Buffer.from(compact, 'base64');
  }

  #notBase64(key: string): never {
    throw lambdaErrors.badJson(
      `Could not parse request body into json: ${this.#at(key)} is not valid base64`,
    );
  }
}
