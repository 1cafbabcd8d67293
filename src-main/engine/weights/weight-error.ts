export type WeightErrorCode =
  | 'not-found'
  | 'truncated'
  | 'bad-header'
  | 'bad-offsets'
  | 'unknown-dtype'
  | 'missing-tensor'
  | 'wrong-shape'
  | 'wrong-dtype'
  | 'bad-index'
  | 'disk-full'
  | 'cache-location';

/** A checkpoint problem, naming the file and (where there is one) the tensor, so the user knows what to re-download. */
export class WeightError extends Error {
  override readonly name = 'WeightError';
  constructor(
    readonly code: WeightErrorCode,
    readonly file: string,
    message: string,
    readonly tensor?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
