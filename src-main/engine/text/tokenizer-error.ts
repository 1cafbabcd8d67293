export type TokenizerErrorCode =
  'not-found' | 'corrupt' | 'missing-special-token' | 'no-chat-template' | 'bad-chat-template';

/**
 * A problem with a model's tokenizer files, naming the file (or the processor folder) so the user knows what
 * to re-download. `code` is what callers switch on; `message` is for logs.
 */
export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
  constructor(
    readonly code: TokenizerErrorCode,
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
