// Small runtime checks for data that crosses a trust boundary: a project file read from disk, or a project
// sent by the renderer. They throw SchemaError naming the exact place (`manifest.results[3].recipe.seed`);
// callers turn it into their own error ('corrupt-file' for a file, 'invalid-request' for an IPC payload).

export class SchemaError extends Error {
  override readonly name = 'SchemaError';
  constructor(
    readonly at: string,
    problem: string,
  ) {
    super(`${at} ${problem}`);
  }
}

export type Check<T> = (value: unknown, at: string) => T;

export const text =
  (opts: { max: number; pattern?: RegExp; what?: string }): Check<string> =>
  (v, at) => {
    if (typeof v !== 'string') throw new SchemaError(at, 'must be text');
    if (v.length > opts.max) throw new SchemaError(at, `is longer than ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(v))
      throw new SchemaError(at, `must be ${opts.what ?? `like ${String(opts.pattern)}`}`);
    return v;
  };

export const num =
  (opts: { min: number; max: number; int?: boolean }): Check<number> =>
  (v, at) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SchemaError(at, 'must be a number');
    if (opts.int && !Number.isInteger(v)) throw new SchemaError(at, 'must be a whole number');
    if (v < opts.min || v > opts.max) throw new SchemaError(at, `must be from ${opts.min} to ${opts.max}`);
    return v;
  };

export const bool: Check<boolean> = (v, at) => {
  if (typeof v !== 'boolean') throw new SchemaError(at, 'must be true or false');
  return v;
};

export const oneOf =
  <T extends string>(values: readonly T[]): Check<T> =>
  (v, at) => {
    if (!values.includes(v as T)) throw new SchemaError(at, `must be one of ${values.join(', ')}`);
    return v as T;
  };

export const nullable =
  <T>(check: Check<T>): Check<T | null> =>
  (v, at) =>
    v === null ? null : check(v, at);

/** A key that may be absent (undefined passes unchecked). */
export const optional =
  <T>(check: Check<T>): Check<T | undefined> =>
  (v, at) =>
    v === undefined ? undefined : check(v, at);

export const list =
  <T>(item: Check<T>, opts: { max: number }): Check<T[]> =>
  (v, at) => {
    if (!Array.isArray(v)) throw new SchemaError(at, 'must be a list');
    if (v.length > opts.max) throw new SchemaError(at, `may hold at most ${opts.max} items`);
    return v.map((x, i) => item(x, `${at}[${i}]`));
  };

export const pair =
  <T>(item: Check<T>): Check<[T, T]> =>
  (v, at) => {
    if (!Array.isArray(v) || v.length !== 2) throw new SchemaError(at, 'must be a pair');
    return [item(v[0], `${at}[0]`), item(v[1], `${at}[1]`)];
  };

type Shape = Record<string, Check<unknown>>;
type FromShape<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** An object with exactly these keys: an unknown key means the data was written for another schema. */
export const shape =
  <S extends Shape>(fields: S): Check<FromShape<S>> =>
  (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(at, 'must be an object');
    for (const k of Object.keys(v)) if (!(k in fields)) throw new SchemaError(`${at}.${k}`, 'is not expected');
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(fields)) out[k] = check((v as Record<string, unknown>)[k], `${at}.${k}`);
    return out as FromShape<S>;
  };

export const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Ids double as file names (recovery files), so they are restricted to characters safe on every platform. */
export const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** ISO 8601 with time zone, as Date.prototype.toISOString writes it. */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

export const hash = text({ max: 64, pattern: SHA256_HEX, what: 'a sha256 hex digest' });
export const id = text({ max: 64, pattern: ID, what: 'an id of 1-64 letters, digits, - or _' });
export const time = text({ max: 40, pattern: ISO_TIME, what: 'an ISO 8601 time' });
