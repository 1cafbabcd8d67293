// Tiny runtime checks for payloads arriving from the renderer. The renderer is our code, but the main process
// treats it as untrusted input: a bad payload gets a typed 'invalid-request' error, never a crash.

export class PayloadError extends Error {
  override readonly name = 'PayloadError';
  readonly code = 'invalid-request';
}

export type Check<T> = (value: unknown, path: string) => T;

export const str =
  (opts: { max?: number; nonEmpty?: boolean } = {}): Check<string> =>
  (v, path) => {
    if (typeof v !== 'string') throw new PayloadError(`${path} must be text`);
    if (opts.nonEmpty && v.trim() === '') throw new PayloadError(`${path} must not be empty`);
    if (opts.max !== undefined && v.length > opts.max)
      throw new PayloadError(`${path} is longer than ${opts.max} characters`);
    return v;
  };

export const num =
  (opts: { min?: number; max?: number; int?: boolean } = {}): Check<number> =>
  (v, path) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new PayloadError(`${path} must be a number`);
    if (opts.int && !Number.isInteger(v)) throw new PayloadError(`${path} must be a whole number`);
    if (opts.min !== undefined && v < opts.min) throw new PayloadError(`${path} must be at least ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) throw new PayloadError(`${path} must be at most ${opts.max}`);
    return v;
  };

export const bool: Check<boolean> = (v, path) => {
  if (typeof v !== 'boolean') throw new PayloadError(`${path} must be true or false`);
  return v;
};

export const oneOf =
  <T extends string>(values: readonly T[]): Check<T> =>
  (v, path) => {
    if (!values.includes(v as T)) throw new PayloadError(`${path} must be one of ${values.join(', ')}`);
    return v as T;
  };

export const bytes =
  (opts: { maxBytes?: number } = {}): Check<Uint8Array> =>
  (v, path) => {
    if (!(v instanceof Uint8Array)) throw new PayloadError(`${path} must be bytes`);
    if (opts.maxBytes !== undefined && v.byteLength > opts.maxBytes)
      throw new PayloadError(`${path} is larger than ${opts.maxBytes} bytes`);
    return v;
  };

export const arr =
  <T>(item: Check<T>, opts: { max?: number } = {}): Check<T[]> =>
  (v, path) => {
    if (!Array.isArray(v)) throw new PayloadError(`${path} must be a list`);
    if (opts.max !== undefined && v.length > opts.max)
      throw new PayloadError(`${path} may hold at most ${opts.max} items`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };

export const tuple2 =
  <A, B>(a: Check<A>, b: Check<B>): Check<[A, B]> =>
  (v, path) => {
    if (!Array.isArray(v) || v.length !== 2) throw new PayloadError(`${path} must be a pair`);
    return [a(v[0], `${path}[0]`), b(v[1], `${path}[1]`)];
  };

type Shape = Record<string, Check<unknown>>;
type FromShape<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** An object with exactly these keys (extra keys are rejected: they are a sign of a contract mismatch). */
export const obj =
  <S extends Shape>(shape: S): Check<FromShape<S>> =>
  (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PayloadError(`${path} must be an object`);
    for (const k of Object.keys(v)) if (!(k in shape)) throw new PayloadError(`${path}.${k} is not expected`);
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape)) out[k] = check((v as Record<string, unknown>)[k], `${path}.${k}`);
    return out as FromShape<S>;
  };

/** Like obj, but every key is optional (for patches). */
export const partial =
  <S extends Shape>(shape: S): Check<Partial<FromShape<S>>> =>
  (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PayloadError(`${path} must be an object`);
    const out: Record<string, unknown> = {};
    for (const [k, value] of Object.entries(v)) {
      const check = shape[k];
      if (!check) throw new PayloadError(`${path}.${k} is not expected`);
      out[k] = check(value, `${path}.${k}`);
    }
    return out as Partial<FromShape<S>>;
  };

/** A key that may be absent (undefined passes unchecked). */
export const optional =
  <T>(check: Check<T>): Check<T | undefined> =>
  (v, path) =>
    v === undefined ? undefined : check(v, path);

/** Checks an argument list against per-position checks (extra arguments are rejected). */
export const args =
  (...checks: Check<unknown>[]) =>
  (raw: unknown[]): unknown[] => {
    if (raw.length > checks.length) throw new PayloadError(`expected ${checks.length} argument(s), got ${raw.length}`);
    return checks.map((c, i) => c(raw[i], `argument ${i + 1}`));
  };
