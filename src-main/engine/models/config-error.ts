import { readFileSync } from 'node:fs';

/**
 * A model config file that cannot describe its component, naming the offending key ('' for the file as a
 * whole) and the file. Each component throws its own subclass so callers and tests can tell them apart.
 */
export abstract class ModelConfigError extends Error {
  constructor(
    readonly key: string,
    readonly source: string,
    message: string,
  ) {
    super(message);
  }
}

/** A concrete component error class (DitConfigError, VaeConfigError, …). */
export type ModelConfigErrorClass = new (key: string, source: string, message: string) => ModelConfigError;

export type JsonObject = Record<string, unknown>;

/** Throws the component's error for `key`; the message leads with the file so the user knows which one to fix. */
export type ConfigFail = (key: string, why: string) => never;

export const isJsonObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses the JSON file at `path`; a missing, unreadable or malformed file becomes `ErrorClass` with key ''.
 * `what` ("the VAE config") tells the user which file of the model folder it was.
 */
export function readConfigFile(path: string, ErrorClass: ModelConfigErrorClass, what?: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ErrorClass(
      '',
      path,
      `cannot read ${what === undefined ? '' : `${what} `}${path}: ${(e as Error).message}`,
    );
  }
}

/** The parsed config as an object, or `ErrorClass` with key '' (a list or scalar cannot hold named fields). */
export function requireJsonObject(json: unknown, source: string, ErrorClass: ModelConfigErrorClass): JsonObject {
  if (!isJsonObject(json)) throw new ErrorClass('', source, `${source} is not a JSON object`);
  return json;
}

export function configFail(source: string, ErrorClass: ModelConfigErrorClass): ConfigFail {
  return (key, why) => {
    throw new ErrorClass(key, source, `${source}: "${key}" ${why}`);
  };
}

/** A required finite number under `key`, optionally an integer and/or at least `min`. */
export function requireNumber(
  value: unknown,
  key: string,
  fail: ConfigFail,
  rule: { int?: boolean; min?: number } = {},
): number {
  if (value === undefined) return fail(key, 'is missing');
  if (typeof value !== 'number' || !Number.isFinite(value))
    return fail(key, `must be a number, got ${JSON.stringify(value)}`);
  if (rule.int && !Number.isInteger(value)) fail(key, `must be an integer, got ${value}`);
  if (rule.min !== undefined && value < rule.min) fail(key, `must be ≥ ${rule.min}, got ${value}`);
  return value;
}
