/**
 * The base of the connector's own errors, in a place every layer may import. `code` is stable: callers,
 * tests and logs tell causes apart by it, never by the message. `message` is one sentence for whoever
 * caused the error, naming the likely cause and the fix.
 *
 * Nothing here knows HTTP: the web edge (src/web/error-answers.ts) maps each code to a status, so a
 * route in activation/ or sync/ throws the domain's error and never picks a status itself. A subclass
 * with fixed codes declares them (`declare readonly code: 'a' | 'b'`), which lets the edge's map be
 * checked for a missing code at compile time.
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
