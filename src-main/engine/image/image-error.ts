export type ImageErrorCode =
  | 'unreadable' // not an image sharp can decode (corrupt, truncated, unknown format, missing file)
  | 'bad-size' // dimensions outside what a preprocessing rule accepts
  | 'bad-argument' // a parameter or buffer that does not match its declared shape
  | 'bad-png'; // bytes that are not a well-formed PNG chunk stream

/** An image problem; `code` is what callers switch on, `message` names the image and what was wrong. */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    readonly code: ImageErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
