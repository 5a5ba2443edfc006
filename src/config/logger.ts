import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

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

/** A stream as far as choosing a log format goes. */
export interface LogTarget {
  isTTY?: boolean;
}

/**
 * Readable lines for a person at a terminal in development; JSON everywhere else (files, pipes, log
 * collectors) and always in production, where a collector parses every line.
 */
export function logFormat(nodeEnv: string | undefined, target: LogTarget): 'pretty' | 'json' {
  return nodeEnv === 'development' && target.isTTY === true ? 'pretty' : 'json';
}

/**
 * `toStderr` keeps stdout for a command's own output (e.g. a JSON report). `nodeEnv` (the config's
 * NODE_ENV) allows pretty output on a terminal; without it the lines are JSON. `destination` replaces
 * the standard stream (tests).
 */
export function createLogger(
  options: {
    level?: string;
    name?: string;
    toStderr?: boolean;
    nodeEnv?: string;
    destination?: DestinationStream & LogTarget;
  } = {},
): Logger {
  const target: LogTarget = options.destination ?? (options.toStderr ? process.stderr : process.stdout);
  const settings = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (logFormat(options.nodeEnv, target) === 'pretty') {
    // In this thread and synchronous: a line is on the terminal before the next statement runs.
    return pino(
      settings,
      pretty({
        destination: options.destination ?? (options.toStderr ? 2 : 1),
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
      }),
    );
  }
  return pino(settings, options.destination ?? pino.destination(options.toStderr ? 2 : 1));
}

export type { Logger };
