import { loadConfig, type Config } from '../config/config.js';
import type { Logger } from '../config/logger.js';

/** The validated configuration, or a message naming the bad variable and exit code 2. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
}

/** Ctrl-C or SIGTERM closes the server cleanly, then exits. */
export function closeOnSignals(close: () => Promise<void>, logger: Logger): void {
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
