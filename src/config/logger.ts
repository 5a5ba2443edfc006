import { pino, type Logger } from 'pino';

/** Paths whose values never reach a log line (secrets, signatures, passwords, session ids). */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'consumerSecret',
  '*.consumerSecret',
  'oauth_consumer_secret',
  '*.oauth_consumer_secret',
  'tokenSecret',
  '*.tokenSecret',
  'oauth_token_secret',
  '*.oauth_token_secret',
  'accessTokenSecret',
  '*.accessTokenSecret',
  'imsClientSecret',
  '*.imsClientSecret',
  'clientSecret',
  '*.clientSecret',
  'client_secret',
  '*.client_secret',
  'access_token',
  '*.access_token',
  'oauth_signature',
  '*.oauth_signature',
  'signature',
  '*.signature',
  'oauth_verifier',
  '*.oauth_verifier',
  'sessionId',
  '*.sessionId',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/** `toStderr` keeps stdout for a command's own output (e.g. a JSON report). */
export function createLogger(options: { level?: string; name?: string; toStderr?: boolean } = {}): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    pino.destination(options.toStderr ? 2 : 1),
  );
}

export type { Logger };
