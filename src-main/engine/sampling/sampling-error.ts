export type SamplingErrorCode =
  | 'bad-argument' // a schedule/guidance/RNG parameter out of its domain
  | 'shape-mismatch' // tensors handed to a step disagree in length
  | 'out-of-order' // a stateful solver/cache was driven in the wrong order
  | 'empty-cache'; // a cached value was requested before any was stored

/** A misuse of the sampling math; `code` is what callers switch on, `message` says what was wrong. */
export class SamplingError extends Error {
  override readonly name = 'SamplingError';
  constructor(
    readonly code: SamplingErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Throws unless every array has the length of the first (element-wise sampling math, names in the message). */
export function checkSameLength(what: string, arrays: Readonly<Record<string, ArrayLike<number>>>): number {
  const entries = Object.entries(arrays);
  const n = entries[0]![1].length;
  for (const [name, a] of entries) {
    if (a.length !== n) {
      const lengths = entries.map(([k, v]) => `${k}=${v.length}`).join(', ');
      throw new SamplingError('shape-mismatch', `${what}: lengths differ (${lengths}); "${name}" does not match`);
    }
  }
  return n;
}
