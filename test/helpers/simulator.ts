import { expect } from '@jest/globals';
import type { SimulatorOptions } from '../../src/simulator/app.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { startCallbackServer, type CallbackServer } from './callback-server.js';
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
