import type { SimulatorOptions } from '../../src/simulator/app.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { startCallbackServer, type CallbackServer } from './callback-server.js';

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
