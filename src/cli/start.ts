import { createLogger } from '../config/logger.js';
import { closeOnSignals, configOrExit } from './lifecycle.js';
import { anotherPort, isPortInUse, portInUseMessage } from './port-in-use.js';
import { startConnector } from '../app/main.js';

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
  console.error(
    isPortInUse(error)
      ? await portInUseMessage({
          what: 'The connector',
          host: config.HOST,
          port: config.PORT,
          otherPort: `PORT=${anotherPort(config.PORT)} ${process.env.npm_lifecycle_event === 'start:prod' ? 'npm run start:prod' : 'npm start'} (or PORT in .env)`,
        })
      : `The connector could not start: ${(error as Error).message}`,
  );
  process.exit(1);
}
