import { createLogger } from '../config/logger.js';
import { closeOnSignals, configOrExit } from './lifecycle.js';
import { startConnector } from '../web/connector.js';

const config = configOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, name: 'connector', nodeEnv: config.NODE_ENV });

try {
  const connector = await startConnector(config, logger);
  console.log(`
  Magento connector
    Dashboard:          ${connector.publicUrl}/
    Endpoint URL:       ${connector.publicUrl}/magento/callback      (the integration's Callback URL)
    Identity link URL:  ${connector.publicUrl}/magento/identity      (the integration's Identity link URL)
    Data:               ${config.DATA_DIR}/
  Press Ctrl-C to stop.
`);
  closeOnSignals(connector.close, logger);
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  console.error(
    e.code === 'EADDRINUSE'
      ? `Port ${config.PORT} on ${config.HOST} is already in use. Stop the other process or set PORT.`
      : `The connector could not start: ${e.message}`,
  );
  process.exit(1);
}
