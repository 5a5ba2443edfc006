import { expect } from '@jest/globals';
import type { SimulatorOptions } from '../../src/simulator/app.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { startCallbackServer, type CallbackServer } from './callback-server.js';
import type { OAuthCredentials } from '../../src/oauth1/index.js';
import { adminJson } from './http.js';

/** A simulator on a free loopback port plus an endpoint URL that records the store's POSTs. */
export async function startStoreAndEndpoint(
  options: SimulatorOptions = {},
): Promise<{ sim: RunningSimulator; callback: CallbackServer; close: () => Promise<void> }> {
  const sim = await startSimulator({ port: 0, products: 20, customers: 5, orders: 5, ...options });
  const callback = await startCallbackServer();
  return {
    sim,
    callback,
    close: async () => {
      await sim.close();
      await callback.close();
    },
  };
}

/**
 * Every OAuth request the simulator saw, verified or refused, carried a nonce its consumer had not
 * used before. (The simulator's nonce table is unique by construction; its request log is not.)
 */
export async function expectNoNonceReused(base: string): Promise<void> {
  const log = (
    await adminJson<{ consumerKey: string | null; nonce: string | null }[]>(base, 'GET', '/oauth-log')
  ).body;
  const pairs = log.filter((e) => e.nonce !== null).map((e) => `${e.consumerKey}:${e.nonce}`);
  expect(pairs.length).toBeGreaterThan(0);
  expect(new Set(pairs).size).toBe(pairs.length);
}

let counter = 0;

/** A manual integration (no identity link): Activate shows all four credentials at once. */
export async function manualIntegration(
  base: string,
  resources: string[] | 'all' = ['Magento_Catalog::products', 'Magento_Backend::stores'],
): Promise<{ id: number; credentials: Required<OAuthCredentials> }> {
  const created = await adminJson<{ id: number }>(base, 'POST', '/integrations', {
    name: `Manual integration ${++counter}`,
    email: 'dev@example.com',
    ...(resources === 'all' ? { all_resources: true } : { resources }),
  });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  const activated = await adminJson<{
    credentials?: Record<'consumer_key' | 'consumer_secret' | 'access_token' | 'access_token_secret', string>;
  }>(base, 'POST', `/integrations/${created.body.id}/activate`, {});
  const c = activated.body.credentials;
  if (!c) throw new Error(`activate: ${activated.status} ${JSON.stringify(activated.body)}`);
  return {
    id: created.body.id,
    credentials: {
      consumerKey: c.consumer_key,
      consumerSecret: c.consumer_secret,
      token: c.access_token,
      tokenSecret: c.access_token_secret,
    },
  };
}
