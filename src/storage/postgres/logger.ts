/** The part of a pino logger the PostgreSQL adapter uses; a plain object works too. */
export interface PgLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export const silentLogger: PgLogger = { info: () => {}, warn: () => {}, error: () => {} };
