import { manualIntegrationRecord } from '../../src/activation/register-store.js';
import type { SimulatorOptions } from '../../src/simulator/app.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import type { Storage } from '../../src/storage/types.js';
import { startTestConnector } from './connector.js';
import { manualIntegration } from './simulator.js';

export type TestConnector = Awaited<ReturnType<typeof startTestConnector>>;

/**
 * A store linked to the connector without the handshake: a manual integration in the simulator whose
 * four credentials are stored as an active integration (what a finished activation leaves).
 */
export async function linkSimulatorStore(storage: Storage, sim: RunningSimulator): Promise<string> {
  const { credentials } = await manualIntegration(sim.url, 'all');
  const record = manualIntegrationRecord(
    {
      storeBaseUrl: `${sim.url}/`,
      consumerKey: credentials.consumerKey,
      consumerSecret: credentials.consumerSecret,
      accessToken: credentials.token,
      accessTokenSecret: credentials.tokenSecret,
      signatureMethod: 'HMAC-SHA256',
    },
    new Date().toISOString(),
  );
  await storage.integrations.create(record);
  return credentials.consumerKey;
}

export interface LinkedTestConnector {
  sim: RunningSimulator;
  t: TestConnector;
  /** The linked store's consumer key. */
  store: string;
}

/** A simulator with this data, a test connector with this environment, and the store linked to it. */
export async function linkTestConnector(
  data: SimulatorOptions,
  env: Record<string, string> = {},
  overrides: Parameters<typeof startTestConnector>[1] = {},
): Promise<LinkedTestConnector> {
  const sim = await startSimulator({ port: 0, ...data });
  const t = await startTestConnector(env, overrides);
  const store = await linkSimulatorStore(t.connector.storage, sim);
  return { sim, t, store };
}
