/**
 * An engine failure with a code the UI can act on. It lives at the engine's root so that graph builders, the
 * pipeline and the host can all raise it; the host turns it into data at the process boundary (host/failure.ts).
 */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: string,
    message: string,
    readonly detail?: Record<string, string | number | boolean>,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
